#include "fakes/fake_loki.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>
#include <variant>

#include <Poco/DateTimeParser.h>
#include <Poco/Timestamp.h>
#include <nlohmann/json.hpp>

#include "core/duration.h"

namespace obsforge::fakes {
namespace {

using nlohmann::json;

constexpr char kNotReady[] = "Ingester not ready: waiting for 15s after being ready";

struct Matcher {
  std::string name;
  std::string op;
  std::string value;
};

struct LogQuery {
  std::vector<Matcher> matchers;
  std::vector<std::pair<bool, std::string>> line_filters;  // (contains?, text)
};

// Parses `{a="b", c=~"d"} |= "x" != "y"`; other pipeline stages are ignored.
std::optional<LogQuery> ParseLogQuery(const std::string& q) {
  std::size_t i = 0;
  auto skip = [&] {
    while (i < q.size() && std::isspace(static_cast<unsigned char>(q[i])) != 0) {
      ++i;
    }
  };
  auto quoted = [&]() -> std::optional<std::string> {
    skip();
    if (i >= q.size() || (q[i] != '"' && q[i] != '`')) {
      return std::nullopt;
    }
    const char quote = q[i++];
    std::string out;
    while (i < q.size() && q[i] != quote) {
      if (q[i] == '\\' && quote == '"' && i + 1 < q.size()) {
        ++i;
      }
      out.push_back(q[i++]);
    }
    if (i >= q.size()) {
      return std::nullopt;
    }
    ++i;
    return out;
  };
  LogQuery out;
  skip();
  if (i >= q.size() || q[i] != '{') {
    return std::nullopt;
  }
  ++i;
  while (true) {
    skip();
    if (i < q.size() && q[i] == '}') {
      ++i;
      break;
    }
    Matcher m;
    while (i < q.size() && (std::isalnum(static_cast<unsigned char>(q[i])) != 0 || q[i] == '_')) {
      m.name.push_back(q[i++]);
    }
    skip();
    for (const char* op : {"=~", "!~", "!=", "="}) {
      if (q.compare(i, std::string(op).size(), op) == 0) {
        m.op = op;
        i += m.op.size();
        break;
      }
    }
    auto value = quoted();
    if (m.name.empty() || m.op.empty() || !value) {
      return std::nullopt;
    }
    m.value = *value;
    out.matchers.push_back(m);
    skip();
    if (i < q.size() && q[i] == ',') {
      ++i;
    }
  }
  if (out.matchers.empty()) {
    return std::nullopt;
  }
  while (true) {
    skip();
    if (i >= q.size()) {
      break;
    }
    if (q.compare(i, 2, "|=") == 0 || q.compare(i, 2, "!=") == 0) {
      const bool contains = q[i] == '|';
      i += 2;
      auto text = quoted();
      if (!text) {
        return std::nullopt;
      }
      out.line_filters.emplace_back(contains, *text);
    } else {
      break;  // Other stages (| json, | logfmt, …) are accepted and ignored.
    }
  }
  return out;
}

bool Matches(const LogQuery& query, const LokiEntry& entry) {
  for (const auto& m : query.matchers) {
    auto it = entry.labels.find(m.name);
    const std::string value = it == entry.labels.end() ? "" : it->second;
    bool ok = true;
    if (m.op == "=") {
      ok = value == m.value;
    } else if (m.op == "!=") {
      ok = value != m.value;
    } else {
      const bool hit = std::regex_match(value, std::regex(m.value));
      ok = m.op == "=~" ? hit : !hit;
    }
    if (!ok) {
      return false;
    }
  }
  return std::all_of(query.line_filters.begin(), query.line_filters.end(), [&](const auto& f) {
    return (entry.line.find(f.second) != std::string::npos) == f.first;
  });
}

std::int64_t NowNs() {
  return Poco::Timestamp().epochMicroseconds() * 1000;
}

// Loki's time parameters: integer ns (or seconds when ≤ 10 digits), float seconds, or RFC3339.
std::optional<std::int64_t> ParseTime(const std::string& value) {
  if (value.empty()) {
    return std::nullopt;
  }
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
    const std::int64_t n = std::stoll(value);
    return value.size() <= 10 ? n * 1000000000LL : n;
  }
  try {
    std::size_t used = 0;
    const double seconds = std::stod(value, &used);
    if (used == value.size()) {
      return static_cast<std::int64_t>(seconds * 1e9);
    }
  } catch (const std::exception&) {
  }
  Poco::DateTime parsed;
  int tz = 0;
  if (Poco::DateTimeParser::tryParse(value, parsed, tz)) {
    return (parsed.timestamp().epochMicroseconds() - static_cast<std::int64_t>(tz) * 1000000) *
           1000;
  }
  throw std::invalid_argument("cannot parse \"" + value + "\" to a valid timestamp");
}

std::string EmitYaml(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return std::string(out.c_str()) + "\n";
}

FakeResponse Yaml(int status, const YAML::Node& node) {
  return FakeResponse{
      .status = status, .headers = {{"Content-Type", "application/yaml"}}, .body = EmitYaml(node)};
}

// The ruler's answers are Prometheus API envelopes with every field present.
json Envelope(const std::string& status,
              const json& data,
              const std::string& type,
              const std::string& error) {
  return json{{"status", status}, {"data", data}, {"errorType", type}, {"error", error}};
}

FakeResponse Accepted() {
  return FakeResponse::Json(202, Envelope("success", nullptr, "", ""));
}

// respondError: WriteHeader before any Content-Type, so Go sniffs text/plain.
FakeResponse ServerError(const std::string& message) {
  return FakeResponse{.status = 500,
                      .headers = {{"Content-Type", "text/plain; charset=utf-8"}},
                      .body = Envelope("error", nullptr, "server_error", message).dump()};
}

bool IsLabelName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) != 0) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

