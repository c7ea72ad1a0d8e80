// Fault rules (see faults.hpp).
#include "server/faults.hpp"

#include <array>
#include <utility>

namespace flareq {
namespace {

constexpr std::array<std::pair<fault_action, std::string_view>, 4> action_names = {{
    {fault_action::error, "error"},
    {fault_action::latency, "latency"},
    {fault_action::close, "close"},
    {fault_action::answer_lost, "answer_lost"},
}};

bool matches(std::string_view wanted, std::string_view given) {
  return wanted.empty() || wanted == given;
}

}  // namespace

std::string_view to_string(fault_action action) {
  for (const auto& [a, name] : action_names) {
    if (a == action) return name;
  }
  return "error";
}

std::optional<fault_action> parse_fault_action(std::string_view text) {
  for (const auto& [a, name] : action_names) {
    if (name == text) return a;
  }
  return std::nullopt;
}

fault_rule fault_rules::add(fault_rule rule) {
  std::lock_guard lock(mutex_);
  rule.id = std::to_string(next_id_++);
  rule.fired = 0;
  rules_.push_back(rule);
  count_.store(rules_.size());
  return rule;
}

std::vector<fault_rule> fault_rules::list() const {
  std::lock_guard lock(mutex_);
  return rules_;
}

bool fault_rules::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  bool removed = std::erase_if(rules_, [&](const fault_rule& r) { return r.id == id; }) > 0;
  count_.store(rules_.size());
  return removed;
}

std::size_t fault_rules::clear() {
  std::lock_guard lock(mutex_);
  std::size_t n = rules_.size();
  rules_.clear();
  count_.store(0);
  return n;
}

double fault_rules::roll() {
  std::array<std::uint8_t, 8> bytes{};
  dice_.fill(bytes);
  std::uint64_t z = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) z |= std::uint64_t{bytes[i]} << (8 * i);
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

std::optional<fault_rule> fault_rules::draw(std::string_view method, std::string_view route,
                                            std::string_view account_id,
                                            std::string_view queue_id) {
  if (count_.load() == 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  for (fault_rule& r : rules_) {
    if (!matches(r.method, method) || !matches(r.route, route) ||
        !matches(r.account_id, account_id) || !matches(r.queue_id, queue_id)) {
      continue;
    }
    if (r.times && r.fired >= *r.times) continue;
    if (r.probability < 1.0 && roll() >= r.probability) continue;
    r.fired++;
    return r;
  }
  return std::nullopt;
}

}  // namespace flareq
