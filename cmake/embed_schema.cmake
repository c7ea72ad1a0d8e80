# Writes OUTPUT, a C++ file that defines flareq::storage::embedded_migrations()
# from the SQL files in INPUTS, joined with "|" (sorted; each name starts with
# its version number).
string(REPLACE "|" ";" INPUTS "${INPUTS}")
set(body "")
set(index 0)
foreach(input IN LISTS INPUTS)
  get_filename_component(name ${input} NAME)
  string(REGEX MATCH "^[0-9]+" version ${name})
  math(EXPR version "${version}")
  file(READ ${input} sql)
  string(APPEND body "      {${version}, \"${name}\", R\"flareq_sql(${sql})flareq_sql\"},\n")
  math(EXPR index "${index} + 1")
endforeach()
file(WRITE ${OUTPUT}.tmp
"// Generated from schema/*.sql by cmake/embed_schema.cmake. Do not edit.
#include \"storage/migrate.hpp\"

namespace flareq::storage {

const std::vector<migration>& embedded_migrations() {
  static const std::vector<migration> all = {
${body}  };
  return all;
}

}  // namespace flareq::storage
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
