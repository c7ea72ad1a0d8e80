# Writes OUTPUT, a C++ file that defines flareq::dashboard_files() from the
# files in INPUTS (joined with "|"), each with the content type its
# extension gives.
string(REPLACE "|" ";" INPUTS "${INPUTS}")
set(body "")
foreach(input IN LISTS INPUTS)
  get_filename_component(name ${input} NAME)
  get_filename_component(ext ${input} LAST_EXT)
  if(ext STREQUAL ".html")
    set(type "text/html; charset=utf-8")
  elseif(ext STREQUAL ".js")
    set(type "text/javascript; charset=utf-8")
  elseif(ext STREQUAL ".css")
    set(type "text/css; charset=utf-8")
  elseif(ext STREQUAL ".svg")
    set(type "image/svg+xml")
  else()
    message(FATAL_ERROR "embed_files: no content type for ${name}")
  endif()
  file(READ ${input} text)
  string(FIND "${text}" ")flareq_file\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "embed_files: ${name} holds the raw string's delimiter")
  endif()
  string(APPEND body "      {\"${name}\", \"${type}\", R\"flareq_file(${text})flareq_file\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp
"// Generated from server/ui/ by cmake/embed_files.cmake. Do not edit.
#include \"server/handlers/observe.hpp\"

namespace flareq {

const std::vector<embedded_file>& dashboard_files() {
  static const std::vector<embedded_file> all = {
${body}  };
  return all;
}

}  // namespace flareq
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
