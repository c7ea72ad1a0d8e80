// The one renderer of Cloudflare's v4 envelope:
//   {"success":..,"errors":[..],"messages":[],"result":..}
// Every response body of the API goes through these two functions.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "server/api_error.hpp"

namespace flareq {

// {"success":true,"errors":[],"messages":[],"result":<result>}, followed by
// "result_info" when one is given (lists).
std::string render_success(const boost::json::value& result,
                           const boost::json::value* result_info = nullptr);

// {"success":false,"errors":[<the error's entries>],"messages":[],"result":null}
std::string render_failure(const api_error& error);

}  // namespace flareq
