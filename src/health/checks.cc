#include "health/checks.h"

#include <charconv>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "http/url.h"

namespace obsforge::health {
namespace {

using json = nlohmann::json;
using Answer = core::Result<http::Response>;
using Steady = std::chrono::steady_clock;

constexpr std::size_t kBodyExcerpt = 200;

std::string Excerpt(std::string_view body) {
  std::string out(body.substr(0, kBodyExcerpt));
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) {
    out.pop_back();
  }
  if (body.size() > kBodyExcerpt) {
    out += "…";
  }
  return out;
}

// Wraps a parser of a 200 response: transport errors and other statuses fail generically.
ResponseParser On200(std::function<ProbeOutcome(const http::Response&)> parse) {
  return [parse = std::move(parse)](const Answer& answer) {
    if (!answer.ok() || answer->status != 200) {
      return ExpectStatus200(answer);
    }
    return parse(*answer);
  };
}

std::optional<json> ParseJson(const http::Response& response) {
  auto parsed = json::parse(response.body, nullptr, false);
  if (parsed.is_discarded()) {
    return std::nullopt;
  }
  return parsed;
}

ProbeOutcome NotJson() {
  return ProbeOutcome::Fail("response is not valid JSON");
}

std::string Str(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

http::Request Get(const std::string& base, std::string_view path, const CheckOptions& options) {
  http::Request request{.url = http::JoinUrl(base, path)};
  request.timeout = options.timeout;
  request.connect_timeout = std::min(options.timeout, std::chrono::milliseconds(3000));
  return request;
}

ComponentCheck Make(std::string component,
                    std::string name,
                    bool critical,
                    http::Request request,
                    ResponseParser parser,
                    const CheckOptions& options) {
  return ComponentCheck{.component = std::move(component),
                        .name = std::move(name),
                        .critical = critical,
                        .definition = CheckDefinition{.request = std::move(request),
                                                      .parser = std::move(parser),
                                                      .interval = options.interval}};
}

std::string NowNanos(core::Clock& clock) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock.Now().time_since_epoch());
  return std::to_string(ns.count());
}

http::Headers TenantHeader(const Endpoints& endpoints) {
  http::Headers headers;
  if (!endpoints.loki_tenant.empty()) {
    headers.emplace_back("X-Scope-OrgID", endpoints.loki_tenant);
  }
  return headers;
}

// A read-back step: 200 with the item found passes; 404 or 200 without it retries until
// `deadline`, then fails with `missing`; anything else fails at once.
ResponseParser ReadBack(http::Request request,
                        std::function<bool(const http::Response&)> found,
                        core::Clock& clock,
                        Steady::time_point deadline,
                        std::chrono::milliseconds poll,
                        std::string missing) {
  return [request = std::move(request), found = std::move(found), &clock, deadline, poll,
          missing = std::move(missing)](const Answer& answer) -> ProbeOutcome {
    if (answer.ok() && answer->status == 200 && found(*answer)) {
      return ProbeOutcome::Ok();
    }
    if (answer.ok() && answer->status != 200 && answer->status != 404) {
      return ExpectStatus200(answer);
    }
    if (clock.Monotonic() + poll > deadline) {
      return ProbeOutcome::Fail(answer.ok() ? missing : answer.error().message);
    }
    ProbeOutcome again;
    again.next = std::make_shared<FollowUp>(
        FollowUp{.request = request,
                 .parser = ReadBack(request, found, clock, deadline, poll, missing),
                 .delay = poll});
    return again;
  };
}

struct CanaryRun {
  std::string id;
  std::string timestamp_ns;
  Steady::time_point deadline;
};

// The log canary writes every run to the same stream (one stream, not one per run: Loki keeps
// an index entry per stream) and tells its line apart by the id in the line.
constexpr const char* kCanaryStream = "obsforge-canary";

