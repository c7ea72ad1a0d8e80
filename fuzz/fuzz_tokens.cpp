// libFuzzer target: the small decoders of untrusted strings: lease ids,
// peek refs, identifiers, request targets (routes and query strings) and
// credential headers.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/auth.hpp"
#include "server/base64.hpp"
#include "server/handlers/query.hpp"
#include "server/router.hpp"
#include "storage/queue_store.hpp"

using namespace flareq;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (auto id = storage::lease_message_id(text)) {
    if (id->size() != 32) __builtin_trap();
  }
  if (auto id = storage::ref_message_id(text)) {
    if (storage::message_ref(*id) != text) __builtin_trap();
  }
  is_valid_identifier(text);
  static router* r = [] {
    auto* made = new router();
    made->add("POST", "/accounts/:account_id/queues/:queue_id/messages", 0);
    made->add("GET", "/accounts/:account_id/queues/:queue_id/consumers/:consumer_id", 1);
    return made;
  }();
  route_match m = r->match("POST", text);
  if (m.result == route_match::outcome::found && !is_valid_identifier(m.params.get("queue_id"))) {
    __builtin_trap();
  }
  handlers::query_values(text, "name");
  try {
    handlers::query_whole_number(text, "page", 1, 1000);
  } catch (const api_error&) {
  }
  std::vector<std::string> tokens = {"tok"};
  check_credentials({text, std::nullopt, std::nullopt}, tokens);
  check_credentials({std::nullopt, text, text}, {});
  base64_encode(text);
  return 0;
}
