// Migrations of an empty database, idempotence, and a too-new database.
#include "storage/migrate.hpp"

#include <gtest/gtest.h>

#include "storage/database.hpp"
#include "tests/support/temp_dir.hpp"

namespace flareq::storage {
namespace {

bool table_exists(database& db, const std::string& name) {
  auto q = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
  q->bind(1, name);
  return q->step();
}

TEST(migrate_test, embedded_migrations_are_numbered_in_order) {
  const auto& all = embedded_migrations();
  ASSERT_FALSE(all.empty());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].version, static_cast<int>(i + 1)) << all[i].name;
  }
}

TEST(migrate_test, migrates_an_empty_database) {
  test::temp_dir dir;
  database db = database::open(dir.file("x.db"));
  EXPECT_EQ(schema_version(db), 0);
  migrate(db);
  EXPECT_EQ(schema_version(db), latest_schema_version());
  EXPECT_TRUE(table_exists(db, "queues"));
  EXPECT_TRUE(table_exists(db, "messages"));
  // A second run changes nothing.
  migrate(db);
  EXPECT_EQ(schema_version(db), latest_schema_version());
}

TEST(migrate_test, pragmas_are_set) {
  test::temp_dir dir;
  database db = database::open(dir.file("x.db"));
  auto mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode->step());
  EXPECT_EQ(mode->column_text(0), "wal");
  auto sync = db.prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync->step());
  EXPECT_EQ(sync->column_int64(0), 2);  // FULL
  auto fk = db.prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(fk->step());
  EXPECT_EQ(fk->column_int64(0), 1);
}

TEST(migrate_test, refuses_a_newer_database) {
  test::temp_dir dir;
  database db = database::open(dir.file("x.db"));
  db.exec("PRAGMA user_version = " + std::to_string(latest_schema_version() + 1));
  EXPECT_THROW(migrate(db), database_error);
}

TEST(migrate_test, open_creates_the_folder) {
  test::temp_dir dir;
  database db = database::open(dir.file("a/b/c.db"));
  migrate(db);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "a/b/c.db"));
}

TEST(migrate_test, open_refuses_a_file_that_is_not_a_database) {
  test::temp_dir dir;
  {
    std::FILE* f = std::fopen(dir.file("junk.db").c_str(), "w");
    std::fputs("this is not an SQLite database, but it is long enough to look like one......", f);
    std::fclose(f);
  }
  EXPECT_THROW(database::open(dir.file("junk.db")), database_error);
}

}  // namespace
}  // namespace flareq::storage
