// Schema migrations: the numbered files of schema/, embedded at build time,
// applied in order inside one transaction each, with PRAGMA user_version
// recording the last one applied. Called once at start-up, before any other
// thread touches the database.
#pragma once

#include <string_view>
#include <vector>

namespace flareq::storage {

class database;

struct migration {
  int version;            // the number the file name starts with
  std::string_view name;  // the file name, for messages
  std::string_view sql;
};

// Returns the migrations compiled into this binary, oldest first.
const std::vector<migration>& embedded_migrations();

// Returns the version the embedded migrations lead to.
int latest_schema_version();

// Returns the database's PRAGMA user_version.
int schema_version(database& db);

// Applies every embedded migration newer than the database's version. Throws
// database_error when one fails (that migration is rolled back) or when the
// database is newer than this binary knows.
void migrate(database& db);

}  // namespace flareq::storage
