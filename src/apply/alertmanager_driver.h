#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "apply/drivers.h"
#include "core/clock.h"
#include "http/http_client.h"

namespace obsforge::apply {

/// Where an Alertmanager runs and how long to wait for it.
struct AlertmanagerDriverOptions {
  std::string base_url;  ///< e.g. "http://127.0.0.1:9093"
  std::chrono::milliseconds poll_interval{100};
  std::chrono::milliseconds verify_timeout{10000};
  std::chrono::milliseconds request_timeout{5000};
};

/// Reloads an Alertmanager and verifies the reload.
///
/// Activate: `POST /-/reload`; a non-200 answer becomes an Error (kUpstream) whose message is
/// the body verbatim (trailing whitespace trimmed), e.g. `failed to reload config: ...`.
/// Verify: polls until `/api/v2/status` `config.original` matches the bundle's
/// `alertmanager/alertmanager.yml` (see ConfigDifference: Alertmanager re-marshals the file
/// with defaults filled in, so it is not byte-equal) and `/metrics` shows
/// `alertmanager_config_last_reload_successful 1`. A 0 there fails at once; otherwise kTimeout
/// after `verify_timeout`.
class AlertmanagerDriver final : public ComponentDriver {
 public:
  /// `client` and `clock` must outlive the driver.
  AlertmanagerDriver(AlertmanagerDriverOptions options,
                     http::HttpClient& client,
                     core::Clock& clock);

  std::string Component() const override { return "alertmanager"; }
  core::Result<void> Activate(const render::Bundle& bundle) override;
  core::Result<void> Verify(const render::Bundle& bundle) override;

 private:
  AlertmanagerDriverOptions options_;
  http::HttpClient& client_;
  core::Clock& clock_;
};

/// Compares the YAML `written` with Alertmanager's re-marshalled `loaded`: every key of
/// `written` must be in `loaded` with an equal value (maps may gain defaults; sequences match
/// element by element; "<secret>" matches anything; durations compare by value, "300s" ==
/// "5m"). Returns the dotted path of the first difference ("route.receiver",
/// "receivers[1].name", "" for the root), or nullopt when they match. Either text failing to
/// parse is a difference at the root.
std::optional<std::string> ConfigDifference(const std::string& written, const std::string& loaded);

}  // namespace obsforge::apply
