#include "apply/external_runtime.h"

#include <exception>
#include <map>
#include <optional>
#include <sstream>
#include <system_error>

#include "apply/alertmanager_driver.h"
#include "apply/plan.h"
#include "apply/prometheus_driver.h"
#include "apply/reload_http.h"
#include "core/fs.h"
#include "core/hash.h"

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

namespace {

// What obsforge wrote into a config dir: relative path -> sha256 of the content it wrote. A
// state file of an older obsforge lists paths only (no hash): those count as written as they
// are, so they are deleted as before.
std::map<std::string, std::string> ReadWritten(const fs::path& state_file) {
  std::map<std::string, std::string> written;
  std::error_code ec;
  if (!fs::exists(state_file, ec)) {
    return written;
  }
  std::istringstream lines(core::ReadFile(state_file));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) {
      continue;
    }
    const bool hashed =
        line.size() > 65 && line[64] == ' ' && line.find_first_not_of("0123456789abcdef") == 64;
    if (hashed) {
      written[line.substr(65)] = line.substr(0, 64);
    } else {
      written[line] = "";
    }
  }
  return written;
}

std::optional<std::string> ReadIfFile(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return std::nullopt;
  }
  return core::ReadFile(path);
}

std::string Relative(const std::string& bundle_path) {
  return bundle_path.substr(bundle_path.find('/') + 1);
}

}  // namespace

fs::path ExternalComponentDriver::ReplacedDir() const {
  return state_file_.parent_path() / (component_ + ".replaced");
}

std::vector<std::string> ExternalComponentDriver::ForeignFiles(const render::Bundle& bundle) const {
  std::vector<std::string> notes;
  try {
    const auto written = ReadWritten(state_file_);
    const auto files = ComponentFiles(bundle, component_);
    for (const auto& [path, content] : files.files()) {
      const auto rel = Relative(path);
      const auto target = config_dir_ / rel;
      const auto current = ReadIfFile(target);
      if (!current || *current == content || written.contains(rel)) {
        continue;
      }
      notes.push_back(component_ + ": " + target.string() +
                      " was not written by obsforge: the apply replaces it, keeping a copy in the "
                      "data directory (" +
                      (ReplacedDir() / rel).string() +
                      ") that is put back when obsforge stops writing this file");
    }
  } catch (const std::exception& e) {
    notes.push_back(component_ + ": cannot compare with " + config_dir_.string() + ": " + e.what());
  }
  return notes;
}

core::Result<void> ExternalComponentDriver::SyncFiles(const render::Bundle& bundle) {
  try {
    const auto written = ReadWritten(state_file_);
    std::map<std::string, std::string> now_written;
    const auto files = ComponentFiles(bundle, component_);
    for (const auto& [path, content] : files.files()) {
      const auto rel = Relative(path);
      const auto target = config_dir_ / rel;
      now_written[rel] = core::Sha256Hex(content);
      const auto current = ReadIfFile(target);
      // Unchanged files are left alone so that their mtime and inode stay as they were.
      if (current && *current == content) {
        continue;
      }
      const auto copy = ReplacedDir() / rel;
      std::error_code ec;
      if (current && !written.contains(rel) && !fs::exists(copy, ec)) {
        core::WriteFileAtomic(copy, *current, 0600);  // before the first write over it
      }
      core::WriteFileAtomic(target, content);
    }
    for (const auto& [rel, sha] : written) {
      if (now_written.contains(rel)) {
        continue;
      }
      const auto target = config_dir_ / rel;
      const auto current = ReadIfFile(target);
      if (!current || (!sha.empty() && core::Sha256Hex(*current) != sha)) {
        continue;  // gone, or changed by someone else since obsforge wrote it: not ours
      }
      const auto copy = ReplacedDir() / rel;
      if (const auto original = ReadIfFile(copy)) {
        core::WriteFileAtomic(target, *original);
        fs::remove(copy);
      } else {
        fs::remove(target);
      }
    }
    std::string listing;
    for (const auto& [rel, sha] : now_written) {
      listing.append(sha).append(" ").append(rel).append("\n");
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

std::vector<std::string> ExternalRuntime::PlanNotes(const render::Bundle& bundle) const {
  std::vector<std::string> notes;
  for (const auto& driver : MakeDrivers()) {
    const auto* external = dynamic_cast<const ExternalComponentDriver*>(driver.get());
    if (external != nullptr) {
      const auto found = external->ForeignFiles(bundle);
      notes.insert(notes.end(), found.begin(), found.end());
    }
  }
  return notes;
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
