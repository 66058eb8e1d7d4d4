#include "apply/local_runtime.h"

#include <algorithm>

namespace obsforge::apply {
namespace {

bool IsKnownComponent(const std::string& component) {
  const auto& names = spec::ComponentNames();
  return std::find(names.begin(), names.end(), component) != names.end();
}

core::Error UnknownComponent(const std::string& component) {
  return core::MakeError(core::ErrorCode::kInvalidSpec, "unknown component '" + component + "'");
}

// A probe's failure text kept short: it ends up in operation messages and health output.
std::string Abbreviate(std::string text) {
  constexpr std::size_t kMax = 300;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  if (text.size() > kMax) {
    text = text.substr(0, kMax) + "...";
  }
  return text;
}

}  // namespace

core::Result<std::unique_ptr<LocalRuntime>> LocalRuntime::Open(const spec::EnvironmentSpec& env,
                                                               LocalRuntimeOptions options,
                                                               http::HttpClient& http,
                                                               core::Clock& clock,
                                                               core::Logger& logger) {
  auto env_root = options.data_dir / "stacks" / env.stack / env.env;
  auto ports = LoadOrAllocatePorts(env_root, FixedPorts(env.runtime));
  if (!ports.ok()) {
    return ports.error();
  }
  return std::unique_ptr<LocalRuntime>(new LocalRuntime(
      env, std::move(options), std::move(env_root), std::move(*ports), http, clock, logger));
}

LocalRuntime::LocalRuntime(spec::EnvironmentSpec env,
                           LocalRuntimeOptions options,
                           std::filesystem::path env_root,
                           PortMap ports,
                           http::HttpClient& http,
                           core::Clock& clock,
                           core::Logger& logger)
    : env_(std::move(env)),
      options_(std::move(options)),
      env_root_(std::move(env_root)),
      ports_(std::move(ports)),
      http_(http),
      clock_(clock),
      logger_(logger),
      supervisor_(clock, options_.supervisor, logger) {
}

LocalRuntime::~LocalRuntime() {
  StopAll();
}

std::vector<std::string> LocalRuntime::EnabledComponents() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> enabled;
  const auto spec_it = env_.merged.find("spec");
  if (spec_it == env_.merged.end() || !spec_it->is_object()) {
    return enabled;
  }
  const auto components = spec_it->find("components");
  if (components == spec_it->end() || !components->is_object()) {
    return enabled;
  }
  for (const auto& name : spec::ComponentNames()) {
    auto c = components->find(name);
    if (c == components->end() || !c->is_object()) {
      continue;
    }
    auto flag = c->find("enabled");
    // A component section without `enabled` means the user wants it.
    if (flag == c->end() || !flag->is_boolean() || flag->get<bool>()) {
      enabled.push_back(name);
    }
  }
  return enabled;
}

ComponentLayout LocalRuntime::Layout(const std::string& component) const {
  return LayoutFor(env_root_, component);
}

std::string LocalRuntime::BaseUrl(const std::string& component) const {
  return LoopbackBaseUrl(component, ports_);
}

std::string LocalRuntime::ReadinessUrl(const std::string& component) const {
  return ReadyUrl(component, ports_);
}

CommandInputs LocalRuntime::InputsFor(const std::string& binary_name) const {
  CommandInputs inputs{.binary_name = binary_name, .grafana_homepath = options_.grafana_homepath};
  std::lock_guard lock(mu_);
  const auto retention = env_.merged.value(
      nlohmann::json::json_pointer("/spec/values/retention/metrics"), nlohmann::json());
  if (retention.is_string() && !retention.get<std::string>().empty()) {
    inputs.metrics_retention = retention.get<std::string>();
  }
  return inputs;
}

core::Result<void> LocalRuntime::Start(const std::string& component) {
  if (!IsKnownComponent(component)) {
    return UnknownComponent(component);
  }
  auto binary = ResolveComponentBinary(component, options_.path_env);
  if (!binary.ok()) {
    supervisor_.SetUnavailable(component, binary.error().message);
    logger_.Warn("component unavailable",
                 {{"component", component}, {"reason", binary.error().message}});
    return binary.error();
  }
  const auto layout = Layout(component);
  std::error_code ec;
  std::filesystem::create_directories(layout.data_dir, ec);
  if (ec) {
    return core::MakeError(core::ErrorCode::kInternal,
                           "cannot create " + layout.data_dir.string() + ": " + ec.message());
  }
  ProcessSpec spec{
      .name = component,
      .binary = binary->path,
      .args = ComponentArgs(component, layout, ports_, InputsFor(binary->name)),
      .working_dir = layout.component_dir,
      .log_file = layout.log_file,
      .log_max_bytes = options_.log_max_bytes,
      .stop_timeout = StopTimeout(component, options_.supervisor.stop_timeout),
  };
  return supervisor_.Start(std::move(spec));
}

