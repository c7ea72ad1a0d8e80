// Matches (method, path) against the route table. Patterns are written like
// "/accounts/:account_id/queues/:queue_id/messages"; a ":name" segment takes
// an identifier of 1 to 32 characters from [A-Za-z0-9_-] (decisions.md,
// Paths). Every path also matches with a "/client/v4" prefix. The router
// knows no handlers: a route carries the index its owner gave it.
// Built once, then read-only and safe from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flareq {

// Tells whether text is a valid account, queue or consumer id.
bool is_valid_identifier(std::string_view text);

// The named segments of a matched path.
class route_params {
 public:
  void add(std::string_view name, std::string_view value) { items_.emplace_back(name, value); }
  // Returns the value of a named segment, or "" when the route has none.
  std::string_view get(std::string_view name) const;

 private:
  std::vector<std::pair<std::string_view, std::string_view>> items_;
};

struct route_match {
  enum class outcome { found, no_route, method_not_allowed };
  outcome result = outcome::no_route;
  std::size_t index = 0;  // the route's index, when found
  route_params params;    // views into the route table and the path
  std::string_view path;  // the path without query and without "/client/v4"
  std::string allowed;    // for method_not_allowed: the path's methods ("GET, HEAD, PUT")
  // For no_route: a route of the method whose pattern the path has, but for
  // invalid identifiers; malformed names the first of them.
  std::optional<std::size_t> near_index;
  std::string_view malformed;
};

class router {
 public:
  // Adds a route; index is handed back by match().
  void add(std::string_view method, std::string_view pattern, std::size_t index);

  // Matches a request target (path and optional query); HEAD matches the
  // GET routes. The returned views point into target and into this router.
  route_match match(std::string_view method, std::string_view target) const;

 private:
  struct route {
    std::string method;
    std::vector<std::string> segments;  // ":name" for parameters
    std::size_t index;
  };
  std::vector<route> routes_;
};

}  // namespace flareq
