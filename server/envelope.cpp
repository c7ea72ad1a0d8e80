// Envelope rendering (see envelope.hpp).
#include "server/envelope.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <boost/json/serialize.hpp>

#include "server/js_json.hpp"
#include "server/utf8.hpp"

namespace flareq {
namespace {

boost::json::object to_json(const error_detail& e) {
  boost::json::object o;
  o["code"] = e.code;
  // Messages may quote request bytes (a path, say): keep the JSON valid.
  o["message"] = valid_utf8(e.message);
  if (!e.error_chain.empty()) {
    boost::json::array chain;
    for (const error_detail& c : e.error_chain) chain.push_back(to_json(c));
    o["error_chain"] = std::move(chain);
  }
  return o;
}

std::string render(bool success, boost::json::array errors, const boost::json::value& result,
                   const boost::json::value* result_info) {
  boost::json::object envelope;
  envelope["success"] = success;
  envelope["errors"] = std::move(errors);
  envelope["messages"] = boost::json::array();
  envelope["result"] = result;
  if (result_info != nullptr) envelope["result_info"] = *result_info;
  // As JavaScript writes JSON where that differs from Boost (a json body
  // shown by inspection reads 1.5, not 1.5E0); Boost's faster writer
  // elsewhere, where the two agree.
  return boost_differs_from_js(result) ? js_stringify(envelope) : boost::json::serialize(envelope);
}

}  // namespace

std::string render_success(const boost::json::value& result,
                           const boost::json::value* result_info) {
  return render(true, boost::json::array(), result, result_info);
}

std::string render_failure(const api_error& error) {
  boost::json::array errors;
  for (const error_detail& e : error.errors()) errors.push_back(to_json(e));
  return render(false, std::move(errors), nullptr, nullptr);
}

}  // namespace flareq
