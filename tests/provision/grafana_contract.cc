#include "provision/grafana_contract.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include "fakes/fake_server.h"

namespace obsforge::provision::testing {
namespace {

using nlohmann::json;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::size_t Utf8Length(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
}

bool TypeMatches(const json& value, const std::string& type) {
  if (type == "object") {
    return value.is_object();
  }
  if (type == "array") {
    return value.is_array();
  }
  if (type == "string") {
    return value.is_string();
  }
  if (type == "integer") {
    return value.is_number_integer();
  }
  if (type == "number") {
    return value.is_number();
  }
  if (type == "boolean") {
    return value.is_boolean();
  }
  return true;
}

// Headers every client sends or Grafana reads on every route.
bool GeneralHeader(const std::string& lower_name) {
  return !lower_name.starts_with("x-") || lower_name == "x-grafana-org-id";
}

}  // namespace

GrafanaContract::GrafanaContract(json spec, std::set<std::string> waived)
    : spec_(std::move(spec)), waived_(std::move(waived)) {
  base_path_ = spec_.value("basePath", "");
}

std::size_t GrafanaContract::Operations() const {
  std::size_t n = 0;
  for (const auto& [path, item] : spec_["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      n += method == "parameters" ? 0 : 1;
    }
  }
  return n;
}

const json& GrafanaContract::Resolve(const json& node) const {
  const json* at = &node;
  for (int i = 0; i < 16 && at->is_object() && at->contains("$ref"); ++i) {
    const std::string ref = (*at)["$ref"].get<std::string>();
    at = &spec_.at(json::json_pointer(ref.substr(1)));  // "#/definitions/X" -> "/definitions/X"
  }
  return *at;
}

const json* GrafanaContract::FindOperation(const std::string& method,
                                           const std::string& path,
                                           std::string& template_out) const {
  const auto wanted = fakes::SplitPath(path);
  const json* best = nullptr;
  int best_literals = -1;
  for (const auto& [tmpl, item] : spec_["paths"].items()) {
    const auto segments = fakes::SplitPath(tmpl);
    if (segments.size() != wanted.size()) {
      continue;
    }
    int literals = 0;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      const bool param = segments[i].size() > 2 && segments[i].front() == '{';
      match = param || segments[i] == wanted[i];
      literals += param ? 0 : 1;
    }
    if (match && literals > best_literals) {
      best_literals = literals;
      best = &item;
      template_out = tmpl;
    }
  }
  if (best == nullptr) {
    return nullptr;
  }
  const auto op = best->find(Lower(method));
  return op == best->end() ? nullptr : &*op;
}

void GrafanaContract::Validate(const json& value,
                               const json& schema_in,
                               const std::string& where,
                               Side side,
                               std::vector<std::string>& out,
                               int depth,
                               const std::string& name) const {
  if (depth > 32) {
    return;
  }
  // `name`: of an inline schema under a named response (#/responses/<name>).
  std::string definition = name;
  if (schema_in.is_object() && schema_in.contains("$ref")) {
    const std::string ref = schema_in["$ref"];
    definition = ref.substr(ref.rfind('/') + 1);
  }
  const json& schema = Resolve(schema_in);
  if (!schema.is_object()) {
    return;
  }
  for (const auto& part : schema.value("allOf", json::array())) {
    Validate(value, part, where, side, out, depth + 1);
  }
  const std::string type = schema.value("type", "");
  if (type.empty()) {
    return;  // free-form (e.g. Json, a dashboard model)
  }
  const std::string at = where.empty() ? "body" : where;
  if (value.is_null()) {
    out.push_back(at + ": null where " + (definition.empty() ? type : definition) + " is expected");
    return;
  }
  if (!TypeMatches(value, type)) {
    out.push_back(at + ": " + value.type_name() + " where " + type + " is expected");
    return;
  }
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end()) {
    out.push_back(at + ": " + value.dump() + " is not one of " + schema["enum"].dump());
  }
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    if (schema.contains("pattern") &&
        !std::regex_search(text, std::regex(schema["pattern"].get<std::string>()))) {
      out.push_back(at + ": \"" + text + "\" does not match " + schema["pattern"].dump());
    }
    if (schema.contains("minLength") && Utf8Length(text) < schema["minLength"].get<std::size_t>()) {
      out.push_back(at + ": shorter than " + schema["minLength"].dump());
    }
    if (schema.contains("maxLength") && Utf8Length(text) > schema["maxLength"].get<std::size_t>()) {
      out.push_back(at + ": longer than " + schema["maxLength"].dump());
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      Validate(value[i], schema["items"], at + "[" + std::to_string(i) + "]", side, out, depth + 1);
    }
  }
  if (!value.is_object()) {
    return;
  }
  std::set<std::string> required;
  for (const auto& name : schema.value("required", json::array())) {
    required.insert(name.get<std::string>());
    const bool waived =
        side == Side::kResponse && waived_.count(definition + "." + name.get<std::string>()) != 0;
    if (!value.contains(name.get<std::string>()) && !waived) {
      out.push_back(at + ": required " + name.dump() + " is missing" +
                    (definition.empty() ? "" : " (" + definition + ")"));
    }
  }
  const json properties = schema.value("properties", json::object());
  const json extra = schema.value("additionalProperties", json());
  for (const auto& [key, item] : value.items()) {
    const std::string child = at + "." + key;
    if (properties.contains(key)) {
      if (item.is_null() && side == Side::kResponse && required.count(key) == 0) {
        continue;
      }
      Validate(item, properties[key], child, side, out, depth + 1);
    } else if (extra.is_object()) {
      Validate(item, extra, child, side, out, depth + 1);
    }
  }
}

