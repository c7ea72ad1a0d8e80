// base64 (see base64.hpp).
#include "server/base64.hpp"

namespace flareq {

std::string base64_encode(std::string_view data) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    auto a = static_cast<unsigned char>(data[i]);
    auto b = static_cast<unsigned char>(data[i + 1]);
    auto c = static_cast<unsigned char>(data[i + 2]);
    out += alphabet[a >> 2];
    out += alphabet[((a & 3) << 4) | (b >> 4)];
    out += alphabet[((b & 15) << 2) | (c >> 6)];
    out += alphabet[c & 63];
  }
  if (i < data.size()) {
    auto a = static_cast<unsigned char>(data[i]);
    out += alphabet[a >> 2];
    if (i + 1 < data.size()) {
      auto b = static_cast<unsigned char>(data[i + 1]);
      out += alphabet[((a & 3) << 4) | (b >> 4)];
      out += alphabet[(b & 15) << 2];
    } else {
      out += alphabet[(a & 3) << 4];
      out += '=';
    }
    out += '=';
  }
  return out;
}

}  // namespace flareq