bool IsMetricName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) != 0) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == ':';
  });
}

// A model.Duration field: absent → 0; nullopt when it does not parse.
std::optional<std::chrono::milliseconds> DurationField(const YAML::Node& node, const char* key) {
  if (!node[key] || node[key].IsNull()) {
    return std::chrono::milliseconds(0);
  }
  if (!node[key].IsScalar()) {
    return std::nullopt;
  }
  return core::ParseDuration(node[key].as<std::string>());
}

// A map of strings, sorted by key (yaml.v3 sorts map keys); nullopt when it is not one.
std::optional<std::map<std::string, std::string>> StringMapField(const YAML::Node& node,
                                                                 const char* key) {
  std::map<std::string, std::string> out;
  if (!node[key] || node[key].IsNull()) {
    return out;
  }
  if (!node[key].IsMap()) {
    return std::nullopt;
  }
  for (const auto& item : node[key]) {
    if (!item.second.IsScalar() && !item.second.IsNull()) {
      return std::nullopt;
    }
    out[item.first.as<std::string>()] = item.second.IsNull() ? "" : item.second.as<std::string>();
  }
  return out;
}

// A posted rule group as Loki decodes it (yaml.v3 into rulefmt.RuleGroup, unknown keys
// ignored) and sends it back (rulespb.ToProto/FromProto, then yaml.v3): known keys only, in
// rulefmt's order; `for`, `interval` and `limit` left out when zero and empty label and
// annotation maps left out (omitempty); durations in Prometheus's spelling ("60s" is "1m");
// `keep_firing_for` dropped (the proto has no field for it). `errors` gets the validation
// errors (ValidateGroups). nullopt when the YAML does not decode ("unable to decoded rule
// group").
std::optional<YAML::Node> DecodeGroup(const YAML::Node& posted, std::vector<std::string>& errors) {
  if (!posted.IsMap()) {
    return std::nullopt;
  }
  YAML::Node out(YAML::NodeType::Map);
  const std::string name =
      posted["name"] && posted["name"].IsScalar() ? posted["name"].as<std::string>() : "";
  out["name"] = name;
  const auto interval = DurationField(posted, "interval");
  if (!interval) {
    return std::nullopt;
  }
  if (interval->count() > 0) {
    out["interval"] = core::FormatDuration(*interval);
  }
  if (posted["limit"] && posted["limit"].IsScalar()) {
    long long limit = 0;
    try {
      limit = posted["limit"].as<long long>();
    } catch (const YAML::Exception&) {
      return std::nullopt;
    }
    if (limit != 0) {
      out["limit"] = limit;
    }
  }
  if (name.empty()) {
    errors.push_back("group 0: Groupname must not be empty");
  }
  YAML::Node rules(YAML::NodeType::Sequence);
  const YAML::Node posted_rules = posted["rules"];
  if (posted_rules && !posted_rules.IsNull() && !posted_rules.IsSequence()) {
    return std::nullopt;
  }
  for (const auto& rule : posted_rules ? posted_rules : YAML::Node(YAML::NodeType::Sequence)) {
    if (!rule.IsMap()) {
      return std::nullopt;
    }
    auto text = [&rule](const char* key) {
      return rule[key] && rule[key].IsScalar() ? rule[key].as<std::string>() : "";
    };
    const std::string record = text("record");
    const std::string alert = text("alert");
    const std::string expr = text("expr");
    const auto for_ = DurationField(rule, "for");
    const auto labels = StringMapField(rule, "labels");
    const auto annotations = StringMapField(rule, "annotations");
    if (!for_ || !labels || !annotations || !DurationField(rule, "keep_firing_for")) {
      return std::nullopt;
    }
    YAML::Node r(YAML::NodeType::Map);
    if (!record.empty()) {
      r["record"] = record;
    }
    if (!alert.empty()) {
      r["alert"] = alert;
    }
    r["expr"] = expr;
    if (for_->count() > 0) {
      r["for"] = core::FormatDuration(*for_);
    }
    for (const auto& [key, map] :
         {std::pair{"labels", &*labels}, std::pair{"annotations", &*annotations}}) {
      if (!map->empty()) {
        YAML::Node node(YAML::NodeType::Map);
        for (const auto& [k, v] : *map) {
          node[k] = v;
        }
        r[key] = node;
      }
    }
    rules.push_back(r);
    // One error per failing rule, the first check that fails (validateRuleNode).
    if (!record.empty() && !alert.empty()) {
      errors.push_back("only one of 'record' and 'alert' must be set");
    } else if (record.empty() && alert.empty()) {
      errors.push_back("one of 'record' or 'alert' must be set");
    } else if (expr.empty()) {
      errors.push_back("field 'expr' must be set in rule");
    } else if (expr.front() == '{' && !ParseLogQuery(expr)) {
      errors.push_back("could not parse expression for " +
                       (record.empty() ? "alert '" + alert : "record '" + record) + "' in group '" +
                       name + "': parse error : syntax error in \"" + expr + "\"");
    } else if (!record.empty() && !annotations->empty()) {
      errors.push_back("invalid field 'annotations' in recording rule");
    } else if (!record.empty() && for_->count() != 0) {
      errors.push_back("invalid field 'for' in recording rule");
    } else if (!record.empty() && !IsMetricName(record)) {
      errors.push_back("invalid recording rule name: " + record);
    } else {
      for (const auto& [k, v] : *labels) {
        if (!IsLabelName(k) || k == "__name__") {
          errors.push_back("invalid label name: " + k);
          break;
        }
      }
      for (const auto& [k, v] : *annotations) {
        if (!IsLabelName(k)) {
          errors.push_back("invalid annotation name: " + k);
          break;
        }
      }
    }
  }
  out["rules"] = rules;
  return out;
}

