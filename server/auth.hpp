// Credential checks (decisions.md, Credentials). Pure functions of the
// request's credential headers and the configured tokens; safe from any thread.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "server/api_error.hpp"

namespace flareq {

// The credential headers of a request; nullopt when a header is absent.
struct credentials {
  std::optional<std::string_view> authorization{};
  std::optional<std::string_view> auth_email{};
  std::optional<std::string_view> auth_key{};
};

// Returns the error for credentials that are missing (9106), malformed
// (6003 with its chain) or, when tokens are configured, not one of them
// (10000); nullopt when the request may go on. With no tokens configured any
// well-formed credential is accepted. Tokens are compared in constant time.
std::optional<api_error> check_credentials(const credentials& given,
                                           std::span<const std::string> tokens);

// Compares two strings in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// Tells whether token could be the token of "Authorization: Bearer <token>":
// not empty, and no spaces or control bytes (other bytes, UTF-8 included,
// are allowed, as in any header value).
bool is_valid_token(std::string_view token);

}  // namespace flareq
