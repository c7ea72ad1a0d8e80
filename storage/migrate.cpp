// Applies schema/*.sql by PRAGMA user_version (see migrate.hpp).
#include "storage/migrate.hpp"

#include <sqlite3.h>

#include <string>

#include "storage/database.hpp"

namespace flareq::storage {

int latest_schema_version() {
  const auto& all = embedded_migrations();
  return all.empty() ? 0 : all.back().version;
}

int schema_version(database& db) {
  auto q = db.prepare("PRAGMA user_version");
  q->step();
  return static_cast<int>(q->column_int64(0));
}

void migrate(database& db) {
  int current = schema_version(db);
  if (current > latest_schema_version()) {
    throw database_error(SQLITE_ERROR, "database schema version " + std::to_string(current) +
                                           " is newer than this flareq knows (" +
                                           std::to_string(latest_schema_version()) + ")");
  }
  for (const migration& m : embedded_migrations()) {
    if (m.version <= current) continue;
    transaction tx(db);
    try {
      db.exec(m.sql);
    } catch (const database_error& e) {
      throw database_error(e.code(), std::string(m.name) + ": " + e.what());
    }
    db.exec("PRAGMA user_version = " + std::to_string(m.version));
    tx.commit();
  }
}

}  // namespace flareq::storage
