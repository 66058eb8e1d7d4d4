#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apply/binaries.h"
#include "apply/local_commands.h"
#include "apply/ports.h"
#include "apply/runtime.h"
#include "apply/supervisor.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "http/http_client.h"
#include "spec/stack.h"

namespace obsforge::apply {

/// Options of a LocalRuntime (an aggregate: build it with designated initializers).
struct LocalRuntimeOptions {
  std::filesystem::path data_dir;  ///< environments live in `<data_dir>/stacks/<stack>/<env>/`
  std::string path_env = ProcessPath();  ///< where binaries are looked up
  std::size_t log_max_bytes = kDefaultLogMaxBytes;
  std::chrono::milliseconds ready_poll_interval{100};
  std::chrono::milliseconds probe_timeout{2000};  ///< one readiness request
  std::chrono::milliseconds ready_timeout{
      60000};  ///< Apply(): a started component is ready by then
  std::string grafana_homepath = "/usr/share/grafana";
  SupervisorOptions supervisor;
};

/// The `local` runtime of one (stack, environment): runs each enabled component whose binary is
/// on PATH as a supervised child of this process, in `<env-root>/<component>/`, with its config
/// read from `<env-root>/current/<output folder>` (the `current` symlink is RevisionStore's), on
/// loopback ports that stay stable across restarts (ports.json). Thread-safe.
///
/// It starts and stops processes; writing revisions, reloading and verifying is the transaction's
/// job (PrometheusDriver / AlertmanagerDriver, and MakeRestartDriver() for the others), which
/// Apply() runs.
class LocalRuntime final : public Runtime {
 public:
  /// Opens the runtime for `env` (its `runtime` must be local): creates the env root and resolves
  /// the ports (fixed ones from `runtime.<component>.port`, the rest from/into ports.json).
  /// Nothing is started. Returns kInternal when the directory or ports.json cannot be used.
  /// `http`, `clock` and `logger` must outlive the runtime.
  static core::Result<std::unique_ptr<LocalRuntime>> Open(
      const spec::EnvironmentSpec& env,
      LocalRuntimeOptions options,
      http::HttpClient& http,
      core::Clock& clock,
      core::Logger& logger = core::NullLogger());

  /// Stops every component it started (StopAll).
  ~LocalRuntime() override;
  LocalRuntime(const LocalRuntime&) = delete;
  LocalRuntime& operator=(const LocalRuntime&) = delete;
  LocalRuntime(LocalRuntime&&) = delete;
  LocalRuntime& operator=(LocalRuntime&&) = delete;

  /// `<data_dir>/stacks/<stack>/<env>`.
  const std::filesystem::path& env_root() const { return env_root_; }
  /// Every port of `env.ports` (PortNames()).
  const PortMap& ports() const { return ports_; }
  /// Enabled components (spec.components.<c>.enabled), in spec::ComponentNames() order.
  std::vector<std::string> EnabledComponents() const;
  /// The directories of `component`.
  ComponentLayout Layout(const std::string& component) const;
  /// `http://127.0.0.1:<port>` of `component`.
  std::string BaseUrl(const std::string& component) const;
  /// The URL WaitReady() polls.
  std::string ReadinessUrl(const std::string& component) const;

  /// "local", running its components here.
  static constexpr RuntimeKind kKind{.name = "local", .runs_components_here = true};
  RuntimeKind Kind() const override { return kKind; }
  /// Replaces the spec (e.g. a new retention); takes effect at the component's next start.
  void Update(const spec::EnvironmentSpec& env) override;
  /// Sets the ports.
  void ConfigureRender(render::RenderOptions& options) const override;
  /// The Grafana it runs, as its admin; Loki reads rules from files.
  ProvisionAccess Provisioning() const override;
  /// Each enabled component whose binary is missing is reported (a failed "start" step
  /// "unavailable: <binary> not found on PATH") and left out. The others: started (and ready)
  /// once their files are in place when not running, reloaded (Prometheus, Alertmanager) or
  /// restarted when their files changed; after an applied or unchanged bundle, every one that
  /// does not run is started (a failure makes the outcome kFailed naming it).
  ApplyResult Apply(const render::Bundle& bundle,
                    Applier& applier,
                    const StepCallback& on_step) override;
  /// States() with URLs and process details.
  std::vector<ComponentStatus> Status() const override;
  /// BaseUrl() of every enabled component.
  std::map<std::string, std::string> Urls() const override;

  /// Starts `component` (creating its directories) and returns once it is spawned; a no-op when it
  /// runs already. When its binary is missing, its state becomes `unavailable: <binary> not found
  /// on PATH` and kUnavailable with that message (without "unavailable: ") is returned.
  /// kUnavailable also when exec fails; kInvalidSpec for an unknown component.
  core::Result<void> Start(const std::string& component);
  /// Start() for every enabled component; each one's outcome, in EnabledComponents() order.
  std::vector<std::pair<std::string, core::Result<void>>> StartAll();
  /// Stops `component` (SIGTERM, SIGKILL after the stop timeout). Ok when it does not run.
  core::Result<void> Stop(const std::string& component);
  /// Stops and starts `component` (Start() when it was not running).
  core::Result<void> Restart(const std::string& component);
  /// Stops every component; returns when no child is left.
  void StopAll() override;

  /// One readiness probe: ok on HTTP 200 from ReadinessUrl(); kUnavailable otherwise, with the
  /// status and body (or the transport error) in the message.
  core::Result<void> CheckReady(const std::string& component);
  /// Polls CheckReady() until it passes or `timeout` (on the Clock) passes: kTimeout
  /// "<component> not ready after <ms>ms: <last probe error>" (plus the last exit when the process
  /// died meanwhile). Fails at once with kUnavailable when the component is unavailable or was
  /// stopped, kNotFound when it was never started.
  core::Result<void> WaitReady(const std::string& component, std::chrono::milliseconds timeout);

  /// The state of `component` (nullopt when it was never started or reported).
  std::optional<ProcessState> State(const std::string& component) const;
  /// States of every enabled component, in EnabledComponents() order; an enabled component not
  /// started yet is reported as kStopped.
  std::vector<ProcessState> States() const;

  /// The supervisor running the processes.
  Supervisor& supervisor() { return supervisor_; }

 private:
  LocalRuntime(spec::EnvironmentSpec env,
               LocalRuntimeOptions options,
               std::filesystem::path env_root,
               PortMap ports,
               http::HttpClient& http,
               core::Clock& clock,
               core::Logger& logger);
  CommandInputs InputsFor(const std::string& binary_name) const;
  // Starts what is not running yet (after an unchanged apply, or components left out of it).
  void EnsureRunning(const std::vector<std::string>& skip,
                     ApplyResult& result,
                     const StepCallback& on_step);

  mutable std::mutex mu_;  // guards env_
  spec::EnvironmentSpec env_;
  LocalRuntimeOptions options_;
  std::filesystem::path env_root_;
  PortMap ports_;
  http::HttpClient& http_;
  core::Clock& clock_;
  core::Logger& logger_;
  Supervisor supervisor_;
};

}  // namespace obsforge::apply