ComponentCheck LokiCanary(const Endpoints& endpoints,
                          const CheckOptions& options,
                          core::Clock& clock,
                          IdSource ids) {
  auto run = std::make_shared<CanaryRun>();
  ComponentCheck check = Make("loki", "canary_logs", false, {}, nullptr, options);
  check.canary = true;
  const http::Headers tenant = TenantHeader(endpoints);
  const std::string base = endpoints.loki;
  check.definition.make_request = [run, ids, base, tenant, options, &clock] {
    run->id = ids(16);
    run->timestamp_ns = NowNanos(clock);
    run->deadline = clock.Monotonic() + options.canary_deadline;
    json body{
        {"streams",
         json::array({{{"stream", {{"job", kCanaryStream}}},
                       {"values", json::array({json::array(
                                      {run->timestamp_ns, "obsforge canary " + run->id})})}}})}};
    http::Request request = Get(base, "/loki/api/v1/push", options);
    request.method = "POST";
    request.headers = tenant;
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body.dump();
    return request;
  };
  check.definition.parser = [run, base, tenant, options,
                             &clock](const Answer& answer) -> ProbeOutcome {
    if (!answer.ok()) {
      return ProbeOutcome::Fail(answer.error().message);
    }
    if (answer->status != 204 && answer->status != 200) {
      return ProbeOutcome::Fail("push: HTTP " + std::to_string(answer->status) + ": " +
                                Excerpt(answer->body));
    }
    const std::string line = "obsforge canary " + run->id;
    const long long ns = std::atoll(run->timestamp_ns.c_str());
    http::Request query =
        Get(base,
            "/loki/api/v1/query_range?" +
                http::BuildQuery(
                    {{"query", std::string("{job=\"") + kCanaryStream + "\"} |= \"" + line + "\""},
                     {"start", std::to_string(ns - 60'000'000'000LL)},
                     {"end", std::to_string(ns + 60'000'000'000LL)},
                     {"limit", "5"}}),
            options);
    query.headers = tenant;
    auto found = [line](const http::Response& response) {
      const auto body = ParseJson(response);
      if (!body || !body->is_object() || !body->contains("data")) {
        return false;
      }
      for (const auto& stream : (*body)["data"].value("result", json::array())) {
        for (const auto& value : stream.value("values", json::array())) {
          if (value.is_array() && value.size() >= 2 && value[1] == line) {
            return true;
          }
        }
      }
      return false;
    };
    ProbeOutcome outcome;
    outcome.next = std::make_shared<FollowUp>(
        FollowUp{.request = query,
                 .parser = ReadBack(query, found, clock, run->deadline, options.canary_poll,
                                    "canary log line not found in Loki within " +
                                        std::to_string(options.canary_deadline.count()) + " ms")});
    return outcome;
  };
  return check;
}

// Whether a GET /api/traces/{id} answer holds a span of trace `hex_id`. Tempo's JSON is
// protobuf JSON: ids are base64 of the bytes (Tempo 2.2: {"batches": [...]}); hex ids and the
// OTLP shape {"resourceSpans": [...]} are accepted too.
bool HoldsTrace(const http::Response& response, const std::string& hex_id) {
  const auto body = ParseJson(response);
  if (!body || !body->is_object()) {
    return false;
  }
  const auto bytes = core::FromHex(hex_id);
  const std::string base64 = bytes ? core::Base64Encode(*bytes) : "";
  const json* batches = nullptr;
  for (const char* key : {"batches", "resourceSpans"}) {
    if (const auto it = body->find(key); it != body->end() && it->is_array()) {
      batches = &*it;
    }
  }
  if (const auto trace = body->find("trace"); batches == nullptr && trace != body->end() &&
                                              trace->is_object() &&
                                              trace->contains("resourceSpans")) {
    batches = &(*trace)["resourceSpans"];
  }
  if (batches == nullptr || !batches->is_array()) {
    return false;
  }
  for (const auto& batch : *batches) {
    if (!batch.is_object()) {
      continue;
    }
    for (const char* scopes_key : {"scopeSpans", "instrumentationLibrarySpans"}) {
      for (const auto& scope : batch.value(scopes_key, json::array())) {
        if (!scope.is_object()) {
          continue;
        }
        for (const auto& span : scope.value("spans", json::array())) {
          const std::string id = span.is_object() ? Str(span, "traceId") : "";
          if (!id.empty() &&
              (id == base64 || core::ToHex(core::FromHex(id).value_or("")) == hex_id)) {
            return true;
          }
        }
      }
    }
  }
  return false;
}

// A check that cannot work as configured: it still runs (its request only shows Tempo is there)
// and reports `why` every time.
ComponentCheck Misconfigured(std::string component,
                             std::string name,
                             http::Request request,
                             std::string why,
                             const CheckOptions& options) {
  return Make(
      std::move(component), std::move(name), false, std::move(request),
      [why = std::move(why)](const Answer&) { return ProbeOutcome::Fail(why); }, options);
}

ComponentCheck TempoCanary(const Endpoints& endpoints,
                           const CheckOptions& options,
                           core::Clock& clock,
                           IdSource ids) {
  if (endpoints.tempo_otlp.empty()) {
    ComponentCheck check =
        Misconfigured("tempo", "canary_traces", Get(endpoints.tempo, "/ready", options),
                      "Tempo has no OTLP/HTTP receiver to push the canary span to (it never "
                      "takes OTLP on its API port): turn on the otlp_http receiver "
                      "(components.tempo.receivers) or set runtime.tempo.otlp_http_url",
                      options);
    check.canary = true;
    return check;
  }
  auto run = std::make_shared<CanaryRun>();
  ComponentCheck check = Make("tempo", "canary_traces", false, {}, nullptr, options);
  check.canary = true;
  const std::string otlp = endpoints.tempo_otlp;
  const std::string base = endpoints.tempo;
  check.definition.make_request = [run, ids, otlp, options, &clock] {
    run->id = ids(32);
    run->timestamp_ns = NowNanos(clock);
    run->deadline = clock.Monotonic() + options.canary_deadline;
    const std::string end = std::to_string(std::atoll(run->timestamp_ns.c_str()) + 1'000'000);
    json span{
        {"traceId", run->id}, {"spanId", run->id.substr(0, 16)},        {"name", "obsforge-canary"},
        {"kind", 1},          {"startTimeUnixNano", run->timestamp_ns}, {"endTimeUnixNano", end}};
    json body{
        {"resourceSpans",
         json::array(
             {{{"resource",
                {{"attributes", json::array({{{"key", "service.name"},
                                              {"value", {{"stringValue", "obsforge-canary"}}}}})}}},
               {"scopeSpans", json::array({{{"scope", {{"name", "obsforge"}}},
                                            {"spans", json::array({span})}}})}}})}};
    http::Request request = Get(otlp, "/v1/traces", options);
    request.method = "POST";
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body.dump();
    return request;
  };
  check.definition.parser = [run, base, otlp, options,
                             &clock](const Answer& answer) -> ProbeOutcome {
    if (!answer.ok()) {
      return ProbeOutcome::Fail(answer.error().message);
    }
    if (answer->status != 200) {
      std::string error =
          "push: HTTP " + std::to_string(answer->status) + ": " + Excerpt(answer->body);
      if (answer->status == 404) {
        error += " (" + http::RedactUrl(otlp) + " is not an OTLP/HTTP receiver)";
      }
      return ProbeOutcome::Fail(std::move(error));
    }
    http::Request query = Get(base, "/api/traces/" + run->id, options);
    const std::string id = run->id;
    ProbeOutcome outcome;
    outcome.next = std::make_shared<FollowUp>(
        FollowUp{.request = query,
                 .parser = ReadBack(
                     query, [id](const http::Response& r) { return HoldsTrace(r, id); }, clock,
                     run->deadline, options.canary_poll,
                     "canary trace not found in Tempo within " +
                         std::to_string(options.canary_deadline.count()) + " ms")});
    return outcome;
  };
  return check;
}

// Loki's ruler reports each rule's last evaluation in the Prometheus format; a failing LogQL
// evaluation shows up nowhere else.
ComponentCheck LokiRules(const Endpoints& endpoints, const CheckOptions& options) {
  http::Request request = Get(endpoints.loki, "/prometheus/api/v1/rules", options);
  request.headers = TenantHeader(endpoints);
  return Make(
      "loki", "rules", false, std::move(request),
      [](const Answer& answer) {
        if (answer.ok() && answer->status == 404) {
          return ProbeOutcome::Ok(0);  // no ruler in this Loki: no rules to fail
        }
        return On200(ParseRules)(answer);
      },
      options);
}

// Tempo's distributor counts what its receivers refuse and what it fails to hand to the
// ingesters; either growing between two runs means spans are being lost.
ComponentCheck TempoIngestion(const Endpoints& endpoints, const CheckOptions& options) {
  struct Counters {
    std::optional<double> refused;
    std::optional<double> failures;
  };
  auto last = std::make_shared<Counters>();
  return Make("tempo", "ingestion", false, Get(endpoints.tempo, "/metrics", options),
              On200([last](const http::Response& r) {
                auto sum = [&r](std::initializer_list<const char*> names) {
                  double total = 0;
                  for (const char* name : names) {
                    total += MetricSum(r.body, name).value_or(0);
                  }
                  return total;
                };
                const double refused =
                    sum({"tempo_receiver_refused_spans", "tempo_receiver_refused_spans_total"});
                const double failures = sum({"tempo_distributor_ingester_append_failures_total"});
                const double received = sum({"tempo_distributor_spans_received_total"});
                const Counters before = *last;
                *last = Counters{.refused = refused, .failures = failures};
                const double new_refused = before.refused ? refused - *before.refused : 0;
                const double new_failures = before.failures ? failures - *before.failures : 0;
                if (new_refused > 0 || new_failures > 0) {
                  return ProbeOutcome::Fail(
                      std::to_string(static_cast<long long>(new_refused)) +
                          " spans refused by the receivers and " +
                          std::to_string(static_cast<long long>(new_failures)) +
                          " failed ingester appends since the last check",
                      received);
                }
                return ProbeOutcome::Ok(received);
              }),
              options);
}

// The check component name of a spec component.
std::string CheckComponent(const std::string& component) {
  return component == "otel_collector" ? "otelcol" : component;
}

std::string BaseOf(const Endpoints& endpoints, const std::string& component) {
  if (component == "prometheus") {
    return endpoints.prometheus;
  }
  if (component == "alertmanager") {
    return endpoints.alertmanager;
  }
  if (component == "loki") {
    return endpoints.loki;
  }
  if (component == "tempo") {
    return endpoints.tempo;
  }
  if (component == "grafana") {
    return endpoints.grafana;
  }
  return "";
}

void AddVersionChecks(const Endpoints& endpoints,
                      const CheckOptions& options,
                      std::vector<ComponentCheck>& out) {
  for (const auto& [component, declared] : endpoints.versions) {
    const std::string base = BaseOf(endpoints, component);
    if (base.empty() || declared.empty()) {
      continue;
    }
    auto probe = VersionProbeFor(component, base);
    if (!probe) {
      continue;
    }
    probe->request.timeout = options.timeout;
    probe->request.connect_timeout = std::min(options.timeout, std::chrono::milliseconds(3000));
    out.push_back(Make(CheckComponent(component), "version", false, std::move(probe->request),
                       On200([read = probe->read, declared](const http::Response& r) {
                         const std::string running = read(r);
                         if (!VersionMatches(declared, running)) {
                           return ProbeOutcome::Fail(VersionSkewMessage(declared, running));
                         }
                         return ProbeOutcome::Ok();
                       }),
                       options));
  }
}

}  // namespace

IdSource RandomIds() {
  struct Shared {
    std::mutex mu;
    std::mt19937_64 rng{std::random_device{}()};
  };
  auto shared = std::make_shared<Shared>();
  return [shared](int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    std::lock_guard lock(shared->mu);
    while (static_cast<int>(out.size()) < digits) {
      std::uint64_t bits = shared->rng();
      for (int i = 0; i < 16 && static_cast<int>(out.size()) < digits; ++i, bits >>= 4u) {
        out.push_back(kHex[bits & 0xfu]);
      }
    }
    return out;
  };
}

ProbeOutcome ExpectStatus200(const core::Result<http::Response>& answer) {
  if (!answer.ok()) {
    return ProbeOutcome::Fail(answer.error().message);
  }
  if (answer->status == 200) {
    return ProbeOutcome::Ok();
  }
  std::string error = "HTTP " + std::to_string(answer->status);
  if (const std::string excerpt = Excerpt(answer->body); !excerpt.empty()) {
    error += ": " + excerpt;
  }
  return ProbeOutcome::Fail(std::move(error));
}

ProbeOutcome ParseReloadMetric(const http::Response& response, std::string_view metric) {
  const auto value = MetricValue(response.body, metric);
  if (!value) {
    return ProbeOutcome::Fail(std::string(metric) + " not found in /metrics");
  }
  if (*value != 1.0) {
    return ProbeOutcome::Fail(std::string(metric) + " is 0 (the last configuration reload failed)",
                              *value);
  }
  return ProbeOutcome::Ok(*value);
}

ProbeOutcome ParseTargets(const http::Response& response, double min_share) {
  const auto body = ParseJson(response);
  if (!body || !body->is_object() || !body->contains("data")) {
    return NotJson();
  }
  int total = 0;
  int up = 0;
  std::vector<std::string> down;
  for (const auto& target : (*body)["data"].value("activeTargets", json::array())) {
    const std::string health = Str(target, "health");
    if (health == "unknown") {
      continue;  // not scraped yet
    }
    ++total;
    if (health == "up") {
      ++up;
    } else {
      down.push_back(Str(target, "scrapePool") + " " + Str(target, "scrapeUrl") + ": " +
                     Str(target, "lastError"));
    }
  }
  const double share = total == 0 ? 1.0 : static_cast<double>(up) / total;
  if (share >= min_share) {
    return ProbeOutcome::Ok(share);
  }
  std::string error =
      std::to_string(total - up) + " of " + std::to_string(total) + " targets down: ";
  for (std::size_t i = 0; i < down.size(); ++i) {
    error += (i == 0 ? "" : "; ") + down[i];
  }
  return ProbeOutcome::Fail(std::move(error), share);
}

ProbeOutcome ParseRules(const http::Response& response) {
  const auto body = ParseJson(response);
  if (!body || !body->is_object() || !body->contains("data")) {
    return NotJson();
  }
  std::vector<std::string> failing;
  for (const auto& group : (*body)["data"].value("groups", json::array())) {
    for (const auto& rule : group.value("rules", json::array())) {
      if (Str(rule, "health") == "err") {
        failing.push_back(Str(group, "file") + "/" + Str(group, "name") + "/" + Str(rule, "name") +
                          ": " + Str(rule, "lastError"));
      }
    }
  }
  if (failing.empty()) {
    return ProbeOutcome::Ok(0);
  }
  std::string error = std::to_string(failing.size()) + " rules failing: ";
  for (std::size_t i = 0; i < failing.size(); ++i) {
    error += (i == 0 ? "" : "; ") + failing[i];
  }
  return ProbeOutcome::Fail(std::move(error), static_cast<double>(failing.size()));
}

ProbeOutcome ParseAlertmanagerStatus(const http::Response& response) {
  const auto body = ParseJson(response);
  if (!body || !body->is_object()) {
    return NotJson();
  }
  const std::string status = Str(body->value("cluster", json::object()), "status");
  if (status == "ready" || status == "disabled") {
    return ProbeOutcome::Ok();
  }
  return ProbeOutcome::Fail("cluster status is " + (status.empty() ? "missing" : status));
}

ProbeOutcome ParseDatasourceHealth(const http::Response& response) {
  const auto body = ParseJson(response);
  const std::string message = body && body->is_object() ? Str(*body, "message") : "";
  if (response.status == 200 && body && body->is_object() && Str(*body, "status") == "OK") {
    return ProbeOutcome::Ok();
  }
  return ProbeOutcome::Fail("HTTP " + std::to_string(response.status) + ": " +
                            (message.empty() ? Excerpt(response.body) : message));
}

namespace {

// Calls `visit(labels, value)` for each sample of `metric` (exactly that name) in `text`;
// `labels` is what is between the braces ("" without).
template <typename Visit>
void ForEachSample(std::string_view text, std::string_view metric, Visit visit) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.starts_with(metric) || line.size() == metric.size()) {
      continue;
    }
    std::string_view rest = line.substr(metric.size());
    std::string_view labels;
    if (rest.front() == '{') {
      const auto close = rest.rfind('}');
      if (close == std::string_view::npos) {
        continue;
      }
      labels = rest.substr(1, close - 1);
      rest = rest.substr(close + 1);
    } else if (rest.front() != ' ') {
      continue;  // a longer metric name with this prefix
    }
    while (!rest.empty() && rest.front() == ' ') {
      rest.remove_prefix(1);
    }
    const std::string value(rest.substr(0, rest.find(' ')));
    char* parsed_end = nullptr;
    const double v = std::strtod(value.c_str(), &parsed_end);
    if (value.empty() || parsed_end != value.c_str() + value.size()) {
      continue;
    }
    if (!visit(labels, v)) {
      return;
    }
  }
}

// The value of `label` in a label set `a="x",b="y\"z"` (escapes undone), or "".
std::string LabelValue(std::string_view labels, std::string_view label) {
  std::size_t i = 0;
  while (i < labels.size()) {
    while (i < labels.size() && (labels[i] == ',' || labels[i] == ' ')) {
      ++i;
    }
    const auto eq = labels.find('=', i);
    if (eq == std::string_view::npos || eq + 1 >= labels.size() || labels[eq + 1] != '"') {
      return "";
    }
    const std::string_view name = labels.substr(i, eq - i);
    std::string value;
    std::size_t j = eq + 2;
    for (; j < labels.size() && labels[j] != '"'; ++j) {
      if (labels[j] == '\\' && j + 1 < labels.size()) {
        ++j;
        value += labels[j] == 'n' ? '\n' : labels[j];
      } else {
        value += labels[j];
      }
    }
    if (name == label) {
      return value;
    }
    i = j + 1;
  }
  return "";
}

// "2.9.9" → {2, 9, 9}; nullopt unless it starts with a number ("v" allowed first). Parts after
// the first non-numeric one ("3.0.0-rc.1" → {3, 0}) are left out.
std::optional<std::vector<long>> VersionNumbers(std::string_view v) {
  if (v.starts_with('v')) {
    v.remove_prefix(1);
  }
  std::vector<long> out;
  while (!v.empty()) {
    long n = 0;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || ptr == v.data()) {
      break;
    }
    out.push_back(n);
    v.remove_prefix(static_cast<std::size_t>(ptr - v.data()));
    if (v.empty() || v.front() != '.') {
      break;
    }
    v.remove_prefix(1);
  }
  if (out.empty()) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::optional<double> MetricSum(std::string_view text, std::string_view metric) {
  std::optional<double> total;
  ForEachSample(text, metric, [&](std::string_view, double v) {
    total = total.value_or(0) + v;
    return true;
  });
  return total;
}

std::optional<double> MetricValue(std::string_view text, std::string_view metric) {
  std::optional<double> first;
  ForEachSample(text, metric, [&](std::string_view, double v) {
    first = v;
    return false;
  });
  return first;
}

std::string MetricLabel(std::string_view text, std::string_view metric, std::string_view label) {
  std::string out;
  ForEachSample(text, metric, [&](std::string_view labels, double) {
    out = LabelValue(labels, label);
    return false;
  });
  return out;
}

std::optional<VersionProbe> VersionProbeFor(const std::string& component,
                                            const std::string& base_url) {
  auto build_info = [&](const std::string& metric) {
    return VersionProbe{.request = {.url = http::JoinUrl(base_url, "/metrics")},
                        .read = [metric](const http::Response& r) {
                          return MetricLabel(r.body, metric, "version");
                        }};
  };
  auto json_field = [&](const char* path) {
    return VersionProbe{.request = {.url = http::JoinUrl(base_url, path)},
                        .read = [](const http::Response& r) {
                          const auto body = ParseJson(r);
                          return body && body->is_object() ? Str(*body, "version") : "";
                        }};
  };
  if (component == "prometheus" || component == "alertmanager" || component == "tempo") {
    return build_info(component + "_build_info");
  }
  if (component == "loki") {
    return json_field("/loki/api/v1/status/buildinfo");
  }
  if (component == "grafana") {
    return json_field("/api/health");
  }
  return std::nullopt;
}

bool VersionMatches(std::string_view declared, std::string_view running) {
  const auto want = VersionNumbers(declared);
  const auto have = VersionNumbers(running);
  if (!want || !have) {
    return true;  // a development build (or nothing declared): nothing to compare
  }
  for (std::size_t i = 0; i < want->size(); ++i) {
    if (i >= have->size() || (*want)[i] != (*have)[i]) {
      return false;
    }
  }
  return true;
}

std::string VersionSkewMessage(std::string_view declared, std::string_view running) {
  return "running " + std::string(running) + ", the spec declares " + std::string(declared) +
         " (the configuration is written for " + std::string(declared) + ")";
}

std::vector<ComponentCheck> BuildComponentChecks(const Endpoints& endpoints,
                                                 const CheckOptions& options,
                                                 core::Clock& clock,
                                                 IdSource ids) {
  std::vector<ComponentCheck> out;
  if (!endpoints.prometheus.empty()) {
    const auto& p = endpoints.prometheus;
    out.push_back(Make("prometheus", "healthy", true, Get(p, "/-/healthy", options),
                       ExpectStatus200, options));
    out.push_back(
        Make("prometheus", "ready", true, Get(p, "/-/ready", options), ExpectStatus200, options));
    out.push_back(Make("prometheus", "config_reload", false, Get(p, "/metrics", options),
                       On200([](const http::Response& r) {
                         return ParseReloadMetric(r, "prometheus_config_last_reload_successful");
                       }),
                       options));
    const double share = options.min_targets_up_share;
    out.push_back(
        Make("prometheus", "targets", false, Get(p, "/api/v1/targets?state=active", options),
             On200([share](const http::Response& r) { return ParseTargets(r, share); }), options));
    out.push_back(Make("prometheus", "rules", false, Get(p, "/api/v1/rules", options),
                       On200(ParseRules), options));
  }
  if (!endpoints.alertmanager.empty()) {
    const auto& a = endpoints.alertmanager;
    out.push_back(
        Make("alertmanager", "ready", true, Get(a, "/-/ready", options), ExpectStatus200, options));
    out.push_back(Make("alertmanager", "cluster", false, Get(a, "/api/v2/status", options),
                       On200(ParseAlertmanagerStatus), options));
    out.push_back(Make("alertmanager", "config_reload", false, Get(a, "/metrics", options),
                       On200([](const http::Response& r) {
                         return ParseReloadMetric(r, "alertmanager_config_last_reload_successful");
                       }),
                       options));
  }
  if (!endpoints.loki.empty()) {
    out.push_back(Make("loki", "ready", true, Get(endpoints.loki, "/ready", options),
                       ExpectStatus200, options));
    out.push_back(LokiRules(endpoints, options));
    if (options.canaries) {
      out.push_back(LokiCanary(endpoints, options, clock, ids));
    }
  }
  if (!endpoints.tempo.empty()) {
    out.push_back(Make("tempo", "ready", true, Get(endpoints.tempo, "/ready", options),
                       ExpectStatus200, options));
    out.push_back(TempoIngestion(endpoints, options));
    if (options.canaries) {
      out.push_back(TempoCanary(endpoints, options, clock, ids));
    }
  }
  if (!endpoints.grafana.empty()) {
    out.push_back(Make("grafana", "health", true, Get(endpoints.grafana, "/api/health", options),
                       ExpectStatus200, options));
    if (!endpoints.grafana_token.empty()) {
      for (const auto& uid : endpoints.grafana_datasource_uids) {
        http::Request request =
            Get(endpoints.grafana,
                "/api/datasources/uid/" + http::EncodePathSegment(uid) + "/health", options);
        request.headers.emplace_back("Authorization", "Bearer " + endpoints.grafana_token.Reveal());
        out.push_back(Make(
            "grafana", "datasource:" + uid, false, std::move(request),
            [](const Answer& answer) {
              return answer.ok() ? ParseDatasourceHealth(*answer)
                                 : ProbeOutcome::Fail(answer.error().message);
            },
            options));
      }
    }
  }
  if (!endpoints.otelcol_health.empty()) {
    http::Request request{.url = endpoints.otelcol_health};
    request.timeout = options.timeout;
    out.push_back(Make("otelcol", "health", true, std::move(request), ExpectStatus200, options));
  }
  AddVersionChecks(endpoints, options, out);
  return out;
}

}  // namespace obsforge::health
