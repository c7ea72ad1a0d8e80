// Random ids and RFC 3339 formatting (see ids.hpp).
#include "storage/ids.hpp"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <system_error>

namespace flareq::storage {

void system_random::fill(std::span<std::uint8_t> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    done += static_cast<std::size_t>(n);
  }
}

void seeded_random::fill(std::span<std::uint8_t> out) {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < out.size(); i += 8) {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (std::size_t j = 0; j < 8 && i + j < out.size(); ++j) {
      out[i + j] = static_cast<std::uint8_t>(z >> (8 * j));
    }
  }
}

std::string hex_id(random_source& random) {
  static constexpr char digits[] = "0123456789abcdef";
  std::array<std::uint8_t, 16> bytes{};
  random.fill(bytes);
  std::string id(32, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    id[2 * i] = digits[bytes[i] >> 4];
    id[2 * i + 1] = digits[bytes[i] & 0x0f];
  }
  return id;
}

namespace {

// An odd constant (2^64 / the golden ratio): multiplying by it spreads the
// tail's bits over the whole word, so the two halves of an id differ.
constexpr std::uint64_t id_mix = 0x9e3779b97f4a7c15ULL;

void put_hex16(std::uint64_t v, char* out) {
  static constexpr char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = digits[v & 0x0f];
    v >>= 4;
  }
}

std::optional<std::uint64_t> read_hex16(std::string_view s) {
  std::uint64_t v = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<std::uint64_t>(d);
  }
  return v;
}

}  // namespace

std::int64_t random_id_tail(random_source& random) {
  std::array<std::uint8_t, 8> bytes{};
  random.fill(bytes);
  std::uint64_t v = 0;
  for (std::uint8_t b : bytes) v = (v << 8) | b;
  return static_cast<std::int64_t>(v);
}

std::string message_id(std::int64_t seq, std::int64_t id_tail) {
  auto tail = static_cast<std::uint64_t>(id_tail);
  std::string id(32, '0');
  put_hex16(static_cast<std::uint64_t>(seq) ^ (tail * id_mix), id.data());
  put_hex16(tail, id.data() + 16);
  return id;
}

std::optional<message_id_parts> parse_message_id(std::string_view id) {
  if (id.size() != 32) return std::nullopt;
  std::optional<std::uint64_t> head = read_hex16(id.substr(0, 16));
  std::optional<std::uint64_t> tail = read_hex16(id.substr(16));
  if (!head || !tail) return std::nullopt;
  auto seq = static_cast<std::int64_t>(*head ^ (*tail * id_mix));
  if (seq <= 0) return std::nullopt;
  return message_id_parts{seq, static_cast<std::int64_t>(*tail)};
}

std::string format_rfc3339_us(std::int64_t us) {
  std::int64_t seconds = us / 1'000'000;
  std::int64_t micros = us % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    seconds -= 1;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

}  // namespace flareq::storage
