// Faults on demand (POST /_flareq/faults): rules that make matching API
// requests fail, slow down, or lose their answer, for testing clients'
// retries. Dice come from a generator seeded at start-up (--seed), so the
// same requests on the same seed fire the same rules. Safe from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/ids.hpp"

namespace flareq {

enum class fault_action {
  error,        // answer an error instead (nothing is stored)
  latency,      // wait, then handle as usual
  close,        // close the connection without an answer (nothing is stored)
  answer_lost,  // handle as usual (stored), then close without the answer
};

std::string_view to_string(fault_action action);
std::optional<fault_action> parse_fault_action(std::string_view text);

struct fault_rule {
  std::string id;  // given by add()
  // What it matches; "" matches anything.
  std::string method;  // "POST"
  std::string route;   // a route name: push, pull, queues, ...
  std::string account_id;
  std::string queue_id;
  fault_action action = fault_action::error;
  int status = 500;  // error: the answer's status, code and message
  int code = 15000;
  std::string message = "Injected fault";
  std::int64_t latency_ms = 0;        // latency
  double probability = 1.0;           // 0..1: the chance a matching request fires it
  std::optional<std::int64_t> times;  // fires at most this often
  std::int64_t fired = 0;             // how often it has fired
};

class fault_rules {
 public:
  explicit fault_rules(std::uint64_t seed) : dice_(seed) {}

  // Adds a rule (its id given here) and returns it.
  fault_rule add(fault_rule rule);
  std::vector<fault_rule> list() const;
  // Removes one rule; false when there is none of that id.
  bool remove(const std::string& id);
  // Removes every rule; returns how many there were.
  std::size_t clear();
  // The first rule that matches the request and fires (counted), if any.
  // A matching rule with a probability below 1 rolls the dice each time.
  std::optional<fault_rule> draw(std::string_view method, std::string_view route,
                                 std::string_view account_id, std::string_view queue_id);

 private:
  double roll();  // in [0, 1); mutex_ held

  mutable std::mutex mutex_;
  std::atomic<std::size_t> count_{0};  // rules_.size(): draw() takes no lock while 0
  std::vector<fault_rule> rules_;      // guarded by mutex_
  storage::seeded_random dice_;        // its own lock; drawn under mutex_, so in rule order
  std::uint64_t next_id_ = 1;          // guarded by mutex_
};

}  // namespace flareq
