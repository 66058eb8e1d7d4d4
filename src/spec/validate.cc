#include "spec/validate.h"

#include <algorithm>
#include <set>

#include "spec/checks.h"
#include "spec/schema.h"

namespace obsforge::spec {
namespace {

using nlohmann::json;
using schema::Check;
using schema::Context;
using schema::Field;
using namespace schema;  // NOLINT(google-build-using-namespace): the table reads as a grammar

constexpr const char* kApiVersion = "obsforge/v1";
constexpr const char* kInlineSecret =
    "secret written inline; use {secret: NAME} or {secret_file: PATH}";

// --- value formats -------------------------------------------------------------------------

Check Duration() {
  return Format(IsDuration, "a duration (e.g. 30s, 5m, 1h30m)");
}
Check HostPort() {
  return Format(IsHostPort, "host:port");
}
Check HttpUrl() {
  return Format(IsHttpUrl, "an http(s) URL");
}
constexpr const char* kNameRule =
    "a valid name: lower-case letters, digits and \"-\", starting and ending with a letter or "
    "digit, at most 63 characters";
Check Name() {
  return Format(IsName, kNameRule);
}
Check AbsolutePath() {
  return Format([](std::string_view s) { return s.starts_with('/'); }, "an absolute path");
}

Check Constant(std::string expected) {
  return [expected = std::move(expected)](Context& ctx, const json& v, const std::string& path) {
    if (!v.is_string() || v.get<std::string>() != expected) {
      ctx.Report(path, path + " must be \"" + expected + "\"");
    }
  };
}

Check Ratio() {
  return [](Context& ctx, const json& v, const std::string& path) {
    if (!v.is_number()) {
      ctx.Report(path, "expected a number, got " + TypeName(v));
    } else if (!(v.get<double>() >= 0.0 && v.get<double>() <= 1.0)) {
      ctx.Report(path, "\"ratio\" must be between 0 and 1");
    }
  };
}

// A plain http(s) URL, or a secret reference (a URL that carries a token is one).
Check UrlOrSecret() {
  auto url = HttpUrl();
  auto secret = SecretRef();
  return [url, secret](Context& ctx, const json& v, const std::string& path) {
    if (v.is_string() && !LooksLikeCredential(v.get<std::string>())) {
      url(ctx, v, path);
    } else {
      secret(ctx, v, path);
    }
  };
}

// --- cross-field rules ------------------------------------------------------------------------

// Reports the second and later items of `list` whose `key` repeats an earlier one.
Check UniqueIn(std::string list, std::string key, std::string what) {
  return [list = std::move(list), key = std::move(key), what = std::move(what)](
             Context& ctx, const json& map, const std::string& path) {
    if (!map.contains(list) || !map[list].is_array()) {
      return;
    }
    std::set<std::string> seen;
    const auto& items = map[list];
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_object() || !items[i].contains(key) || !items[i][key].is_string()) {
        continue;
      }
      const auto name = items[i][key].get<std::string>();
      if (!seen.insert(name).second) {
        std::string message = "duplicate " + what;
        message.append(" \"").append(name).append("\"");
        ctx.Report(ChildPath(IndexPath(ChildPath(path, list), i), key), message);
      }
    }
  };
}

void CheckRouteReceivers(Context& ctx,
                         const json& route,
                         const std::string& path,
                         const std::set<std::string>& receivers) {
  if (!route.is_object()) {
    return;
  }
  if (route.contains("receiver") && route["receiver"].is_string()) {
    const auto name = route["receiver"].get<std::string>();
    if (!receivers.contains(name)) {
      std::string message = "route receiver \"" + name + "\" is not defined in receivers";
      ctx.Report(ChildPath(path, "receiver"), message);
    }
  }
  if (route.contains("routes") && route["routes"].is_array()) {
    for (std::size_t i = 0; i < route["routes"].size(); ++i) {
      CheckRouteReceivers(ctx, route["routes"][i], IndexPath(ChildPath(path, "routes"), i),
                          receivers);
    }
  }
}

