#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "apply/drivers.h"
#include "apply/runtime.h"
#include "apply/transaction.h"
#include "core/clock.h"
#include "http/http_client.h"
#include "spec/stack.h"

namespace obsforge::apply {

/// Waits for `GET <base_url>/ready` to answer 200 (Loki, Tempo, ... in the external runtime,
/// where whatever runs them restarts them). Activate does nothing.
class ReadyDriver final : public ComponentDriver {
 public:
  /// `client` and `clock` must outlive the driver.
  ReadyDriver(std::string component,
              std::string base_url,
              http::HttpClient& client,
              core::Clock& clock,
              std::chrono::milliseconds poll_interval = std::chrono::milliseconds(100),
              std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

  std::string Component() const override { return component_; }
  core::Result<void> Activate(const render::Bundle& bundle) override;
  /// kTimeout "<component> not ready after N ms: <last status or error>" when /ready never
  /// answers 200 in time.
  core::Result<void> Verify(const render::Bundle& bundle) override;

 private:
  std::string component_;
  std::string base_url_;
  http::HttpClient& client_;
  core::Clock& clock_;
  std::chrono::milliseconds poll_interval_;
  std::chrono::milliseconds timeout_;
};

/// The external runtime's driver for one component: Activate first makes `config_dir` hold
/// exactly the component's files of the bundle (the component's directory prefix stripped:
/// `prometheus/rules/a.yaml` -> `<config_dir>/rules/a.yaml`; each file written atomically, and
/// only when its content differs), then calls `inner` (the reload), when there is one. Verify
/// calls `inner`. Rolling back is Activate with the last good bundle: the old files come back.
///
/// It only ever removes what it wrote. `state_file` records each file it wrote with the sha256
/// of what it wrote. A file that left the bundle is deleted only while its content is still
/// what obsforge wrote (a file changed by someone else since is left alone). A file obsforge
/// did not write that is in the way is never silently lost: before the first write over it, a
/// copy goes to `<state_file's folder>/<component>.replaced/<path>` (mode 0600), and when the
/// file later leaves the bundle that copy is put back instead of deleting the path.
class ExternalComponentDriver final : public ComponentDriver {
 public:
  /// `inner` may be null (a component with a config_dir but no URL: files only).
  ExternalComponentDriver(std::string component,
                          std::filesystem::path config_dir,
                          std::filesystem::path state_file,
                          std::unique_ptr<ComponentDriver> inner);

  std::string Component() const override { return component_; }
  /// kInternal naming the path when a file cannot be written; else the inner driver's result.
  core::Result<void> Activate(const render::Bundle& bundle) override;
  core::Result<void> Verify(const render::Bundle& bundle) override;

  /// One note per file of `bundle` that an Activate would write over although obsforge did not
  /// write it ("prometheus: /etc/prometheus/prometheus.yml was not written by obsforge: ...").
  /// Reads only. Never throws (an unreadable file is noted as such).
  std::vector<std::string> ForeignFiles(const render::Bundle& bundle) const;

 private:
  core::Result<void> SyncFiles(const render::Bundle& bundle);
  std::filesystem::path ReplacedDir() const;

  std::string component_;
  std::filesystem::path config_dir_;
  std::filesystem::path state_file_;
  std::unique_ptr<ComponentDriver> inner_;
};

/// Timing of the external runtime's reload checks.
struct ExternalRuntimeOptions {
  std::chrono::milliseconds poll_interval{100};
  std::chrono::milliseconds verify_timeout{10000};
  std::chrono::milliseconds request_timeout{5000};
};

/// The `external` runtime of one (stack, environment): components run elsewhere (systemd,
/// Kubernetes, ...). For each component with a `config_dir` its files are written there, then
/// Prometheus and Alertmanager are reloaded over HTTP and verified, other components only have
/// `/ready` checked. A component with only a `url` keeps its configuration. Revisions (and so
/// the last good files for rollback) live in obsforge's data dir; see Applier for the
/// transaction. It runs nothing: StopAll() does nothing and every component is kExternal.
class ExternalRuntime final : public Runtime {
 public:
  /// `client` and `clock` must outlive the runtime.
  ExternalRuntime(spec::EnvironmentSpec env,
                  std::filesystem::path data_dir,
                  http::HttpClient& client,
                  core::Clock& clock,
                  ExternalRuntimeOptions options = {});

  /// "external": the components run elsewhere.
  static constexpr RuntimeKind kKind{.name = "external", .runs_components_here = false};
  RuntimeKind Kind() const override { return kKind; }
  void Update(const spec::EnvironmentSpec& env) override;
  /// Nothing: rendered files name the components' own addresses.
  void ConfigureRender(render::RenderOptions& options) const override;
  /// Grafana at its runtime `url`, signed in with its `token`, else its `user`/`password`, else
  /// the admin of `components.grafana`; the Loki ruler API only for a Loki with a `url` and no
  /// `config_dir` (otherwise its rules are files).
  ProvisionAccess Provisioning() const override;
  /// Runs the drivers of MakeDrivers() in `applier`'s transaction.
  ApplyResult Apply(const render::Bundle& bundle,
                    Applier& applier,
                    const StepCallback& on_step) override;
  void StopAll() override {}
  /// Every component the runtime section names, kExternal, with its `url`.
  std::vector<ComponentStatus> Status() const override;
  /// The files obsforge did not write that applying `bundle` would replace (a copy of each is
  /// kept; see ExternalComponentDriver).
  std::vector<std::string> PlanNotes(const render::Bundle& bundle) const override;
  /// The `url` of every component that has one.
  std::map<std::string, std::string> Urls() const override;

  /// The drivers (one per component with a config_dir, in ComponentNames() order).
  std::vector<std::unique_ptr<ComponentDriver>> MakeDrivers() const;

 private:
  spec::EnvironmentSpec Env() const;

  mutable std::mutex mu_;  // guards env_
  spec::EnvironmentSpec env_;
  std::filesystem::path data_dir_;
  http::HttpClient& client_;
  core::Clock& clock_;
  ExternalRuntimeOptions options_;
};

}  // namespace obsforge::apply
