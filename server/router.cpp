// Route matching (see router.hpp).
#include "server/router.hpp"

namespace flareq {
namespace {

constexpr std::string_view api_prefix = "/client/v4";

// Splits "/a/b/c" into {"a","b","c"}; "/a//b" keeps the empty segment, so
// an empty identifier never matches.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

bool is_valid_identifier(std::string_view text) {
  if (text.empty() || text.size() > 32) return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string_view route_params::get(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (key == name) return value;
  }
  return {};
}

void router::add(std::string_view method, std::string_view pattern, std::size_t index) {
  route r{std::string(method), {}, index};
  for (std::string_view s : split_path(pattern)) r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

route_match router::match(std::string_view method, std::string_view target) const {
  route_match m;
  std::string_view path = target.substr(0, target.find('?'));
  if (path.starts_with(api_prefix) &&
      (path.size() == api_prefix.size() || path[api_prefix.size()] == '/')) {
    path.remove_prefix(api_prefix.size());
  }
  m.path = path;
  auto segments = split_path(path);
  // Whether r's pattern takes the path, collecting its parameters; malformed
  // gets the first invalid identifier of a path that has the pattern's shape.
  auto fits = [&](const route& r, route_params& params, std::string_view& malformed) {
    if (r.segments.size() != segments.size()) return false;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      std::string_view want = r.segments[i];
      if (want.starts_with(':')) {
        if (!is_valid_identifier(segments[i]) && malformed.empty()) malformed = want.substr(1);
        params.add(want.substr(1), segments[i]);
      } else if (want != segments[i]) {
        malformed = {};  // not this route's shape
        return false;
      }
    }
    return malformed.empty();
  };
  // No route of the path has the method: every route is visited, so the
  // 405's Allow lists all the path's methods.
  for (const route& r : routes_) {
    route_params params;
    std::string_view malformed;
    if (!fits(r, params, malformed)) {
      if (!malformed.empty() && !m.near_index && r.method == method) {
        m.near_index = r.index;
        m.malformed = malformed;
      }
      continue;
    }
    // HEAD is GET without the body (RFC 9110 §9.3.2).
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      m.result = route_match::outcome::found;
      m.index = r.index;
      m.params = std::move(params);
      return m;
    }
    m.result = route_match::outcome::method_not_allowed;
    if (!m.allowed.empty()) m.allowed += ", ";
    m.allowed += r.method;
    if (r.method == "GET") m.allowed += ", HEAD";
  }
  return m;
}

}  // namespace flareq
