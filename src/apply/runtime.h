#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apply/provision_step.h"
#include "apply/supervisor.h"
#include "apply/transaction.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/log.h"
#include "http/http_client.h"
#include "render/bundle.h"
#include "render/render.h"
#include "spec/stack.h"

namespace obsforge::apply {

/// The state of one component as its runtime knows it.
enum class ComponentState {
  kRunning,      ///< a process obsforge started is alive
  kRestarting,   ///< it died unexpectedly; restarted after a backoff
  kStopping,     ///< being stopped
  kStopped,      ///< not running (never started, stopped, or failed to start)
  kUnavailable,  ///< cannot run here (e.g. its binary is missing); see `reason`
  kExternal,     ///< runs elsewhere: obsforge writes its files and reloads it, nothing more
};

/// "running", "restarting", "stopping", "stopped", "unavailable", "external".
const char* ComponentStateName(ComponentState state);

/// The process behind a component the runtime runs itself.
struct ProcessInfo {
  int pid = 0;            ///< 0 when none is alive
  int restarts = 0;       ///< automatic restarts after unexpected exits
  std::string last_exit;  ///< "exited with status 1", "" when it never exited
};

/// One component of an environment.
struct ComponentStatus {
  std::string name;
  ComponentState state = ComponentState::kStopped;
  std::string reason;                  ///< why unavailable
  std::string url;                     ///< base URL, "" when the runtime knows none
  std::optional<ProcessInfo> process;  ///< set by runtimes that run processes

  /// The state's name, or "unavailable: <reason>".
  std::string Describe() const;
};

/// What kind of runtime an environment has.
struct RuntimeKind {
  const char* name = "";  ///< as the spec spells it: "local", "external"
  /// The components run as children of this process: they stop with it, and only `up` or
  /// `serve` run them (`apply` cannot); a restarted server starts them again.
  bool runs_components_here = false;
};

/// What runs for one environment, and which revision is applied.
struct RuntimeStatus {
  /// The runtime's kind name ("local", "external"); "" when no runtime is open for the environment
  /// in this process (nothing applied, rendered or watched since start, or torn down).
  std::string runtime;
  bool has_revisions = false;               ///< the environment has a revision directory
  std::optional<int> revision;              ///< the revision `current` points at
  std::optional<int> last_good;             ///< the last revision that was applied and verified
  std::vector<ComponentStatus> components;  ///< in spec::ComponentNames() order
};

/// Where an environment's components run and how obsforge gets a bundle into them. One object
/// per (stack, environment), made by MakeRuntime(), the only code that looks at the spec's
/// runtime type; everything else goes through this interface, so another runtime (e.g.
/// Kubernetes) is one more implementation and one more case in the factory.
///
/// Keys of Runtime::Urls() for Tempo's OTLP/HTTP and OTLP/gRPC receivers.
inline constexpr const char* kTempoOtlpHttp = "tempo_otlp_http";
inline constexpr const char* kTempoOtlpGrpc = "tempo_otlp_grpc";

/// Implementations are thread-safe; Apply() calls of one environment are serialized by the
/// caller (EnvironmentController).
class Runtime {
 public:
  Runtime() = default;
  virtual ~Runtime() = default;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  Runtime(Runtime&&) = delete;
  Runtime& operator=(Runtime&&) = delete;

  /// Its kind (name, where the components run).
  virtual RuntimeKind Kind() const = 0;
  /// Takes the latest spec of the same environment (a new retention, URL, ...); it applies from
  /// the next call on (for a running process: at its next start).
  virtual void Update(const spec::EnvironmentSpec& env) = 0;
  /// Adds what rendering needs to know about where the components run (local: their ports).
  virtual void ConfigureRender(render::RenderOptions& options) const = 0;
  /// Where the provision step reaches Grafana and the Loki ruler.
  virtual ProvisionAccess Provisioning() const = 0;

  /// Start, activate, verify: applies `bundle` (rendered and validated) through `applier`'s
  /// transaction (revision written, each changed component activated and verified, rolled back
  /// on failure), starting first what must run and is not running. A component that cannot run
  /// is reported in a failed "start" step and the rest still applies. Never throws.
  virtual ApplyResult Apply(const render::Bundle& bundle,
                            Applier& applier,
                            const StepCallback& on_step) = 0;
  /// Stops whatever this runtime runs for the environment (nothing, for runtimes whose
  /// components run elsewhere); returns when it is stopped.
  virtual void StopAll() = 0;

  /// A state per component, in spec::ComponentNames() order.
  virtual std::vector<ComponentStatus> Status() const = 0;
  /// Base URL of each component the runtime knows one for, by component name, plus Tempo's
  /// OTLP receivers as kTempoOtlpHttp / kTempoOtlpGrpc when it has them (Tempo takes OTLP on
  /// the receivers' own ports, never on its API port).
  virtual std::map<std::string, std::string> Urls() const = 0;
  /// What a plan of `bundle` should say beyond the file diffs (e.g. files in the way that
  /// obsforge did not write). Reads only; never throws. None by default.
  virtual std::vector<std::string> PlanNotes(const render::Bundle& /*bundle*/) const { return {}; }
};

/// What a runtime needs besides the spec (an aggregate; references must outlive the runtime).
struct RuntimeContext {
  std::filesystem::path data_dir;  ///< environments live in `<data_dir>/stacks/<stack>/<env>/`
  http::HttpClient& http;
  core::Clock& clock;
  core::Logger& logger;
  std::string path_env;                     ///< where component binaries are looked up
  std::chrono::milliseconds ready_timeout;  ///< a started component must be ready by then
  SupervisorOptions supervisor;
};

/// The kind of the runtime MakeRuntime() would make for `env`, without opening it. Never throws.
RuntimeKind KindOf(const spec::EnvironmentSpec& env);

/// Opens the runtime `env` asks for (local: its directory and ports, see LocalRuntime::Open;
/// nothing is started). kInternal when its state cannot be set up.
core::Result<std::unique_ptr<Runtime>> MakeRuntime(const spec::EnvironmentSpec& env,
                                                   const RuntimeContext& context);

/// True when `runtime` is of the kind `env` asks for (it can take env through Update()).
bool Fits(const Runtime& runtime, const spec::EnvironmentSpec& env);

}  // namespace obsforge::apply