std::vector<std::string> GrafanaContract::Check(const Exchange& exchange) const {
  std::vector<std::string> out;
  const std::string name = exchange.method + " " + exchange.path;
  auto fail = [&](const std::string& what) { out.push_back(name + ": " + what); };
  if (!exchange.path.starts_with(base_path_ + "/")) {
    fail("not under the API's base path " + base_path_);
    return out;
  }
  std::string tmpl;
  const json* op = FindOperation(exchange.method, exchange.path.substr(base_path_.size()), tmpl);
  if (op == nullptr) {
    fail("no such operation in Grafana's API description");
    return out;
  }
  std::map<std::string, std::string> headers;  // lower-case name -> value
  for (const auto& [key, value] : exchange.headers) {
    headers[Lower(key)] = value;
  }
  std::set<std::string> query_names;
  std::set<std::string> header_names;
  const json* body_param = nullptr;
  // Named, not a temporary of the loop: body_param points into it after the loop.
  const json parameters = op->value("parameters", json::array());
  for (const auto& param_in : parameters) {
    const json& param = Resolve(param_in);
    const std::string in = param.value("in", "");
    const std::string pname = param.value("name", "");
    const bool required = param.value("required", false);
    if (in == "query") {
      query_names.insert(pname);
      const bool sent = std::any_of(exchange.query.begin(), exchange.query.end(),
                                    [&](const auto& q) { return q.first == pname; });
      if (required && !sent) {
        fail("required query parameter \"" + pname + "\" is missing");
      }
    } else if (in == "header") {
      header_names.insert(Lower(pname));
      if (required && headers.count(Lower(pname)) == 0) {
        fail("required header " + pname + " is missing");
      }
    } else if (in == "body") {
      body_param = &param;
    }
  }
  for (const auto& [qname, value] : exchange.query) {
    if (query_names.count(qname) == 0) {
      fail("query parameter \"" + qname + "\" is not documented for " + tmpl);
    }
  }
  for (const auto& [hname, value] : headers) {
    if (!GeneralHeader(hname) && header_names.count(hname) == 0) {
      fail("header " + hname + " is not documented for this operation");
    }
  }
  if (body_param == nullptr) {
    if (!exchange.body.empty()) {
      fail("a body is sent to an operation that takes none");
    }
  } else if (exchange.body.empty()) {
    if (body_param->value("required", false)) {
      fail("the required body is missing");
    }
  } else {
    const json body = json::parse(exchange.body, nullptr, false);
    if (body.is_discarded()) {
      fail("the body is not JSON");
    } else {
      std::vector<std::string> problems;
      Validate(body, body_param->value("schema", json::object()), "", Side::kRequest, problems);
      for (const auto& p : problems) {
        fail("request " + p);
      }
    }
  }

  const json responses = op->value("responses", json::object());
  const std::string status = std::to_string(exchange.status);
  const json* response = nullptr;
  if (responses.contains(status)) {
    response = &responses[status];
  } else if (responses.contains("default")) {
    response = &responses["default"];
  } else {
    fail("answers " + status + ", which is not among the documented responses " + [&] {
      std::string codes;
      for (const auto& [code, r] : responses.items()) {
        codes += (codes.empty() ? "" : ", ") + code;
      }
      return codes;
    }());
    return out;
  }
  const json& resolved = Resolve(*response);
  if (resolved.contains("schema") && !exchange.response_body.empty()) {
    const json body = json::parse(exchange.response_body, nullptr, false);
    if (body.is_discarded()) {
      fail("the " + status + " answer is not JSON");
    } else {
      std::vector<std::string> problems;
      std::string response_name;
      if (response->is_object() && response->contains("$ref") && (*response)["$ref"].is_string()) {
        const std::string ref = (*response)["$ref"];
        response_name = ref.substr(ref.rfind('/') + 1);
      }
      Validate(body, resolved["schema"], "", Side::kResponse, problems, 0, response_name);
      for (const auto& p : problems) {
        fail(status + " answer " + p);
      }
    }
  }
  return out;
}

}  // namespace obsforge::provision::testing