std::string Join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    out += (i == 0 ? "" : separator) + parts[i];
  }
  return out;
}

}  // namespace

struct FakeLoki::State {
  LokiOptions options;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  mutable std::mutex mutex;
  std::optional<bool> forced_ready;
  std::map<std::string, std::vector<LokiEntry>> entries;
  // Object store: tenant -> namespace -> group name -> group (as DecodeGroup made it).
  std::map<std::string, std::map<std::string, std::map<std::string, YAML::Node>>> rules;
  // tenant -> rule name -> last evaluation error.
  std::map<std::string, std::map<std::string, std::string>> rule_errors;

  std::string Tenant(const FakeRequest& request) const {
    return options.auth_enabled ? request.Header("X-Scope-OrgID") : "fake";
  }

  FakeResponse Push(FakeRequest& request) {
    // mime.ParseMediaType: the media type must be application/json (parameters allowed); any
    // other type goes to the snappy-protobuf decoder, which this fake does not have.
    const std::string type = request.Header("Content-Type");
    const std::string media = type.substr(0, type.find(';'));
    if (type.empty()) {
      return FakeResponse::GoError(400, "mime: no media type");
    }
    if (media != "application/json") {
      return FakeResponse::GoError(400, "this fake decodes JSON pushes only");
    }
    auto body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("streams") ||
        !body["streams"].is_array()) {
      return FakeResponse::Text(400, "error parsing push request: invalid JSON");
    }
    std::vector<LokiEntry> parsed;
    for (const auto& stream : body["streams"]) {
      LokiEntry base;
      if (!stream.contains("stream") || !stream["stream"].is_object() ||
          !stream.contains("values") || !stream["values"].is_array()) {
        return FakeResponse::Text(400,
                                  "error parsing push request: a stream needs stream and values");
      }
      if (stream["values"].empty()) {
        continue;  // a stream without entries is skipped, whatever its labels
      }
      if (stream["stream"].empty()) {
        return FakeResponse::GoError(400, "error at least one label pair is required per stream");
      }
      for (const auto& [key, value] : stream["stream"].items()) {
        if (!value.is_string()) {
          return FakeResponse::Text(400,
                                    "error parsing push request: label values must be strings");
        }
        base.labels[key] = value.get<std::string>();
      }
      for (const auto& value : stream["values"]) {
        if (!value.is_array() || value.size() < 2 || !value[1].is_string()) {
          return FakeResponse::Text(
              400, "error parsing push request: a value is [\"<ns>\", \"<line>\"]");
        }
        if (!value[0].is_string()) {
          return FakeResponse::Text(
              400, "error parsing push request: timestamps must be strings of unix nanoseconds");
        }
        LokiEntry entry = base;
        try {
          entry.timestamp_ns = std::stoll(value[0].get<std::string>());
        } catch (const std::exception&) {
          return FakeResponse::Text(400, "error parsing push request: invalid timestamp \"" +
                                             value[0].get<std::string>() + "\"");
        }
        entry.line = value[1];
        parsed.push_back(std::move(entry));
      }
    }
    std::lock_guard lock(mutex);
    auto& stored = entries[Tenant(request)];
    stored.insert(stored.end(), parsed.begin(), parsed.end());
    return FakeResponse{.status = 204};
  }

  FakeResponse QueryRange(FakeRequest& request) {
    auto query = ParseLogQuery(request.Query("query"));
    if (!query) {
      return FakeResponse::Text(
          400, "parse error : syntax error in query \"" + request.Query("query") + "\"");
    }
    std::int64_t end = 0;
    std::int64_t start = 0;
    std::size_t limit = 100;
    try {
      end = request.HasQuery("end") ? *ParseTime(request.Query("end")) : NowNs();
      start = request.HasQuery("start") ? *ParseTime(request.Query("start"))
                                        : end - 3600LL * 1000000000LL;
      if (request.HasQuery("limit")) {
        limit = static_cast<std::size_t>(std::stoul(request.Query("limit")));
      }
    } catch (const std::exception& e) {
      return FakeResponse::Text(400, e.what());
    }
    const bool forward = request.Query("direction") == "forward";
    std::vector<LokiEntry> hits;
    {
      std::lock_guard lock(mutex);
      for (const auto& entry : entries[Tenant(request)]) {
        if (entry.timestamp_ns >= start && entry.timestamp_ns < end && Matches(*query, entry)) {
          hits.push_back(entry);
        }
      }
    }
    std::stable_sort(hits.begin(), hits.end(), [forward](const auto& a, const auto& b) {
      return forward ? a.timestamp_ns < b.timestamp_ns : a.timestamp_ns > b.timestamp_ns;
    });
    if (hits.size() > limit) {
      hits.resize(limit);
    }
    std::map<std::map<std::string, std::string>, json> streams;
    for (const auto& hit : hits) {
      auto& values = streams[hit.labels];
      if (values.is_null()) {
        values = json::array();
      }
      values.push_back({std::to_string(hit.timestamp_ns), hit.line});
    }
    json result = json::array();
    for (const auto& [labels, values] : streams) {
      result.push_back({{"stream", labels}, {"values", values}});
    }
    return FakeResponse::Json(
        200,
        json{{"status", "success"},
             {"data", {{"resultType", "streams"}, {"result", result}, {"stats", json::object()}}}});
  }

  FakeResponse InstantQuery(FakeRequest& request) {
    const std::string q = request.Query("query");
    if (ParseLogQuery(q)) {
      // 3.2 refuses log selectors here; 2.9 to 3.1 evaluate them to streams (empty: the
      // instant's range is empty).
      if (VersionAtLeast(options.version, 3, 2)) {
        return FakeResponse::GoError(400,
                                     "log queries are not supported as an instant query type, "
                                     "please change your query to a range query type");
      }
      return FakeResponse::Json(
          200,
          json{
              {"status", "success"},
              {"data",
               {{"resultType", "streams"}, {"result", json::array()}, {"stats", json::object()}}}});
    }
    return FakeResponse::Json(
        200,
        json{{"status", "success"},
             {"data",
              {{"resultType", "vector"}, {"result", json::array()}, {"stats", json::object()}}}});
  }

  using Namespaces = std::map<std::string, std::vector<YAML::Node>>;  // namespace -> groups

  bool Local() const { return options.ruler_store == RulerStore::kLocal; }

  std::string TenantDir(const std::string& tenant) const {
    return options.rules_directory + "/" + tenant;
  }

  // The groups of a local-store namespace file (`groups:` as Prometheus rule files), or the
  // ruler's error text.
  static std::variant<std::vector<YAML::Node>, std::string> ReadNamespaceFile(
      const std::string& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
      return "error parsing " + file + ": " + file + ": open " + file +
             ": no such file or directory";
    }
    std::vector<YAML::Node> out;
    try {
      const YAML::Node doc = YAML::LoadFile(file);
      for (const auto& group :
           doc["groups"] ? doc["groups"] : YAML::Node(YAML::NodeType::Sequence)) {
        std::vector<std::string> ignored;
        auto decoded = DecodeGroup(group, ignored);
        if (!decoded) {
          return "error parsing " + file + ": yaml: unmarshal errors";
        }
        out.push_back(*decoded);
      }
    } catch (const YAML::Exception& e) {
      return "error parsing " + file + ": " + e.what();
    }
    return out;
  }

  // Every group of `tenant` (of one namespace when `ns` is set), or the store's error answer.
  std::variant<Namespaces, FakeResponse> Load(const std::string& tenant, const std::string& ns) {
    Namespaces out;
    if (!Local()) {
      std::lock_guard lock(mutex);
      for (const auto& [name, groups] : rules[tenant]) {
        if (!ns.empty() && name != ns) {
          continue;
        }
        for (const auto& [group_name, group] : groups) {
          out[name].push_back(YAML::Clone(group));
        }
      }
      return out;
    }
    // pkg/ruler/rulestore/local: <dir>/<tenant>/<namespace file>.
    const std::string dir = TenantDir(tenant);
    if (!ns.empty()) {
      auto groups = ReadNamespaceFile(dir + "/" + ns);
      if (auto* error = std::get_if<std::string>(&groups)) {
        return FakeResponse::GoError(400, *error);
      }
      out[ns] = std::get<std::vector<YAML::Node>>(groups);
      return out;
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return FakeResponse::GoError(
          400, "unable to read rule dir " + dir + ": open " + dir + ": no such file or directory");
    }
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.is_regular_file()) {
        files.push_back(entry.path().filename().string());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      auto groups = ReadNamespaceFile(dir + "/" + file);
      if (auto* error = std::get_if<std::string>(&groups)) {
        return FakeResponse::GoError(400, *error);
      }
      out[file] = std::get<std::vector<YAML::Node>>(groups);
    }
    return out;
  }

  FakeResponse ListRules(FakeRequest& request, const std::string& ns) {
    auto loaded = Load(Tenant(request), ns);
    if (auto* error = std::get_if<FakeResponse>(&loaded)) {
      return *error;
    }
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& [name, groups] : std::get<Namespaces>(loaded)) {
      YAML::Node list(YAML::NodeType::Sequence);
      for (const auto& group : groups) {
        list.push_back(group);
      }
      if (list.size() > 0) {
        out[name] = list;
      }
    }
    if (out.size() == 0) {
      return FakeResponse::GoError(404, "no rule groups found");
    }
    return Yaml(200, out);
  }

  FakeResponse GetGroup(FakeRequest& request) {
    if (Local()) {
      return FakeResponse::GoError(400, "GetRuleGroup unsupported in rule local store");
    }
    const std::string tenant = Tenant(request);
    std::lock_guard lock(mutex);
    auto& tenant_rules = rules[tenant];
    auto ns = tenant_rules.find(request.Param("namespace"));
    if (ns != tenant_rules.end()) {
      auto group = ns->second.find(request.Param("group"));
      if (group != ns->second.end()) {
        return Yaml(200, group->second);
      }
    }
    return FakeResponse::GoError(404, "get rule group user=\"" + tenant + "\", namespace=\"" +
                                          request.Param("namespace") + "\", name=\"" +
                                          request.Param("group") + "\": group does not exist");
  }

  FakeResponse PostGroup(FakeRequest& request) {
    YAML::Node posted;
    try {
      posted = YAML::Load(request.body);
    } catch (const YAML::Exception&) {
      return FakeResponse::GoError(400, "unable to decoded rule group");
    }
    std::vector<std::string> errors;
    const auto group = DecodeGroup(posted, errors);
    if (!group) {
      return FakeResponse::GoError(400, "unable to decoded rule group");
    }
    if (!errors.empty()) {
      return FakeResponse::GoError(400, Join(errors, ", "));
    }
    const std::string tenant = Tenant(request);
    if (Local()) {
      // The tenant's groups are listed first (a missing directory fails there), then the
      // write, which the local store does not support.
      auto listed = Load(tenant, "");
      if (auto* error = std::get_if<FakeResponse>(&listed)) {
        return FakeResponse::GoError(500, error->body.substr(0, error->body.size() - 1));
      }
      return FakeResponse::GoError(500, "SetRuleGroup unsupported in rule local store");
    }
    std::lock_guard lock(mutex);
    rules[tenant][request.Param("namespace")][(*group)["name"].as<std::string>()] = *group;
    return Accepted();
  }

  FakeResponse DeleteGroup(FakeRequest& request) {
    if (Local()) {
      return ServerError("DeleteRuleGroup unsupported in rule local store");
    }
    std::lock_guard lock(mutex);
    auto& tenant_rules = rules[Tenant(request)];
    auto ns = tenant_rules.find(request.Param("namespace"));
    if (ns == tenant_rules.end() || ns->second.erase(request.Param("group")) == 0) {
      return FakeResponse::GoError(404, "group does not exist");
    }
    if (ns->second.empty()) {
      tenant_rules.erase(ns);
    }
    return Accepted();
  }

  FakeResponse DeleteNamespace(FakeRequest& request) {
    if (Local()) {
      return ServerError("DeleteNamespace unsupported in rule local store");
    }
    std::lock_guard lock(mutex);
    if (rules[Tenant(request)].erase(request.Param("namespace")) == 0) {
      return FakeResponse::GoError(404, "group namespace does not exist");
    }
    return Accepted();
  }

  // The ruler's view of its rules' last evaluation (pkg/ruler/base/api.go PrometheusRules).
  FakeResponse PrometheusRules(FakeRequest& request) {
    const std::string tenant = Tenant(request);
    auto loaded = Load(tenant, "");
    json groups = json::array();
    if (auto* namespaces = std::get_if<Namespaces>(&loaded)) {
      std::lock_guard lock(mutex);
      const auto& errors = rule_errors[tenant];
      for (const auto& [file, list] : *namespaces) {
        for (const auto& group : list) {
          json out_rules = json::array();
          for (const auto& rule : group["rules"]) {
            const bool alert = static_cast<bool>(rule["alert"]);
            const std::string name = rule[alert ? "alert" : "record"].as<std::string>();
            const auto error = errors.find(name);
            json r{{"name", name},
                   {"query", rule["expr"].as<std::string>()},
                   {"labels", json::object()},
                   {"health", error == errors.end() ? "ok" : "err"},
                   {"lastError", error == errors.end() ? "" : error->second},
                   {"type", alert ? "alerting" : "recording"},
                   {"lastEvaluation", "2024-01-01T00:00:00Z"},
                   {"evaluationTime", 0.001}};
            if (alert) {
              r["state"] = "inactive";
              r["duration"] = 0;
              r["annotations"] = json::object();
              r["alerts"] = json::array();
            }
            out_rules.push_back(std::move(r));
          }
          groups.push_back({{"name", group["name"].as<std::string>()},
                            {"file", file},
                            {"rules", out_rules},
                            {"interval", 60},
                            {"limit", 0},
                            {"lastEvaluation", "2024-01-01T00:00:00Z"},
                            {"evaluationTime", 0.001}});
        }
      }
    }
    return FakeResponse::Json(200, Envelope("success", {{"groups", groups}}, "", ""));
  }
};

