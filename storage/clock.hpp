// Time sources for flareq. Everything that stores or compares a time asks a
// clock, so tests drive delays, leases and retention with fake_clock instead
// of sleeping: in-process tests directly, others over HTTP (--clock manual,
// POST /_flareq/clock). Both clocks are safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace flareq::storage {

// The last millisecond a clock may show: 9999-12-31T23:59:59.999Z, the end
// of what RFC 3339 and the Date header can write.
inline constexpr std::int64_t last_clock_ms = 253'402'300'799'999;

// Tells the current time in microseconds since the Unix epoch.
class clock {
 public:
  virtual ~clock() = default;
  virtual std::int64_t now_us() const = 0;
  std::int64_t now_ms() const { return now_us() / 1000; }
  // Tells whether the clock moves only when told (fake_clock).
  virtual bool manual() const { return false; }
};

// Reads the system's wall clock.
class system_clock final : public clock {
 public:
  std::int64_t now_us() const override;
};

// Stands still until a test (or POST /_flareq/clock) moves it.
class fake_clock final : public clock {
 public:
  explicit fake_clock(std::int64_t start_us) : now_us_(start_us) {}
  std::int64_t now_us() const override { return now_us_.load(); }
  bool manual() const override { return true; }
  // Moves the clock to us unless that is earlier than now (false then):
  // time never goes backwards, whoever else moves it at the same moment.
  bool move_to_us(std::int64_t us) {
    std::int64_t now = now_us_.load();
    while (us >= now) {
      if (now_us_.compare_exchange_weak(now, us)) return true;
    }
    return false;
  }
  void set_us(std::int64_t us) { now_us_.store(us); }
  void advance_ms(std::int64_t ms) { now_us_.fetch_add(ms * 1000); }

 private:
  std::atomic<std::int64_t> now_us_;
};

}  // namespace flareq::storage
