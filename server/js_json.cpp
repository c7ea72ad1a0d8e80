// JSON.stringify's output (see js_json.hpp).
#include "server/js_json.hpp"

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_stack.hpp>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace flareq {
namespace json = boost::json;
namespace {

// 2^53: the largest magnitude below which every integer is a double exactly.
constexpr std::uint64_t exact_limit = std::uint64_t{1} << 53;

// Tells whether a double holds an integer of this magnitude exactly.
bool exact(std::uint64_t magnitude) {
  return magnitude <= exact_limit;
}

// "0" or 1..4294967294 without leading zeros: JavaScript orders these
// property names first, ascending (ECMAScript's array indices).
bool array_index(std::string_view key, std::uint64_t& index) {
  if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0')) return false;
  auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), index);
  return ec == std::errc() && end == key.data() + key.size() && index < 4'294'967'295u;
}

// Builds a value as Boost's own parser does, but reads each double from its
// text with std::from_chars, which rounds correctly.
struct precise_handler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();
  using error_code = boost::system::error_code;
  using sv = json::string_view;

  json::value_stack st;
  std::string number;  // the text of a number that came in parts

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(std::size_t n, error_code&) {
    st.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(sv s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(sv s, std::size_t, error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(sv s, std::size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(sv s, std::size_t, error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(sv s, error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, sv, error_code&) {
    number.clear();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, sv, error_code&) {
    number.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, sv s, error_code&) {
    number.append(s.data(), s.size());
    double nearest = 0;
    const char* end = number.data() + number.size();
    auto [at, ec] = std::from_chars(number.data(), end, nearest);
    // Out of range (1e400, 1e-400): Boost's infinity or zero stands.
    if (ec == std::errc() && at == end) d = nearest;
    number.clear();
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(sv, error_code&) { return true; }
  bool on_comment(sv, error_code&) { return true; }
};

void write(const json::value& v, std::string& out);

void write_object(const json::object& o, std::string& out) {
  std::vector<std::pair<std::uint64_t, const json::key_value_pair*>> indices;
  std::vector<const json::key_value_pair*> names;
  for (const json::key_value_pair& kv : o) {
    std::uint64_t index = 0;
    if (array_index(kv.key(), index)) {
      indices.emplace_back(index, &kv);
    } else {
      names.push_back(&kv);
    }
  }
  std::sort(indices.begin(), indices.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out += '{';
  bool first = true;
  auto member = [&](const json::key_value_pair& kv) {
    if (!first) out += ',';
    first = false;
    out += json::serialize(kv.key());
    out += ':';
    write(kv.value(), out);
  };
  for (const auto& [index, kv] : indices) member(*kv);
  for (const json::key_value_pair* kv : names) member(*kv);
  out += '}';
}

void write(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64: {
      std::int64_t i = v.get_int64();
      std::uint64_t magnitude = i < 0 ? 0 - static_cast<std::uint64_t>(i) : i;
      out += exact(magnitude) ? std::to_string(i) : js_number(static_cast<double>(i));
      break;
    }
    case json::kind::uint64: {
      std::uint64_t u = v.get_uint64();
      out += exact(u) ? std::to_string(u) : js_number(static_cast<double>(u));
      break;
    }
    case json::kind::double_:
      out += js_number(v.get_double());
      break;
    case json::kind::string:
      out += json::serialize(v.get_string());
      break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json::value& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write(item, out);
      }
      out += ']';
      break;
    }
    case json::kind::object:
      write_object(v.get_object(), out);
      break;
  }
}

}  // namespace

bool boost_differs_from_js(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return true;
    case json::kind::int64: {
      std::int64_t i = v.get_int64();
      return !exact(i < 0 ? 0 - static_cast<std::uint64_t>(i) : static_cast<std::uint64_t>(i));
    }
    case json::kind::uint64:
      return !exact(v.get_uint64());
    case json::kind::array:
      return std::any_of(v.get_array().begin(), v.get_array().end(), boost_differs_from_js);
    case json::kind::object:
      return std::any_of(v.get_object().begin(), v.get_object().end(),
                         [](const json::key_value_pair& kv) {
                           std::uint64_t index = 0;
                           return array_index(kv.key(), index) || boost_differs_from_js(kv.value());
                         });
    default:
      return false;
  }
}

json::value js_parse(std::string_view text, boost::system::error_code& ec) {
  json::parse_options options;
  options.max_depth = max_json_depth;
  json::basic_parser<precise_handler> parser(options);
  parser.handler().st.reset();
  std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size()) ec = json::error::extra_data;
  if (ec) return nullptr;
  return parser.handler().st.release();
}

std::string js_number(double d) {
  if (d == 0) return "0";  // and -0, which JavaScript also writes as 0
  // The shortest digits that read back as d, in the form d.ddde±xx.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view text(buf, ec == std::errc() ? static_cast<std::size_t>(end - buf) : 0);
  std::string out;
  if (!text.empty() && text[0] == '-') {
    out += '-';
    text.remove_prefix(1);
  }
  std::size_t e_at = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e_at)) {
    if (c != '.') digits += c;
  }
  int exponent = std::atoi(std::string(text.substr(e_at + 1)).c_str());
  // ECMAScript Number::toString: k digits, the point after n of them.
  int k = static_cast<int>(digits.size());
  int n = exponent + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<std::size_t>(n));
    out += '.';
    out += digits.substr(static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += n - 1 < 0 ? "e-" : "e+";
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

std::string js_stringify(const json::value& v) {
  std::string out;
  write(v, out);
  return out;
}

}  // namespace flareq
