// RFC 4648 base64 with padding, as pull returns json bodies.
#pragma once

#include <string>
#include <string_view>

namespace flareq {

std::string base64_encode(std::string_view data);

}  // namespace flareq
