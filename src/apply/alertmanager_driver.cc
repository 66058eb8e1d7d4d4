#include "apply/alertmanager_driver.h"

#include <exception>
#include <sstream>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "apply/prometheus_driver.h"
#include "apply/reload_http.h"
#include "core/duration.h"

namespace obsforge::apply {
namespace {

constexpr const char* kConfigPath = "alertmanager/alertmanager.yml";
constexpr const char* kReloadMetric = "alertmanager_config_last_reload_successful";

bool ScalarsMatch(const std::string& written, const std::string& loaded) {
  if (written == loaded || written == "<secret>" || loaded == "<secret>") {
    return true;
  }
  // Alertmanager answers durations in its own spelling ("5m" for "300s").
  const auto a = core::ParseDuration(written);
  const auto b = core::ParseDuration(loaded);
  return a && b && *a == b;
}

std::optional<std::string> Difference(const YAML::Node& written,
                                      const YAML::Node& loaded,
                                      const std::string& path) {
  if (!written.IsDefined() || written.IsNull()) {
    return std::nullopt;
  }
  if (!loaded.IsDefined() || written.Type() != loaded.Type()) {
    return path;
  }
  if (written.IsScalar()) {
    return ScalarsMatch(written.Scalar(), loaded.Scalar()) ? std::nullopt
                                                           : std::optional<std::string>(path);
  }
  if (written.IsSequence()) {
    if (written.size() != loaded.size()) {
      return path;
    }
    for (std::size_t i = 0; i < written.size(); ++i) {
      if (auto d = Difference(written[i], loaded[i], path + "[" + std::to_string(i) + "]")) {
        return d;
      }
    }
    return std::nullopt;
  }
  const std::string prefix = path.empty() ? std::string() : path + ".";
  for (const auto& entry : written) {
    const auto key = entry.first.Scalar();
    if (auto d = Difference(entry.second, loaded[key], prefix + key)) {
      return d;
    }
  }
  return std::nullopt;
}

// The value of the sample `name` (a metric without labels) in a text exposition.
std::optional<std::string> SampleValue(const std::string& exposition, const std::string& name) {
  std::optional<std::string> value;
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(name + " ")) {
      value = TrimRight(line.substr(name.size() + 1));
    }
  }
  return value;
}

// The value of the reload metric in an answer to GET /metrics; nullopt without one.
std::optional<std::string> ReloadSample(const core::Result<http::Response>& metrics) {
  if (!metrics || metrics->status != 200) {
    return std::nullopt;
  }
  return SampleValue(metrics->body, std::string(kReloadMetric));
}

// `config.original` of an /api/v2/status answer; empty when it has none.
std::string OriginalConfig(const http::Response& status) {
  const auto json = nlohmann::json::parse(status.body, nullptr, false);
  if (status.status == 200 && json.is_object() && json.contains("config") &&
      json["config"].is_object()) {
    return json["config"].value("original", std::string());
  }
  return {};
}

}  // namespace

std::optional<std::string> ConfigDifference(const std::string& written, const std::string& loaded) {
  try {
    return Difference(YAML::Load(written), YAML::Load(loaded), "");
  } catch (const std::exception&) {
    return std::string();
  }
}

AlertmanagerDriver::AlertmanagerDriver(AlertmanagerDriverOptions options,
                                       http::HttpClient& client,
                                       core::Clock& clock)
    : options_(std::move(options)), client_(client), clock_(clock) {
}

core::Result<void> AlertmanagerDriver::Activate(const render::Bundle& /*bundle*/) {
  return PostReload(client_, options_.base_url, options_.request_timeout);
}

core::Result<void> AlertmanagerDriver::Verify(const render::Bundle& bundle) {
  const auto* written = bundle.Find(kConfigPath);
  const auto deadline = clock_.Monotonic() + options_.verify_timeout;
  const auto status_url = JoinUrl(options_.base_url, "/api/v2/status");
  const auto metrics_url = JoinUrl(options_.base_url, "/metrics");
  std::string waiting_for;
  while (true) {
    const auto reload_ok =
        ReloadSample(Call(client_, "GET", metrics_url, options_.request_timeout));
    if (reload_ok && *reload_ok == "0") {
      return core::MakeError(core::ErrorCode::kUpstream,
                             std::string("alertmanager reports ") + kReloadMetric + " 0");
    }
    auto status = Call(client_, "GET", status_url, options_.request_timeout);
    if (!reload_ok) {
      waiting_for = std::string(kReloadMetric) + " not found at " + metrics_url;
    } else if (!status) {
      waiting_for = status.error().message;
    } else {
      const std::string original = OriginalConfig(*status);
      const auto diff = original.empty() || written == nullptr
                            ? std::nullopt
                            : ConfigDifference(*written, original);
      if (original.empty()) {
        waiting_for = "GET " + status_url + " returned HTTP " + std::to_string(status->status) +
                      " without config.original";
      } else if (!diff) {
        return {};  // the configuration written, or nothing to compare with
      } else {
        waiting_for =
            "/api/v2/status does not show the configuration written (first difference at " +
            (diff->empty() ? std::string("the root") : *diff) + ")";
      }
    }
    if (clock_.Monotonic() + options_.poll_interval > deadline) {
      return core::MakeError(core::ErrorCode::kTimeout,
                             "alertmanager not verified after " +
                                 std::to_string(options_.verify_timeout.count()) +
                                 " ms: " + waiting_for);
    }
    clock_.SleepFor(options_.poll_interval);
  }
}

}  // namespace obsforge::apply