// Every receiver a route (or sub-route) names must be declared; the root route needs one.
Check RouteReceiversDefined() {
  return [](Context& ctx, const json& am, const std::string& path) {
    if (ctx.overlay || !am.contains("route") || !am["route"].is_object()) {
      return;
    }
    std::set<std::string> receivers;
    if (am.contains("receivers") && am["receivers"].is_array()) {
      for (const auto& r : am["receivers"]) {
        if (r.is_object() && r.contains("name") && r["name"].is_string()) {
          receivers.insert(r["name"].get<std::string>());
        }
      }
    }
    const auto route_path = ChildPath(path, "route");
    if (!am["route"].contains("receiver")) {
      ctx.Report(route_path, "missing required key \"receiver\"");
    }
    CheckRouteReceivers(ctx, am["route"], route_path, receivers);
  };
}

Check PagerDutyKey() {
  return [](Context& ctx, const json& pd, const std::string& path) {
    const bool routing = pd.contains("routing_key");
    const bool service = pd.contains("service_key");
    if (routing && service) {
      ctx.Report(path, R"(set only one of "routing_key" and "service_key")");
    } else if (!routing && !service) {
      ctx.Report(path, R"(missing required key "routing_key" (or "service_key"))");
    }
  };
}

// --- the schema (docs/stack-spec.md) ---------------------------------------------------------

Check Component(std::vector<Field> fields, std::vector<Check> post = {}) {
  fields.insert(fields.begin(), {{"enabled", Bool()}, {"version", String()}});
  // `loki:` with nothing after it means "enabled, defaults".
  return Nullable(MapOf(std::move(fields), std::move(post)));
}

// Routes nest: `routes` holds more routes. Built once, under Document()'s static initialisation.
const Check& Route() {
  static Check route;
  if (!route) {
    route = MapOf({{"receiver", String()},
                   {"group_by", ListOf(String())},
                   {"group_wait", Duration()},
                   {"group_interval", Duration()},
                   {"repeat_interval", Duration()},
                   {"matchers", ListOf(String())},
                   {"continue", Bool()},
                   {"routes", ListOf(Lazy(&route))}});
  }
  return route;
}

Check Receiver() {
  const auto slack = MapOf({{"webhook", SecretRef(), true},
                            {"channel", String()},
                            {"title", String()},
                            {"text", String()},
                            {"send_resolved", Bool()}});
  const auto pagerduty = MapOf({{"routing_key", SecretRef()},
                                {"service_key", SecretRef()},
                                {"severity", String()},
                                {"send_resolved", Bool()}},
                               {PagerDutyKey()});
  const auto webhook = MapOf({{"url", UrlOrSecret(), true}, {"send_resolved", Bool()}});
  const auto email = MapOf({{"to", String(), true},
                            {"from", String()},
                            {"smarthost", HostPort()},
                            {"auth_username", String()},
                            {"auth_password", SecretRef()},
                            {"send_resolved", Bool()}});
  return MapOf({{"name", String(), true},
                {"slack", OneOrList(slack)},
                {"pagerduty", OneOrList(pagerduty)},
                {"webhook", OneOrList(webhook)},
                {"email", OneOrList(email)}});
}

// A place in a component's main file: a JSON pointer ("/server/grpc_listen_address").
Check JsonPointer() {
  return [](Context& ctx, const json& v, const std::string& path) {
    if (!v.is_string()) {
      ctx.Report(
          path, "expected a JSON pointer such as \"/server/http_listen_port\", got " + TypeName(v));
      return;
    }
    try {
      const json::json_pointer pointer(v.get<std::string>());
      if (pointer.empty()) {
        ctx.Report(path, "the whole file cannot be removed");
      }
    } catch (const json::exception&) {
      ctx.Report(path, "\"" + v.get<std::string>() +
                           R"(" is not a JSON pointer ("/key/0/key", with ~1 for "/"))");
    }
  };
}

// `secureJsonData` of a datasource: every value is a secret reference.
Check SecretMap() {
  const auto secret = SecretRef();
  return [secret](Context& ctx, const json& v, const std::string& path) {
    if (!v.is_object()) {
      ctx.Report(path, "expected a map, got " + TypeName(v));
      return;
    }
    for (const auto& [key, item] : v.items()) {
      secret(ctx, item, ChildPath(path, key));
    }
  };
}

