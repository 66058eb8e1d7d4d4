#include "fakes/fake_loki.h"

#include <algorithm>
#include <cctype>
#include <regex>

#include <Poco/DateTimeParser.h>
#include <Poco/Timestamp.h>
#include <nlohmann/json.hpp>

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

FakeResponse Accepted() {
  return FakeResponse::Json(202, json{{"status", "success"}});
}

// "" when the group is valid, else the 400 message (Prometheus rulefmt wording).
std::string ValidateGroup(const YAML::Node& group) {
  if (!group.IsMap()) {
    return "unable to decoded rule group";
  }
  if (!group["name"] || group["name"].as<std::string>("").empty()) {
    return "invalid rules config: rule group name must not be empty";
  }
  if (!group["rules"] || !group["rules"].IsSequence() || group["rules"].size() == 0) {
    return "invalid rules config: rule group '" + group["name"].as<std::string>() +
           "' has no rules";
  }
  int index = 0;
  for (const auto& rule : group["rules"]) {
    const std::string where = "invalid rules config: group '" + group["name"].as<std::string>() +
                              "', rule " + std::to_string(index++) + ": ";
    if (!rule.IsMap()) {
      return where + "rule is not a map";
    }
    const bool alert = rule["alert"] && !rule["alert"].as<std::string>("").empty();
    const bool record = rule["record"] && !rule["record"].as<std::string>("").empty();
    if (alert && record) {
      return where + "only one of 'record' and 'alert' must be set";
    }
    if (!alert && !record) {
      return where + "one of 'record' or 'alert' must be set";
    }
    if (!rule["expr"] || rule["expr"].as<std::string>("").empty()) {
      return where + "field 'expr' must be set in rule";
    }
    if (record && (rule["for"] || rule["annotations"])) {
      return where + "invalid field 'for' or 'annotations' in recording rule";
    }
  }
  return "";
}

}  // namespace

struct FakeLoki::State {
  LokiOptions options;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  mutable std::mutex mutex;
  std::optional<bool> forced_ready;
  std::map<std::string, std::vector<LokiEntry>> entries;
  std::map<std::string, std::map<std::string, std::map<std::string, YAML::Node>>> rules;

  std::string Tenant(const FakeRequest& request) const {
    return options.auth_enabled ? request.Header("X-Scope-OrgID") : "fake";
  }

  FakeResponse Push(FakeRequest& request) {
    const std::string type = request.Header("Content-Type");
    if (!type.starts_with("application/json")) {
      return FakeResponse::Text(400, "this fake only accepts Content-Type: application/json");
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
      return FakeResponse::Text(400,
                                "log queries are not supported as an instant query type, please "
                                "change your query to a range query type");
    }
    return FakeResponse::Json(
        200,
        json{{"status", "success"},
             {"data",
              {{"resultType", "vector"}, {"result", json::array()}, {"stats", json::object()}}}});
  }

  FakeResponse ListRules(FakeRequest& request, const std::string& ns) {
    std::lock_guard lock(mutex);
    const auto& tenant_rules = rules[Tenant(request)];
    YAML::Node out(YAML::NodeType::Map);
    for (const auto& [name, groups] : tenant_rules) {
      if ((!ns.empty() && name != ns) || groups.empty()) {
        continue;
      }
      YAML::Node list(YAML::NodeType::Sequence);
      for (const auto& [group_name, group] : groups) {
        list.push_back(group);
      }
      out[name] = list;
    }
    if (out.size() == 0) {
      return FakeResponse::Text(404, "no rule groups found");
    }
    return Yaml(200, out);
  }

  FakeResponse GetGroup(FakeRequest& request) {
    std::lock_guard lock(mutex);
    auto& tenant_rules = rules[Tenant(request)];
    auto ns = tenant_rules.find(request.Param("namespace"));
    if (ns != tenant_rules.end()) {
      auto group = ns->second.find(request.Param("group"));
      if (group != ns->second.end()) {
        return Yaml(200, group->second);
      }
    }
    return FakeResponse::Text(404, "group does not exist");
  }

  FakeResponse PostGroup(FakeRequest& request) {
    YAML::Node group;
    try {
      group = YAML::Load(request.body);
    } catch (const YAML::Exception&) {
      return FakeResponse::Text(400, "unable to decoded rule group");
    }
    if (!group.IsMap()) {
      return FakeResponse::Text(400, "unable to decoded rule group");
    }
    if (auto bad = ValidateGroup(group); !bad.empty()) {
      return FakeResponse::Text(400, bad);
    }
    std::lock_guard lock(mutex);
    rules[Tenant(request)][request.Param("namespace")][group["name"].as<std::string>()] =
        YAML::Clone(group);
    return Accepted();
  }

  FakeResponse DeleteGroup(FakeRequest& request) {
    std::lock_guard lock(mutex);
    auto& tenant_rules = rules[Tenant(request)];
    auto ns = tenant_rules.find(request.Param("namespace"));
    if (ns == tenant_rules.end() || ns->second.erase(request.Param("group")) == 0) {
      return FakeResponse::Text(404, "group does not exist");
    }
    if (ns->second.empty()) {
      tenant_rules.erase(ns);
    }
    return Accepted();
  }

  FakeResponse DeleteNamespace(FakeRequest& request) {
    std::lock_guard lock(mutex);
    if (rules[Tenant(request)].erase(request.Param("namespace")) == 0) {
      return FakeResponse::Text(404, "namespace does not exist");
    }
    return Accepted();
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
    return ready ? FakeResponse::Text(200, "ready") : FakeResponse::Text(503, kNotReady);
  });
  server_->Route("GET", "/loki/api/v1/status/buildinfo", [&s](FakeRequest&) {
    return FakeResponse::Json(200, json{{"version", s.options.version},
                                        {"revision", "fake"},
                                        {"branch", "HEAD"},
                                        {"buildDate", "2024-01-01T00:00:00Z"},
                                        {"buildUser", "obsforge"},
                                        {"goVersion", "go1.22.0"}});
  });
  server_->SetGuard([&s](const FakeRequest& request) -> std::optional<FakeResponse> {
    const bool api = request.path.starts_with("/loki/api/") ||
                     request.path.starts_with("/api/prom/") ||
                     request.path.starts_with("/prometheus/");
    if (api && s.options.auth_enabled && request.route != "/loki/api/v1/status/buildinfo" &&
        request.Header("X-Scope-OrgID").empty()) {
      return FakeResponse::Text(401, "no org id");
    }
    return std::nullopt;
  });
  server_->Route("POST", "/loki/api/v1/push", [&s](FakeRequest& r) { return s.Push(r); });
  server_->Route("GET", "/loki/api/v1/query_range",
                 [&s](FakeRequest& r) { return s.QueryRange(r); });
  server_->Route("GET", "/loki/api/v1/query", [&s](FakeRequest& r) { return s.InstantQuery(r); });
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
  YAML::Node group = YAML::Load(yaml);
  std::lock_guard lock(state_->mutex);
  state_->rules[tenant][ns][group["name"].as<std::string>()] = group;
}

}  // namespace obsforge::fakes
