#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "apply/drivers.h"
#include "core/clock.h"
#include "http/http_client.h"

namespace obsforge::apply {

/// Where a Prometheus runs and how long to wait for it.
struct PrometheusDriverOptions {
  std::string base_url;  ///< e.g. "http://127.0.0.1:9090", no trailing slash needed
  std::chrono::milliseconds poll_interval{100};
  std::chrono::milliseconds verify_timeout{10000};
  std::chrono::milliseconds request_timeout{5000};
};

/// Reloads a Prometheus started with --web.enable-lifecycle and verifies the reload.
///
/// Activate: reads `lastConfigTime` from /api/v1/status/runtimeinfo, then `POST /-/reload`;
/// a non-200 answer becomes an Error (kUpstream) whose message is the response body verbatim
/// (trailing whitespace trimmed), e.g. `failed to reload config: ...`.
/// Verify: polls until runtimeinfo shows `reloadConfigSuccess: true` and a `lastConfigTime` not
/// older than the one read before the reload (Prometheus reports whole seconds, so two reloads in
/// the same second show the same time; the synchronous 200 of the reload covers that case), and
/// every rule group of the bundle's `prometheus/rules/*.yaml|yml` is in /api/v1/rules with the
/// same rule names. `reloadConfigSuccess: false` fails at once; anything else fails with kTimeout
/// after `verify_timeout`.
class PrometheusDriver final : public ComponentDriver {
 public:
  /// `client` and `clock` must outlive the driver.
  PrometheusDriver(PrometheusDriverOptions options, http::HttpClient& client, core::Clock& clock);

  std::string Component() const override { return "prometheus"; }
  core::Result<void> Activate(const render::Bundle& bundle) override;
  core::Result<void> Verify(const render::Bundle& bundle) override;

  /// Rule group name -> sorted rule names (alert or record), from the bundle's rule files.
  /// Files that are not valid YAML are skipped (Prometheus itself reports those).
  static std::map<std::string, std::vector<std::string>> ExpectedRuleGroups(
      const render::Bundle& bundle);

 private:
  struct RuntimeInfo {
    bool reload_success = false;
    std::optional<std::chrono::system_clock::time_point> last_config_time;
  };
  core::Result<RuntimeInfo> GetRuntimeInfo();
  core::Result<std::map<std::string, std::vector<std::string>>> GetRuleGroups();

  PrometheusDriverOptions options_;
  http::HttpClient& client_;
  core::Clock& clock_;
  std::optional<std::chrono::system_clock::time_point> before_reload_;
};

/// Parses an RFC 3339 timestamp ("2026-11-22T03:11:56Z", fractions and offsets allowed).
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(const std::string& text);

/// Trims trailing whitespace (upstream error bodies end with a newline).
std::string TrimRight(std::string text);

}  // namespace obsforge::apply