// A Grafana datasource as the API takes it; `uid` is kept as given (dashboards refer to it).
Check GrafanaDatasource() {
  return MapOf({{"uid", String(), true},
                {"name", String(), true},
                {"type", String(), true},
                {"access", Enum({"proxy", "direct"})},
                {"url", String()},
                {"user", String()},
                {"database", String()},
                {"basicAuth", Bool()},
                {"basicAuthUser", String()},
                {"withCredentials", Bool()},
                {"isDefault", Bool()},
                {"jsonData", AnyMap()},
                {"secureJsonData", SecretMap()}});
}

// A Grafana contact point as the provisioning API takes it (secrets in `settings` as references).
Check GrafanaContactPoint() {
  return MapOf({{"uid", String(), true},
                {"name", String(), true},
                {"type", String(), true},
                {"settings", AnyMap(), true},
                {"disableResolveMessage", Bool()}});
}

// The Grafana objects an apply may take over although obsforge did not create them.
Check Adopt() {
  return MapOf({{"datasources", ListOf(String())},
                {"folders", ListOf(String())},
                {"dashboards", ListOf(String())},
                {"rule_groups", ListOf(String())},
                {"contact_points", ListOf(String())}});
}

Check Components() {
  const auto scrape_job = MapOf({{"job", String(), true},
                                 {"targets", ListOf(HostPort()), true},
                                 {"metrics_path", String()},
                                 {"scheme", Enum({"http", "https"})},
                                 {"scrape_interval", Duration()},
                                 {"scrape_timeout", Duration()},
                                 {"labels", StringMap()},
                                 {"honor_labels", Bool()}});
  return MapOf(
      {
          {"prometheus", Component({{"scrape", ListOf(scrape_job)},
                                    {"remote_write", ListOf(Any())},
                                    {"external_labels", StringMap()},
                                    {"passthrough", AnyMap()},
                                    {"passthrough_remove", ListOf(JsonPointer())}},
                                   {UniqueIn("scrape", "job", "scrape job")})},
          {"alertmanager",
           Component({{"route", Route()},
                      {"receivers", ListOf(Receiver())},
                      {"inhibit_rules", ListOf(Any())},
                      {"templates", ListOf(Glob())},
                      {"passthrough", AnyMap()},
                      {"passthrough_remove", ListOf(JsonPointer())}},
                     {UniqueIn("receivers", "name", "receiver name"), RouteReceiversDefined()})},
          {"loki", Component({{"auth_enabled", Bool()},
                              {"limits", AnyMap()},
                              {"passthrough", AnyMap()},
                              {"passthrough_remove", ListOf(JsonPointer())}})},
          {"tempo", Component({{"receivers", ListOf(Enum({"otlp_grpc", "otlp_http", "jaeger_grpc",
                                                          "jaeger_thrift_http", "zipkin"}))},
                               {"passthrough", AnyMap()},
                               {"passthrough_remove", ListOf(JsonPointer())}})},
          {"grafana", Component({{"admin", MapOf({{"user", String()}, {"password", SecretRef()}})},
                                 {"org_id", Int(1, std::numeric_limits<std::int64_t>::max())},
                                 {"disable_provenance", Bool()},
                                 {"datasources", ListOf(GrafanaDatasource())},
                                 {"contact_points", ListOf(GrafanaContactPoint())},
                                 {"adopt", Adopt()},
                                 {"passthrough", AnyMap()},
                                 {"passthrough_remove", ListOf(JsonPointer())}},
                                {UniqueIn("datasources", "uid", "datasource uid"),
                                 UniqueIn("datasources", "name", "datasource name"),
                                 UniqueIn("contact_points", "uid", "contact point uid")})},
          {"otel_collector", Component({{"sampling", MapOf({{"ratio", Ratio()}})},
                                        {"pipelines", AnyMap()},
                                        {"passthrough", AnyMap()},
                                        {"passthrough_remove", ListOf(JsonPointer())}})},
      },
      {}, "component");
}

