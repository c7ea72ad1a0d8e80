// In-process server for end-to-end tests (see test_server.hpp).
#include "tests/support/test_server.hpp"

#include "server/instance.hpp"

namespace flareq::test {

test_server::test_server(const std::function<void(config&)>& adjust) {
  settings_.host = "127.0.0.1";
  settings_.port = 0;
  settings_.db = dir_.file("flareq.db");
  settings_.level = log_level::warn;
  if (adjust) adjust(settings_);
  start();
}

test_server::~test_server() {
  stop();
}

void test_server::start() {
  instance_ = std::make_unique<instance>(settings_, log_, clock_, random_);
  port_ = instance_->start(false);
}

void test_server::stop() {
  if (instance_) instance_->stop();
  instance_.reset();
}

void test_server::restart() {
  stop();
  start();
}

}  // namespace flareq::test
