// The envelope: exact bytes of success and failure bodies.
#include "server/envelope.hpp"

#include <gtest/gtest.h>

#include <boost/json/object.hpp>

#include "server/handlers/messages.hpp"

namespace flareq {
namespace {

TEST(envelope_test, success_wraps_the_result) {
  EXPECT_EQ(render_success(boost::json::object{{"a", 1}}),
            R"({"success":true,"errors":[],"messages":[],"result":{"a":1}})");
  EXPECT_EQ(render_success(nullptr), R"({"success":true,"errors":[],"messages":[],"result":null})");
}

TEST(envelope_test, push_result_shape) {
  storage::queue_metrics m{12, 3, 1795981552123};
  EXPECT_EQ(
      render_success(handlers::metrics_result(m)),
      R"({"success":true,"errors":[],"messages":[],"result":{"metadata":{"metrics":)"
      R"({"backlog_bytes":12,"backlog_count":3,"oldest_message_timestamp_ms":1795981552123}}}})");
}

TEST(envelope_test, failure_has_null_result) {
  EXPECT_EQ(render_failure(api_error(errc::queue_does_not_exist)),
            R"({"success":false,"errors":[{"code":10104,"message":"Queue does not exist"}],)"
            R"("messages":[],"result":null})");
}

TEST(envelope_test, detail_follows_the_message) {
  api_error e(errc::body_invalid, "body is required");
  EXPECT_EQ(e.status(), 400);
  EXPECT_EQ(render_failure(e),
            R"({"success":false,"errors":[{"code":10207,"message":"Request body does not match )"
            R"(the expected schema: body is required"}],"messages":[],"result":null})");
}

TEST(envelope_test, error_chain) {
  auto e = api_error::invalid_headers({{6111, "Invalid format for Authorization header", {}}});
  EXPECT_EQ(
      render_failure(e),
      R"({"success":false,"errors":[{"code":6003,"message":"Invalid request headers",)"
      R"("error_chain":[{"code":6111,"message":"Invalid format for Authorization header"}]}],)"
      R"("messages":[],"result":null})");
}

TEST(envelope_test, no_route_names_the_path) {
  auto e = api_error::no_route("/accounts/a/queues/bad.id/messages");
  EXPECT_EQ(e.status(), 400);
  EXPECT_EQ(render_failure(e),
            R"({"success":false,"errors":[{"code":7003,"message":"Could not route to )"
            R"(/accounts/a/queues/bad.id/messages, perhaps your object identifier is invalid?"},)"
            R"({"code":7000,"message":"No route for that URI"}],"messages":[],"result":null})");
}

TEST(envelope_test, status_table) {
  EXPECT_EQ(api_error(errc::missing_credentials).status(), 400);
  EXPECT_EQ(api_error(errc::authentication).status(), 403);
  EXPECT_EQ(api_error(errc::method_not_allowed).status(), 405);
  EXPECT_EQ(api_error(errc::message_too_large).status(), 413);
  EXPECT_EQ(api_error(errc::request_too_large).status(), 413);
  EXPECT_EQ(api_error(errc::queue_does_not_exist).status(), 404);
  EXPECT_EQ(api_error(errc::queue_name_taken).status(), 409);
  EXPECT_EQ(api_error(errc::internal).status(), 500);
  EXPECT_EQ(api_error(errc::internal).errors().front().code, 15000);
}

// The rows taken from Cloudflare's published codes (decisions.md, Errors).
TEST(envelope_test, sourced_codes) {
  struct row {
    errc code;
    int status;
    int cf_code;
  };
  for (const row& r :
       {row{errc::queue_settings_invalid, 400, 100128},
        row{errc::consumer_settings_invalid, 400, 100127},
        row{errc::batch_delay_invalid, 400, 10202}, row{errc::queue_id_malformed, 400, 10107},
        row{errc::query_invalid, 400, 10026}, row{errc::subscription_not_found, 404, 11000},
        row{errc::queue_does_not_exist, 404, 10104}, row{errc::method_not_allowed, 405, 10405}}) {
    api_error e(r.code);
    EXPECT_EQ(e.status(), r.status) << r.cf_code;
    EXPECT_EQ(e.errors().front().code, r.cf_code);
  }
  EXPECT_EQ(api_error(errc::queue_id_malformed).errors().front().message, "Malformed queue ID");
}

}  // namespace
}  // namespace flareq