// The parts of `spec` an environment may override.
std::vector<Field> OverridableFields() {
  const auto folder = MapOf({{"uid", String()}, {"title", String()}, {"parent_uid", String()}});
  const auto alert_folder = MapOf({{"uid", String()}, {"title", String()}});
  return {
      {"values", AnyMap()},
      {"components", Components()},
      {"dashboards",
       ListOf(
           MapOf({{"path", Glob(), true}, {"folder", folder}, {"rewrite_datasources", Bool()}}))},
      {"folders",
       ListOf(
           MapOf({{"uid", String(), true}, {"title", String(), true}, {"parent_uid", String()}}))},
      {"alerts", ListOf(MapOf({{"path", Glob(), true},
                               {"type", Enum({"prometheus", "loki", "grafana"}), true},
                               {"folder", alert_folder}}))},
      {"mixins", ListOf(MapOf({{"path", File({".libsonnet", ".jsonnet"}), true},
                               {"name", String()},
                               {"config", AnyMap()}}))},
      {"health", MapOf({{"interval", Duration()},
                        {"timeout", Duration()},
                        {"failure_threshold", Int(1, std::numeric_limits<std::int64_t>::max())},
                        {"canaries", Bool()},
                        {"notify", MapOf({{"flap_window", Duration()},
                                          {"recovery_after",
                                           Int(1, std::numeric_limits<std::int32_t>::max())}})},
                        {"slack", MapOf({{"webhook", SecretRef()}, {"channel", String()}})}})},
  };
}

Check Runtime() {
  std::vector<Field> fields = {{"type", Enum({"local", "external"}), true}};
  for (const auto& component : ComponentNames()) {
    std::vector<Field> settings = {{"url", HttpUrl()},     {"config_dir", AbsolutePath()},
                                   {"tenant", String()},   {"token", SecretRef()},
                                   {"user", String()},     {"password", SecretRef()},
                                   {"port", Int(1, 65535)}};
    if (component == "tempo") {
      // Tempo takes OTLP on its receivers' ports, not on its API url.
      settings.push_back({"otlp_http_url", HttpUrl()});
      settings.push_back({"otlp_grpc_url", HttpUrl()});
    }
    fields.push_back({component, MapOf(std::move(settings))});
  }
  return MapOf(std::move(fields));
}

// runtime is the environment's own and whole, not an overlay of anything.
Check WholeValue(Check check) {
  return [check = std::move(check)](Context& ctx, const json& v, const std::string& path) {
    const bool overlay = ctx.overlay;
    ctx.overlay = false;
    check(ctx, v, path);
    ctx.overlay = overlay;
  };
}

// environments: {<name>: Environment}; what an environment overrides may be null (it deletes).
Check Environments() {
  auto fields = OverridableFields();
  fields.insert(fields.begin(), {"runtime", WholeValue(Runtime()), true});
  const auto environment = MapOf(std::move(fields));
  return [environment](Context& ctx, const json& v, const std::string& path) {
    if (!v.is_object()) {
      ctx.Report(path, "expected a map, got " + TypeName(v));
      return;
    }
    for (const auto& [key, env] : v.items()) {
      const auto child = ChildPath(path, key);
      if (!IsName(key)) {
        ctx.Report(child, Quote(key) + " is not " + kNameRule, /*at_key=*/true);
      }
      const bool overlay = ctx.overlay;
      ctx.overlay = true;
      environment(ctx, env, child);
      ctx.overlay = overlay;
    }
  };
}

Check Document() {
  auto spec_fields = OverridableFields();
  spec_fields.push_back({"templates", Directory()});
  spec_fields.push_back({"environments", Environments()});
  return MapOf(
      {{"apiVersion", Constant(kApiVersion), true},
       {"kind", Constant("Stack"), true},
       {"metadata",
        MapOf({{"name", Name(), true}, {"labels", StringMap()}, {"annotations", StringMap()}}),
        true},
       {"spec", MapOf(std::move(spec_fields)), true}});
}

