// libFuzzer target: one request body -> every body decoder of the API
// (message, batch, queue settings, consumer, pull and ack shapes). Each must
// return or throw api_error; nothing else.
#include <cstdint>
#include <string_view>

#include "server/api_error.hpp"
#include "server/handlers/messages.hpp"
#include "server/rules.hpp"

using namespace flareq;

namespace {

template <class Fn>
void expect_clean(Fn fn) {
  try {
    fn();
  } catch (const api_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  boost::json::value body;
  try {
    body = parse_json_body(text, true);
  } catch (const api_error&) {
    return 0;
  }
  expect_clean([&] { handlers::parse_message(body, 86400); });
  expect_clean([&] { handlers::parse_batch(body, 86400); });
  expect_clean([&] { read_consumer_input(body, 86400); });
  if (const auto* obj = body.if_object()) {
    expect_clean([&] { read_queue_settings(*obj, {}, 86400); });
    expect_clean([&] {
      optional_int(*obj, "batch_size", 1, 100, errc::body_invalid);
      optional_int(*obj, "visibility_timeout_ms", 1, 43'200'000, errc::body_invalid);
      optional_string(*obj, "lease_id", errc::body_invalid);
      optional_bool(*obj, "delete_messages_permanently", errc::control_body_invalid);
    });
  }
  return 0;
}