FakeLoki::FakeLoki(LokiOptions options)
    : state_(std::make_unique<State>()), server_(std::make_unique<FakeServer>(options.port)) {
  state_->options = std::move(options);
  State& s = *state_;
  server_->Route("GET", "/ready", [&s](FakeRequest&) {
    std::lock_guard lock(s.mutex);
    const bool ready =
        s.forced_ready.value_or(std::chrono::steady_clock::now() - s.started >= s.options.startup);
    return ready ? FakeResponse::GoError(200, "ready") : FakeResponse::GoError(503, kNotReady);
  });
  server_->Route("GET", "/loki/api/v1/status/buildinfo", [&s](FakeRequest&) {
    // Release builds leave goVersion empty (the Makefile never sets it).
    return FakeResponse::Json(200, json{{"version", s.options.version},
                                        {"revision", "fake"},
                                        {"branch", "HEAD"},
                                        {"buildUser", "obsforge"},
                                        {"buildDate", "2024-01-01T00:00:00Z"},
                                        {"goVersion", ""}});
  });
  server_->Route("GET", "/metrics", [&s](FakeRequest&) {
    return FakeResponse{
        .status = 200,
        .headers = {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}},
        .body =
            "# HELP loki_build_info A metric with a constant '1' value labeled by version, "
            "revision, branch, and goversion from which loki was built.\n"
            "# TYPE loki_build_info gauge\n"
            "loki_build_info{branch=\"HEAD\",goversion=\"\",revision=\"fake\",version=\"" +
            s.options.version + "\"} 1\n"};
  });
  server_->SetGuard([&s](const FakeRequest& request) -> std::optional<FakeResponse> {
    const bool api = request.path.starts_with("/loki/api/") ||
                     request.path.starts_with("/api/prom/") ||
                     request.path.starts_with("/prometheus/") || request.path.starts_with("/otlp/");
    if (api && s.options.auth_enabled && request.route != "/loki/api/v1/status/buildinfo" &&
        request.route != "/loki/api/v1/format_query" && request.Header("X-Scope-OrgID").empty()) {
      return FakeResponse::GoError(401, "no org id");
    }
    return std::nullopt;
  });
  server_->Route("POST", "/loki/api/v1/push", [&s](FakeRequest& r) { return s.Push(r); });
  server_->Route("GET", "/loki/api/v1/query_range",
                 [&s](FakeRequest& r) { return s.QueryRange(r); });
  server_->Route("GET", "/loki/api/v1/query", [&s](FakeRequest& r) { return s.InstantQuery(r); });
  server_->Route("GET", "/prometheus/api/v1/rules",
                 [&s](FakeRequest& r) { return s.PrometheusRules(r); });
  if (VersionAtLeast(s.options.version, 3, 0)) {
    // OTLP logs exist from 3.0 (2.9 answers 404 there, and an otlphttp exporter loses its logs).
    server_->Route("POST", "/otlp/v1/logs", [](FakeRequest& r) {
      const std::string type = r.Header("Content-Type");
      if (type != "application/json" && type != "application/x-protobuf") {
        return FakeResponse::GoError(400, "unsupported content type: " + type);
      }
      return FakeResponse{.status = 204};
    });
  }
  for (const std::string prefix : {"/loki/api/v1/rules", "/api/prom/rules"}) {
    server_->Route("GET", prefix, [&s](FakeRequest& r) { return s.ListRules(r, ""); });
    server_->Route("GET", prefix + "/{namespace}",
                   [&s](FakeRequest& r) { return s.ListRules(r, r.Param("namespace")); });
    server_->Route("GET", prefix + "/{namespace}/{group}",
                   [&s](FakeRequest& r) { return s.GetGroup(r); });
    server_->Route("POST", prefix + "/{namespace}",
                   [&s](FakeRequest& r) { return s.PostGroup(r); });
    server_->Route("DELETE", prefix + "/{namespace}/{group}",
                   [&s](FakeRequest& r) { return s.DeleteGroup(r); });
    server_->Route("DELETE", prefix + "/{namespace}",
                   [&s](FakeRequest& r) { return s.DeleteNamespace(r); });
  }
  server_->Start();
}