// Strings that are evidently credentials are errors wherever they are, `values` included.
void FindInlineCredentials(const Context& ctx, const json& v, const std::string& path) {
  if (v.is_string()) {
    if (LooksLikeCredential(v.get<std::string>())) {
      ctx.Report(path, kInlineSecret);
    }
  } else if (v.is_object()) {
    for (const auto& [key, item] : v.items()) {
      FindInlineCredentials(ctx, item, ChildPath(path, key));
    }
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      FindInlineCredentials(ctx, v[i], IndexPath(path, i));
    }
  }
}

// Each environment's merged result, for what only the merge reveals (a receiver an environment
// removed but a route still names). Findings already reported against the base spec or the
// environment's own subtree are not repeated.
void CheckMergedEnvironments(const Check& check_document,
                             const json& document,
                             const SourceMap& positions,
                             const Context& base,
                             std::vector<core::Diagnostic>& out) {
  std::set<std::pair<std::string, std::string>> known;
  for (const auto& d : out) {
    known.insert({d.path, d.message});
  }
  for (const auto& [env, unused] : document["spec"]["environments"].items()) {
    const std::string env_prefix = ChildPath("spec.environments", env);
    // spec.X... is where the environment wrote it when it did, else where the base did.
    auto in_env = [&env_prefix](const std::string& path) {
      return path.starts_with("spec.") ? env_prefix + path.substr(4) : path;
    };
    std::vector<core::Diagnostic> merged_out;
    Context merged{.file = base.file,
                   .locate =
                       [&positions, &in_env](const std::string& path, bool key) {
                         const auto& table = key ? positions.keys : positions.values;
                         if (auto it = table.find(in_env(path)); it != table.end()) {
                           return it->second;
                         }
                         return key ? positions.Key(path) : positions.Value(path);
                       },
                   .content = base.content,
                   .out = &merged_out};
    check_document(merged, MergedDocument(document, env), "");
    for (auto& d : merged_out) {
      if (known.contains({d.path, d.message}) || known.contains({in_env(d.path), d.message})) {
        continue;
      }
      known.insert({d.path, d.message});
      d.message += " (in environment \"" + env + "\")";
      out.push_back(std::move(d));
    }
  }
}

bool Before(const core::Diagnostic& a, const core::Diagnostic& b) {
  return std::tie(a.line, a.column, a.path, a.message) <
         std::tie(b.line, b.column, b.path, b.message);
}

}  // namespace

json MergedDocument(const json& document, const std::string& env) {
  json merged = document;
  if (!merged.is_object() || !merged.contains("spec") || !merged["spec"].is_object()) {
    return merged;
  }
  json& spec = merged["spec"];
  json overlay = json::object();
  if (spec.contains("environments") && spec["environments"].is_object() &&
      spec["environments"].contains(env) && spec["environments"][env].is_object()) {
    overlay = spec["environments"][env];
    overlay.erase("runtime");
  }
  spec.erase("environments");
  spec = MergeOver(spec, overlay);
  return merged;
}

std::vector<core::Diagnostic> ValidateStack(const json& document,
                                            const SourceMap& positions,
                                            const std::string& file,
                                            const ContentSource& content) {
  static const Check kDocument = Document();
  std::vector<core::Diagnostic> out;
  Context ctx{.file = file,
              .locate = [&positions](
                            const std::string& path,
                            bool key) { return key ? positions.Key(path) : positions.Value(path); },
              .content = &content,
              .out = &out};
  if (document.is_null()) {
    ctx.Report("", "the document is empty; a stack spec starts with apiVersion: " +
                       std::string(kApiVersion));
    return out;
  }
  kDocument(ctx, document, "");
  FindInlineCredentials(ctx, document, "");

  if (document.is_object() && document.contains("spec") && document["spec"].is_object() &&
      document["spec"].contains("environments") && document["spec"]["environments"].is_object()) {
    CheckMergedEnvironments(kDocument, document, positions, ctx, out);
  }

  std::sort(out.begin(), out.end(), Before);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace obsforge::spec
