// Identifiers and timestamps as Cloudflare writes them: 32 lowercase hex
// characters from a random source, and RFC 3339 UTC times with microseconds.
// The random source is injected so tests get repeatable ids. system_random is
// safe from any thread; seeded_random is guarded by its own mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>

namespace flareq::storage {

// Fills buffers with random bytes.
class random_source {
 public:
  virtual ~random_source() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;
};

// The kernel's CSPRNG (getrandom).
class system_random final : public random_source {
 public:
  void fill(std::span<std::uint8_t> out) override;
};

// A repeatable stream (splitmix64) for tests.
class seeded_random final : public random_source {
 public:
  explicit seeded_random(std::uint64_t seed) : state_(seed) {}
  void fill(std::span<std::uint8_t> out) override;

 private:
  std::mutex mutex_;
  std::uint64_t state_;  // guarded by mutex_
};

// Returns 32 lowercase hex characters made from 16 random bytes.
std::string hex_id(random_source& random);

// Returns 32 lowercase hex characters: the time in milliseconds (12), then
// 10 random bytes (20). Ids made later sort later, so an index on them grows
// at its end instead of touching a random page per insert.
std::string time_ordered_id(std::int64_t now_ms, random_source& random);

// Formats microseconds since the epoch as "2026-11-29T19:45:52.123456Z".
std::string format_rfc3339_us(std::int64_t us);

}  // namespace flareq::storage