FakeLoki::~FakeLoki() {
  server_->Stop();
}

void FakeLoki::SetReady(std::optional<bool> ready) {
  std::lock_guard lock(state_->mutex);
  state_->forced_ready = ready;
}

std::vector<LokiEntry> FakeLoki::Entries(const std::string& tenant) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->entries.find(tenant);
  return it == state_->entries.end() ? std::vector<LokiEntry>{} : it->second;
}

std::map<std::string, std::map<std::string, YAML::Node>> FakeLoki::RuleGroups(
    const std::string& tenant) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->rules.find(tenant);
  if (it == state_->rules.end()) {
    return {};
  }
  std::map<std::string, std::map<std::string, YAML::Node>> out;
  for (const auto& [ns, groups] : it->second) {
    for (const auto& [name, group] : groups) {
      out[ns][name] = YAML::Clone(group);
    }
  }
  return out;
}

void FakeLoki::SeedRuleGroup(const std::string& tenant,
                             const std::string& ns,
                             const std::string& yaml) {
  std::vector<std::string> ignored;
  const auto group = DecodeGroup(YAML::Load(yaml), ignored);
  if (!group) {
    throw std::invalid_argument("not a rule group: " + yaml);
  }
  std::lock_guard lock(state_->mutex);
  state_->rules[tenant][ns][(*group)["name"].as<std::string>()] = *group;
}

void FakeLoki::SetRuleEvaluationError(const std::string& tenant,
                                      const std::string& rule,
                                      const std::string& error) {
  std::lock_guard lock(state_->mutex);
  if (error.empty()) {
    state_->rule_errors[tenant].erase(rule);
  } else {
    state_->rule_errors[tenant][rule] = error;
  }
}

}  // namespace obsforge::fakes