std::vector<std::pair<std::string, core::Result<void>>> LocalRuntime::StartAll() {
  std::vector<std::pair<std::string, core::Result<void>>> results;
  for (const auto& component : EnabledComponents()) {
    results.emplace_back(component, Start(component));
  }
  return results;
}

core::Result<void> LocalRuntime::Stop(const std::string& component) {
  if (!supervisor_.State(component).has_value()) {
    return {};
  }
  return supervisor_.Stop(component);
}

core::Result<void> LocalRuntime::Restart(const std::string& component) {
  auto state = supervisor_.State(component);
  if (state.has_value() && state->phase != ProcessPhase::kUnavailable) {
    if (auto stopped = supervisor_.Stop(component); !stopped.ok()) {
      return stopped;
    }
  }
  // Start() again rather than Supervisor::Restart(): the binary or the spec may have changed.
  return Start(component);
}

void LocalRuntime::StopAll() {
  supervisor_.StopAll();
}

core::Result<void> LocalRuntime::CheckReady(const std::string& component) {
  const std::string url = ReadinessUrl(component);
  if (url.empty()) {
    return UnknownComponent(component);
  }
  http::Request request{.method = "GET",
                        .url = url,
                        .connect_timeout = options_.probe_timeout,
                        .timeout = options_.probe_timeout};
  auto response = http_.Send(request);
  if (!response.ok()) {
    return core::MakeError(core::ErrorCode::kUnavailable, response.error().message);
  }
  if (response->status != 200) {
    auto error = core::MakeError(core::ErrorCode::kUnavailable,
                                 "GET " + url + ": HTTP " + std::to_string(response->status) +
                                     ": " + Abbreviate(response->body));
    error.upstream_status = response->status;
    error.upstream_body = response->body;
    return error;
  }
  return {};
}

core::Result<void> LocalRuntime::WaitReady(const std::string& component,
                                           std::chrono::milliseconds timeout) {
  const auto deadline = clock_.Monotonic() + timeout;
  std::string last = "no probe made";
  while (true) {
    auto state = supervisor_.State(component);
    if (!state.has_value()) {
      return core::MakeError(core::ErrorCode::kNotFound, component + " was not started");
    }
    if (state->phase == ProcessPhase::kUnavailable) {
      return core::MakeError(core::ErrorCode::kUnavailable, state->reason);
    }
    if (state->phase == ProcessPhase::kStopped || state->phase == ProcessPhase::kStopping) {
      std::string message = component + " is " + ProcessPhaseName(state->phase);
      if (!state->reason.empty()) {
        message += ": " + state->reason;
      }
      return core::MakeError(core::ErrorCode::kUnavailable, message);
    }
    if (state->phase == ProcessPhase::kRunning) {
      auto ready = CheckReady(component);
      if (ready.ok()) {
        return {};
      }
      last = ready.error().message;
    } else {
      last = component;
      last.append(" ").append(state->last_exit).append(" (restart ");
      last.append(std::to_string(state->restarts)).append(", see ");
      last.append(state->log_file.string()).append(")");
    }
    if (clock_.Monotonic() >= deadline) {
      std::string message = component;
      message.append(" not ready after ").append(std::to_string(timeout.count()));
      message.append("ms: ").append(last);
      return core::MakeError(core::ErrorCode::kTimeout, std::move(message));
    }
    clock_.SleepFor(options_.ready_poll_interval);
  }
}

std::optional<ProcessState> LocalRuntime::State(const std::string& component) const {
  return supervisor_.State(component);
}

std::vector<ProcessState> LocalRuntime::States() const {
  std::vector<ProcessState> states;
  for (const auto& component : EnabledComponents()) {
    auto state = supervisor_.State(component);
    if (state.has_value()) {
      states.push_back(std::move(*state));
    } else {
      states.push_back(ProcessState{.name = component, .phase = ProcessPhase::kStopped});
    }
  }
  return states;
}

}  // namespace obsforge::apply
