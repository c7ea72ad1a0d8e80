// Credential checks (see auth.hpp).
#include "server/auth.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace flareq {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Returns the token of "Bearer <token>", or nullopt when the header is not of that form.
std::optional<std::string_view> bearer_token(std::string_view header) {
  header = trim(header);
  constexpr std::string_view scheme = "Bearer";
  if (header.size() <= scheme.size() || !iequals(header.substr(0, scheme.size()), scheme) ||
      (header[scheme.size()] != ' ' && header[scheme.size()] != '\t')) {
    return std::nullopt;
  }
  std::string_view token = trim(header.substr(scheme.size()));
  if (!is_valid_token(token)) return std::nullopt;
  return token;
}

}  // namespace

bool is_valid_token(std::string_view token) {
  // As unsigned bytes: a signed char would take every byte of a UTF-8
  // sequence for a control character.
  return !token.empty() && std::none_of(token.begin(), token.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return b <= ' ' || b == 0x7f;
  });
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

std::optional<api_error> check_credentials(const credentials& given,
                                           std::span<const std::string> tokens) {
  if (!given.authorization && !given.auth_email && !given.auth_key) {
    return api_error(errc::missing_credentials);
  }
  if (given.authorization) {
    auto token = bearer_token(*given.authorization);
    if (!token) {
      return api_error::invalid_headers({{6111, "Invalid format for Authorization header", {}}});
    }
    if (tokens.empty()) return std::nullopt;
    bool match = false;
    // Every configured token is compared, so the time says nothing of which matched.
    for (const std::string& t : tokens) match |= constant_time_equal(*token, t);
    if (match) return std::nullopt;
    return api_error(errc::authentication);
  }
  std::vector<error_detail> chain;
  if (!given.auth_key || trim(*given.auth_key).empty()) {
    chain.push_back({6103, "Invalid format for X-Auth-Key header", {}});
  }
  if (!given.auth_email || trim(*given.auth_email).empty()) {
    chain.push_back({6102, "Invalid format for X-Auth-Email header", {}});
  }
  if (!chain.empty()) return api_error::invalid_headers(std::move(chain));
  // A global key is never one of the configured API tokens.
  if (!tokens.empty()) return api_error(errc::authentication);
  return std::nullopt;
}

}  // namespace flareq
