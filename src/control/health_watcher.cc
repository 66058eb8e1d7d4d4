#include "control/health_watcher.h"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "apply/runtime.h"
#include "core/diagnostic.h"
#include "core/duration.h"

namespace obsforge::control {
namespace {

using nlohmann::json;

std::optional<core::SecretRef> SecretRefOf(const json& value) {
  if (!value.is_object()) {
    return std::nullopt;
  }
  if (auto it = value.find("secret"); it != value.end() && it->is_string()) {
    return core::SecretRef{.kind = core::SecretRef::Kind::kEnv, .name = it->get<std::string>()};
  }
  if (auto it = value.find("secret_file"); it != value.end() && it->is_string()) {
    return core::SecretRef{.kind = core::SecretRef::Kind::kFile, .name = it->get<std::string>()};
  }
  return std::nullopt;
}

std::string Url(const std::map<std::string, std::string>& urls, const std::string& component) {
  const auto it = urls.find(component);
  if (it == urls.end()) {
    return "";
  }
  std::string url = it->second;
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

std::chrono::milliseconds DurationOr(const json& section,
                                     const char* key,
                                     std::chrono::milliseconds fallback) {
  if (auto it = section.find(key); it != section.end() && it->is_string()) {
    if (auto parsed = core::ParseDuration(it->get<std::string>()); parsed && parsed->count() > 0) {
      return *parsed;
    }
  }
  return fallback;
}

}  // namespace

WatchSettings WatchFor(const spec::StackSpec& stack,
                       const std::string& env,
                       const std::map<std::string, std::string>& urls,
                       const HealthDefaults& defaults) {
  const spec::EnvironmentSpec merged = spec::ForEnvironment(stack, env);
  const json health = merged.merged.value(json::json_pointer("/spec/health"), json::object());
  const json section = health.is_object() ? health : json::object();

  WatchSettings out;
  auto& watch = out.watch;
  watch.stack = stack.name;
  watch.env = env;
  watch.options.interval = DurationOr(section, "interval", defaults.interval);
  watch.options.timeout = DurationOr(section, "timeout", defaults.timeout);
  watch.options.canaries = section.value("canaries", false);
  if (const auto notify = section.value("notify", json::object()); notify.is_object()) {
    if (auto it = notify.find("flap_window"); it != notify.end() && it->is_string()) {
      watch.flap_window = core::ParseDuration(it->get<std::string>());  // "0s" turns damping off
    }
    if (auto it = notify.find("recovery_after"); it != notify.end() && it->is_number_integer()) {
      watch.recovery_after = static_cast<int>(
          std::clamp<std::int64_t>(it->get<std::int64_t>(), 1, std::numeric_limits<int>::max()));
    }
  }
  watch.failure_threshold = defaults.failure_threshold;
  if (auto it = section.find("failure_threshold"); it != section.end() && it->is_number_integer()) {
    watch.failure_threshold = std::max(1, static_cast<int>(it->get<std::int64_t>()));
  }

  auto& e = watch.endpoints;
  e.prometheus = Url(urls, "prometheus");
  e.alertmanager = Url(urls, "alertmanager");
  e.loki = Url(urls, "loki");
  e.tempo = Url(urls, "tempo");
  e.tempo_otlp = Url(urls, apply::kTempoOtlpHttp);
  e.grafana = Url(urls, "grafana");
  if (const std::string otelcol = Url(urls, "otel_collector"); !otelcol.empty()) {
    e.otelcol_health = otelcol + "/";
  }
  e.loki_tenant = spec::LokiTenant(merged);
  e.versions = spec::DeclaredVersions(merged);
  const auto& runtime = merged.runtime.components;
  if (auto it = runtime.find("grafana"); it != runtime.end() && it->second.token) {
    if (auto token = core::ResolveSecret(*it->second.token, defaults.For(stack.name)); token.ok()) {
      e.grafana_token = *token;
    }
  }
  watch.grafana_url = e.grafana;

  if (const auto slack = section.value("slack", json::object()); slack.is_object()) {
    out.webhook = SecretRefOf(slack.value("webhook", json()));
    if (out.webhook) {
      watch.slack_channel_key =
          (defaults.stack_env ? stack.name + "/" : std::string()) + out.webhook->ToString();
    }
    if (auto it = slack.find("channel"); it != slack.end() && it->is_string()) {
      watch.slack_channel = it->get<std::string>();
    }
  }
  return out;
}

core::Result<spec::StackSpec> StoredSpec(const std::string& name, const std::string& spec_json) {
  json document = json::parse(spec_json, nullptr, false);
  if (!document.is_object()) {
    return core::MakeError(core::ErrorCode::kInvalidSpec,
                           "stored spec of stack " + name + " is not a JSON object");
  }
  spec::StackSpec stack{.name = name, .file = name + ".json", .document = std::move(document)};
  const json envs = stack.document.value(json::json_pointer("/spec/environments"), json::object());
  if (envs.is_object()) {
    for (const auto& [env, _] : envs.items()) {
      stack.environments.push_back(env);
    }
  }
  if (stack.environments.empty()) {
    stack.environments.push_back("default");
  }
  return stack;
}

HealthWatcher::HealthWatcher(HealthDefaults defaults,
                             health::HealthMonitor& monitor,
                             notify::Notifier* notifier,
                             UrlsFunction urls,
                             store::ProvisionStore* datasources,
                             core::Logger& logger)
    : defaults_(std::move(defaults)),
      monitor_(monitor),
      notifier_(notifier),
      urls_(std::move(urls)),
      datasources_(datasources),
      logger_(logger) {
}

std::optional<WatchSettings> HealthWatcher::Settings(const spec::StackSpec& stack,
                                                     const std::string& env) {
  try {
    WatchSettings settings = WatchFor(stack, env, urls_(stack, env), defaults_);
    if (datasources_ != nullptr && !settings.watch.endpoints.grafana.empty()) {
      auto objects =
          datasources_->ListProvisionedObjects(stack.name, env, store::ObjectKind::kDatasource);
      if (objects.ok()) {
        for (const auto& object : *objects) {
          settings.watch.endpoints.grafana_datasource_uids.push_back(object.uid);
        }
      }
    }
    if (settings.webhook && notifier_ != nullptr) {
      auto url = core::ResolveSecret(*settings.webhook, defaults_.For(stack.name));
      if (url.ok()) {
        notifier_->AddWebhook(settings.watch.slack_channel_key, *url);
      } else {
        // Named by reference only: the error never carries the value.
        logger_.Warn("Slack webhook secret not resolvable; health messages are not sent",
                     {{"stack", stack.name}, {"env", env}, {"error", url.error().message}});
        settings.webhook.reset();
        settings.watch.slack_channel_key.clear();
      }
    }
    return settings;
  } catch (const core::InputError& e) {
    logger_.Warn("cannot watch environment health",
                 {{"stack", stack.name}, {"env", env}, {"error", e.what()}});
    return std::nullopt;
  }
}

void HealthWatcher::Watch(const spec::StackSpec& stack, const std::string& env) {
  if (auto settings = Settings(stack, env)) {
    monitor_.Watch(settings->watch);
  }
}

void HealthWatcher::Unwatch(const std::string& stack, const std::string& env) {
  monitor_.Unwatch(stack, env);
}

void HealthWatcher::ReportApply(const spec::StackSpec& stack,
                                const std::string& env,
                                const apply::ApplyResult& result) {
  if (notifier_ == nullptr || result.outcome == apply::Outcome::kUnchanged) {
    return;
  }
  auto settings = Settings(stack, env);
  if (!settings || settings->watch.slack_channel_key.empty()) {
    return;
  }
  notify::ApplyReport report{.stack = stack.name,
                             .env = env,
                             .revision = result.attempted.value_or(result.revision.value_or(0)),
                             .grafana_url = settings->watch.grafana_url};
  switch (result.outcome) {
    case apply::Outcome::kRolledBack:
      report.outcome = notify::ApplyReport::Outcome::kRolledBack;
      report.rolled_back_to = result.revision.value_or(0);
      break;
    case apply::Outcome::kFailed:
      report.outcome = notify::ApplyReport::Outcome::kFailed;
      break;
    default:
      report.outcome = notify::ApplyReport::Outcome::kSucceeded;
      report.revision = result.revision.value_or(report.revision);
      break;
  }
  if (result.error) {
    report.reason = result.error->message;
    if (!result.failed_component.empty() && report.reason.rfind(result.failed_component, 0) != 0) {
      report.reason = result.failed_component + ": " + report.reason;
    }
  }
  notifier_->PostToChannel(settings->watch.slack_channel_key, settings->watch.slack_channel,
                           notify::ApplyMessage(report), {{"stack", stack.name}, {"env", env}});
}

void HealthWatcher::ReportBrokenCommit(const std::vector<spec::StackSpec>& stacks,
                                       notify::BrokenCommitReport report) {
  if (notifier_ == nullptr) {
    return;
  }
  // (channel key, channel) → the stacks whose environments post there; stacks usually share one.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> channels;
  for (const auto& stack : stacks) {
    for (const std::string& env : stack.environments) {
      auto settings = Settings(stack, env);
      if (!settings || settings->watch.slack_channel_key.empty()) {
        continue;
      }
      auto& names = channels[{settings->watch.slack_channel_key, settings->watch.slack_channel}];
      if (names.empty() || names.back() != stack.name) {
        names.push_back(stack.name);
      }
    }
  }
  for (const auto& [channel, names] : channels) {
    report.stacks = names;
    notifier_->PostToChannel(channel.first, channel.second, notify::BrokenCommitMessage(report),
                             {{"source", report.source}});
  }
}

core::Result<int> HealthWatcher::WatchStored(store::Store& store) {
  auto stacks = store.ListStacks();
  if (!stacks.ok()) {
    return stacks.error();
  }
  int watched = 0;
  for (const auto& stored : *stacks) {
    auto stack = StoredSpec(stored.name, stored.spec_json);
    if (!stack.ok()) {
      logger_.Warn("cannot watch a stored stack",
                   {{"stack", stored.name}, {"error", stack.error().message}});
      continue;
    }
    auto envs = store.ListEnvironments(stored.name);
    if (!envs.ok()) {
      return envs.error();
    }
    for (const auto& state : *envs) {
      if (state.last_good_revision <= 0) {
        continue;
      }
      try {
        if (apply::KindOf(spec::ForEnvironment(*stack, state.env)).runs_components_here) {
          continue;
        }
      } catch (const core::InputError&) {
        continue;  // the environment left the spec
      }
      Watch(*stack, state.env);
      ++watched;
    }
  }
  return watched;
}

}  // namespace obsforge::control
