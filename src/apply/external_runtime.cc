#include "apply/external_runtime.h"

#include <exception>
#include <set>
#include <sstream>
#include <system_error>

#include "apply/alertmanager_driver.h"
#include "apply/plan.h"
#include "apply/prometheus_driver.h"
#include "apply/reload_http.h"
#include "core/fs.h"

namespace obsforge::apply {
namespace fs = std::filesystem;

ReadyDriver::ReadyDriver(std::string component,
                         std::string base_url,
                         http::HttpClient& client,
                         core::Clock& clock,
                         std::chrono::milliseconds poll_interval,
                         std::chrono::milliseconds timeout)
    : component_(std::move(component)),
      base_url_(std::move(base_url)),
      client_(client),
      clock_(clock),
      poll_interval_(poll_interval),
      timeout_(timeout) {
}

core::Result<void> ReadyDriver::Activate(const render::Bundle& /*bundle*/) {
  return {};
}

core::Result<void> ReadyDriver::Verify(const render::Bundle& /*bundle*/) {
  const auto url = JoinUrl(base_url_, "/ready");
  const auto deadline = clock_.Monotonic() + timeout_;
  while (true) {
    auto response = Call(client_, "GET", url, poll_interval_ * 10);
    std::string last;
    if (response && response->status == 200) {
      return {};
    }
    last = response ? "HTTP " + std::to_string(response->status) + " " + TrimRight(response->body)
                    : response.error().message;
    if (clock_.Monotonic() + poll_interval_ > deadline) {
      return core::MakeError(
          core::ErrorCode::kTimeout,
          component_ + " not ready after " + std::to_string(timeout_.count()) + " ms: " + last);
    }
    clock_.SleepFor(poll_interval_);
  }
}

ExternalComponentDriver::ExternalComponentDriver(std::string component,
                                                 fs::path config_dir,
                                                 fs::path state_file,
                                                 std::unique_ptr<ComponentDriver> inner)
    : component_(std::move(component)),
      config_dir_(std::move(config_dir)),
      state_file_(std::move(state_file)),
      inner_(std::move(inner)) {
}

core::Result<void> ExternalComponentDriver::SyncFiles(const render::Bundle& bundle) {
  try {
    std::set<std::string> wanted;
    const auto files = ComponentFiles(bundle, component_);
    for (const auto& [path, content] : files.files()) {
      const auto rel = path.substr(path.find('/') + 1);
      wanted.insert(rel);
      const auto target = config_dir_ / rel;
      std::error_code ec;
      // Unchanged files are left alone so that their mtime and inode stay as they were.
      if (fs::exists(target, ec) && core::ReadFile(target) == content) {
        continue;
      }
      core::WriteFileAtomic(target, content);
    }
    if (fs::exists(state_file_)) {
      std::istringstream previous(core::ReadFile(state_file_));
      std::string rel;
      while (std::getline(previous, rel)) {
        if (!rel.empty() && wanted.count(rel) == 0) {
          fs::remove(config_dir_ / rel);
        }
      }
    }
    std::string listing;
    for (const auto& rel : wanted) {
      listing += rel + "\n";
    }
    core::WriteFileAtomic(state_file_, listing);
  } catch (const std::exception& e) {
    return core::MakeError(core::ErrorCode::kInternal, component_ + ": cannot write files into " +
                                                           config_dir_.string() + ": " + e.what());
  }
  return {};
}

core::Result<void> ExternalComponentDriver::Activate(const render::Bundle& bundle) {
  if (auto synced = SyncFiles(bundle); !synced) {
    return synced;
  }
  return inner_ ? inner_->Activate(bundle) : core::Result<void>();
}

core::Result<void> ExternalComponentDriver::Verify(const render::Bundle& bundle) {
  return inner_ ? inner_->Verify(bundle) : core::Result<void>();
}

ExternalRuntime::ExternalRuntime(spec::EnvironmentSpec env,
                                 fs::path data_dir,
                                 http::HttpClient& client,
                                 core::Clock& clock,
                                 ExternalRuntimeOptions options)
    : env_(std::move(env)),
      data_dir_(std::move(data_dir)),
      client_(client),
      clock_(clock),
      options_(options) {
}

spec::EnvironmentSpec ExternalRuntime::Env() const {
  std::lock_guard lock(mu_);
  return env_;
}

void ExternalRuntime::Update(const spec::EnvironmentSpec& env) {
  std::lock_guard lock(mu_);
  env_ = env;
}

void ExternalRuntime::ConfigureRender(render::RenderOptions& /*options*/) const {
}

ProvisionAccess ExternalRuntime::Provisioning() const {
  const auto env = Env();
  ProvisionAccess access;
  if (const auto it = env.runtime.components.find("grafana"); it != env.runtime.components.end()) {
    const auto& grafana = it->second;
    access.grafana_url = grafana.url;
    if (grafana.token) {
      access.token = grafana.token;
    } else if (grafana.password) {
      access.user = grafana.user;
      access.password = grafana.password;
    }
  }
  if (const auto it = env.runtime.components.find("loki"); it != env.runtime.components.end() &&
                                                           !it->second.url.empty() &&
                                                           it->second.config_dir.empty()) {
    access.loki_url = it->second.url;
  }
  return access;
}

std::vector<std::unique_ptr<ComponentDriver>> ExternalRuntime::MakeDrivers() const {
  const auto env = Env();
  std::vector<std::unique_ptr<ComponentDriver>> drivers;
  for (const auto& name : spec::ComponentNames()) {
    const auto it = env.runtime.components.find(name);
    if (it == env.runtime.components.end() || it->second.config_dir.empty()) {
      continue;
    }
    const auto& rt = it->second;
    std::unique_ptr<ComponentDriver> inner;
    if (!rt.url.empty()) {
      if (name == "prometheus") {
        inner = std::make_unique<PrometheusDriver>(
            PrometheusDriverOptions{.base_url = rt.url,
                                    .poll_interval = options_.poll_interval,
                                    .verify_timeout = options_.verify_timeout,
                                    .request_timeout = options_.request_timeout},
            client_, clock_);
      } else if (name == "alertmanager") {
        inner = std::make_unique<AlertmanagerDriver>(
            AlertmanagerDriverOptions{.base_url = rt.url,
                                      .poll_interval = options_.poll_interval,
                                      .verify_timeout = options_.verify_timeout,
                                      .request_timeout = options_.request_timeout},
            client_, clock_);
      } else {
        inner = std::make_unique<ReadyDriver>(name, rt.url, client_, clock_, options_.poll_interval,
                                              options_.verify_timeout);
      }
    }
    const auto state = data_dir_ / "stacks" / env.stack / env.env / "external" / (name + ".files");
    drivers.push_back(
        std::make_unique<ExternalComponentDriver>(name, rt.config_dir, state, std::move(inner)));
  }
  return drivers;
}

ApplyResult ExternalRuntime::Apply(const render::Bundle& bundle,
                                   Applier& applier,
                                   const StepCallback& on_step) {
  const auto env = Env();
  const auto owned = MakeDrivers();
  std::vector<ComponentDriver*> drivers;
  drivers.reserve(owned.size());
  for (const auto& d : owned) {
    drivers.push_back(d.get());
  }
  return applier.Apply(env.stack, env.env, bundle, drivers, on_step);
}

std::vector<ComponentStatus> ExternalRuntime::Status() const {
  const auto env = Env();
  std::vector<ComponentStatus> out;
  for (const auto& name : spec::ComponentNames()) {
    if (const auto it = env.runtime.components.find(name); it != env.runtime.components.end()) {
      out.push_back(
          ComponentStatus{.name = name, .state = ComponentState::kExternal, .url = it->second.url});
    }
  }
  return out;
}

std::map<std::string, std::string> ExternalRuntime::Urls() const {
  const auto env = Env();
  std::map<std::string, std::string> urls;
  for (const auto& [component, settings] : env.runtime.components) {
    if (!settings.url.empty()) {
      urls[component] = settings.url;
    }
  }
  if (const auto tempo = env.runtime.components.find("tempo");
      tempo != env.runtime.components.end()) {
    if (!tempo->second.otlp_http_url.empty()) {
      urls[kTempoOtlpHttp] = tempo->second.otlp_http_url;
    }
    if (!tempo->second.otlp_grpc_url.empty()) {
      urls[kTempoOtlpGrpc] = tempo->second.otlp_grpc_url;
    }
  }
  return urls;
}

}  // namespace obsforge::apply
