// Identifiers and timestamps as Cloudflare writes them: 32 lowercase hex
// characters from a random source, and RFC 3339 UTC times with microseconds.
// The random source is injected so tests get repeatable ids. system_random is
// safe from any thread; seeded_random is guarded by its own mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

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

// A message's id is not stored: it is made from the message's seq (its
// row) and a random tail kept beside it, 16 hex digits each: the first half
// is seq mixed with the tail (so that ids look random), the second the tail.
// Finding a message by id is then a lookup of its seq, with no index on ids.
std::int64_t random_id_tail(random_source& random);
std::string message_id(std::int64_t seq, std::int64_t id_tail);

// The seq and tail a message id was made from; nullopt when id is not 32
// lowercase hex digits or names no possible seq (one that is not positive).
struct message_id_parts {
  std::int64_t seq = 0;
  std::int64_t id_tail = 0;
};
std::optional<message_id_parts> parse_message_id(std::string_view id);

// Formats microseconds since the epoch as "2026-11-29T19:45:52.123456Z".
std::string format_rfc3339_us(std::int64_t us);

}  // namespace flareq::storage
