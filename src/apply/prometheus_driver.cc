#include "apply/prometheus_driver.h"

#include <algorithm>
#include <cstdio>
#include <exception>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "apply/reload_http.h"

namespace obsforge::apply {
namespace {

// Howard Hinnant's days_from_civil: days since 1970-01-01 for a proleptic Gregorian date.
long long DaysFromCivil(long long y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

bool IsRuleFile(const std::string& path) {
  const std::string prefix = "prometheus/rules/";
  const auto ends_with = [&](const std::string& suffix) {
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return path.compare(0, prefix.size(), prefix) == 0 && (ends_with(".yaml") || ends_with(".yml"));
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : ", ") + item;
  }
  return out;
}

}  // namespace

std::string TrimRight(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
                           text.back() == '\t')) {
    text.pop_back();
  }
  return text;
}

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(const std::string& text) {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int consumed = 0;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
  if (std::sscanf(text.c_str(), "%4d-%2u-%2uT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  long long nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    long long scale = 100000000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      nanos += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  long long offset_seconds = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0;
    int om = 0;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg)
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) {
      return std::nullopt;
    }
    offset_seconds = (text[pos] == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL);
    pos += 6;
  } else if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) {
    return std::nullopt;
  }
  const long long secs = DaysFromCivil(year, month, day) * 86400 + hour * 3600LL + minute * 60LL +
                         second - offset_seconds;
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(secs) + std::chrono::nanoseconds(nanos)));
}

PrometheusDriver::PrometheusDriver(PrometheusDriverOptions options,
                                   http::HttpClient& client,
                                   core::Clock& clock)
    : options_(std::move(options)), client_(client), clock_(clock) {
}

std::map<std::string, std::vector<std::string>> PrometheusDriver::ExpectedRuleGroups(
    const render::Bundle& bundle) {
  std::map<std::string, std::vector<std::string>> groups;
  for (const auto& [path, content] : bundle.files()) {
    if (!IsRuleFile(path)) {
      continue;
    }
    try {
      const auto doc = YAML::Load(content);
      for (const auto& group : doc["groups"]) {
        auto& names = groups[group["name"].as<std::string>()];
        for (const auto& rule : group["rules"]) {
          names.push_back(rule["alert"] ? rule["alert"].as<std::string>()
                                        : rule["record"].as<std::string>(""));
        }
      }
    } catch (const std::exception&) {
      continue;
    }
  }
  for (auto& [name, rules] : groups) {
    std::sort(rules.begin(), rules.end());
  }
  return groups;
}

core::Result<PrometheusDriver::RuntimeInfo> PrometheusDriver::GetRuntimeInfo() {
  const auto url = JoinUrl(options_.base_url, "/api/v1/status/runtimeinfo");
  auto response = Call(client_, "GET", url, options_.request_timeout);
  if (!response) {
    return response.error();
  }
  if (response->status != 200) {
    return core::Error{
        .code = core::ErrorCode::kUpstream,
        .message = "GET " + url + " returned HTTP " + std::to_string(response->status),
        .upstream_status = response->status,
        .upstream_body = response->body};
  }
  const auto json = nlohmann::json::parse(response->body, nullptr, false);
  const auto* data = json.is_object() && json.contains("data") ? &json["data"] : nullptr;
  if (data == nullptr || !data->is_object()) {
    return core::MakeError(core::ErrorCode::kUpstream, "GET " + url + ": unexpected body");
  }
  RuntimeInfo info;
  info.reload_success = data->value("reloadConfigSuccess", false);
  info.last_config_time = ParseRfc3339(data->value("lastConfigTime", std::string()));
  return info;
}

core::Result<std::map<std::string, std::vector<std::string>>> PrometheusDriver::GetRuleGroups() {
  const auto url = JoinUrl(options_.base_url, "/api/v1/rules");
  auto response = Call(client_, "GET", url, options_.request_timeout);
  if (!response) {
    return response.error();
  }
  const auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (response->status != 200 || !json.is_object() || !json.contains("data") ||
      !json["data"].is_object() || !json["data"].contains("groups")) {
    return core::Error{.code = core::ErrorCode::kUpstream,
                       .message = "GET " + url + " returned HTTP " +
                                  std::to_string(response->status) + " without data.groups",
                       .upstream_status = response->status,
                       .upstream_body = response->body};
  }
  std::map<std::string, std::vector<std::string>> groups;
  for (const auto& group : json["data"]["groups"]) {
    auto& names = groups[group.value("name", std::string())];
    if (group.contains("rules") && group["rules"].is_array()) {
      for (const auto& rule : group["rules"]) {
        names.push_back(rule.value("name", std::string()));
      }
    }
  }
  for (auto& [name, rules] : groups) {
    std::sort(rules.begin(), rules.end());
  }
  return groups;
}

core::Result<void> PrometheusDriver::Activate(const render::Bundle& /*bundle*/) {
  // A failed read only loses the "newer than before" check; the reload itself decides.
  auto info = GetRuntimeInfo();
  before_reload_ = info ? info->last_config_time : std::nullopt;
  return PostReload(client_, options_.base_url, options_.request_timeout);
}

core::Result<void> PrometheusDriver::Verify(const render::Bundle& bundle) {
  const auto expected = ExpectedRuleGroups(bundle);
  const auto deadline = clock_.Monotonic() + options_.verify_timeout;
  std::string waiting_for;
  while (true) {
    auto info = GetRuntimeInfo();
    if (info && !info->reload_success) {
      return core::MakeError(core::ErrorCode::kUpstream,
                             "prometheus reports reloadConfigSuccess false");
    }
    if (!info) {
      waiting_for = info.error().message;
    } else if (before_reload_ &&
               (!info->last_config_time || *info->last_config_time < *before_reload_)) {
      waiting_for = "lastConfigTime is older than before the reload";
    } else {
      auto loaded = GetRuleGroups();
      if (!loaded) {
        waiting_for = loaded.error().message;
      } else {
        std::vector<std::string> missing;
        for (const auto& [name, rules] : expected) {
          const auto it = loaded->find(name);
          if (it == loaded->end() || it->second != rules) {
            missing.push_back(name);
          }
        }
        if (missing.empty()) {
          return {};
        }
        waiting_for = "rule groups not loaded as rendered: " + Join(missing);
      }
    }
    if (clock_.Monotonic() + options_.poll_interval > deadline) {
      return core::MakeError(core::ErrorCode::kTimeout,
                             "prometheus not verified after " +
                                 std::to_string(options_.verify_timeout.count()) +
                                 " ms: " + waiting_for);
    }
    clock_.SleepFor(options_.poll_interval);
  }
}

}  // namespace obsforge::apply
