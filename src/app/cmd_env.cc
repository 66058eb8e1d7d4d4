// `plan`, `apply` and `up`: the commands that act on one environment through the same
// EnvironmentController the server uses (`up` through the whole application, as `serve`).
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <set>
#include <sstream>
#include <streambuf>

#include "app/commands.h"
#include "app/controller_factory.h"
#include "app/health_wiring.h"
#include "app/loaded_stack.h"
#include "app/step_printer.h"
#include "app/up_view.h"
#include "apply/runtime.h"
#include "control/application.h"
#include "control/controller_backend.h"
#include "core/diagnostic.h"
#include "store/sqlite_store.h"
#include <pthread.h>

namespace obsforge::app {
namespace {

apply::ControllerOptions ControllerOptionsFor(const EnvCommandOptions& options) {
  apply::ControllerOptions controller;
  controller.data_dir = options.data_dir;
  if (options.input.templates) {
    controller.templates_dir = *options.input.templates;
  }
  return controller;
}

// Loads the spec and checks the environment exists; prints the errors and returns nullopt when not.
std::optional<LoadedStack> LoadForEnv(const EnvCommandOptions& options,
                                      Io io,
                                      spec::EnvironmentSpec* merged) {
  try {
    auto loaded = LoadStack(options.input.spec, options.input.root);
    *merged = spec::ForEnvironment(loaded.stack, options.env);
    return loaded;
  } catch (const core::InputError& e) {
    for (const auto& d : e.diagnostics()) {
      io.err << d.ToString() << '\n';
    }
    return std::nullopt;
  }
}

bool Succeeded(const apply::ApplyResult& result) {
  return result.outcome == apply::Outcome::kApplied || result.outcome == apply::Outcome::kUnchanged;
}

// Lines written to it go to the view, one Print() per line (the logger's, for `up`).
class LineBuf final : public std::streambuf {
 public:
  explicit LineBuf(TerminalView& view) : view_(view) {}

 protected:
  int_type overflow(int_type c) override {
    if (c == traits_type::eof()) {
      return traits_type::not_eof(c);
    }
    if (c == '\n') {
      view_.Print(line_);
      line_.clear();
    } else {
      line_.push_back(static_cast<char>(c));
    }
    return c;
  }

 private:
  TerminalView& view_;
  std::string line_;
};

// The steps of `up`'s operations on the view, and their ends for the one waiting on them.
class UpProgress final : public control::OperationObserver {
 public:
  explicit UpProgress(TerminalView& view) : view_(view) {}
  void OnStep(const store::Operation& /*op*/, const apply::Step& step) override {
    std::ostringstream line;
    PrintStep(step, line);
    if (std::string text = line.str(); !text.empty()) {
      text.pop_back();  // the view ends the line
      view_.Print(text);
    }
  }
  void OnFinished(const store::Operation& op,
                  const control::OperationOutcome& /*outcome*/,
                  double /*seconds*/) override {
    std::lock_guard lock(mu_);
    finished_.insert(op.id);
    cv_.notify_all();
  }
  // Blocks until operation `id` has finished.
  void Wait(const std::string& id) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return finished_.contains(id); });
  }

 private:
  TerminalView& view_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> finished_;
};

// Blocks until SIGINT or SIGTERM (blocked in every thread). A live view is refreshed meanwhile:
// health changes at once, runtime states (restarts) every second.
void WaitForStop(const sigset_t& stop, TerminalView& view, bool live) {
  using std::chrono::steady_clock;
  auto drawn = steady_clock::now();
  while (true) {
    if (!live) {
      int signal = 0;
      if (sigwait(&stop, &signal) == 0) {
        return;
      }
      continue;
    }
    const timespec tick{.tv_sec = 0, .tv_nsec = 200'000'000};
    if (sigtimedwait(&stop, nullptr, &tick) > 0) {
      return;
    }
    const bool second = steady_clock::now() - drawn >= std::chrono::seconds(1);
    view.Refresh(second);
    if (second) {
      drawn = steady_clock::now();
    }
  }
}

// `up` with the stop signals blocked: the same application as `serve` (on an in-memory store),
// with the same health parts, driven from the terminal.
int Up(const EnvCommandOptions& options, LoadedStack loaded, const sigset_t& stop, Io io) {
  const std::string name = loaded.stack.name;
  TerminalView view(io.err, io.err_is_terminal, name, options.env);
  LineBuf log_lines(view);
  std::ostream log_stream(&log_lines);
  core::Logger logger(log_stream, core::LogLevel::kWarn);
  ControllerWiring wiring(ControllerOptionsFor(options), logger);
  auto& controller = wiring.controller();
  auto store = store::SqliteStore::Open({.path = ":memory:"}, wiring.clock());
  if (!store.ok()) {
    io.err << "cannot open the in-memory store: " << store.error().message << '\n';
    return kExitFailed;
  }
  control::ControllerBackend backend(controller);
  HealthWiring health(
      {}, **store, backend, wiring.http(), wiring.clock(), logger,
      [&controller](const spec::StackSpec& stack, const std::string& env) {
        return controller.Urls(stack, env);
      },
      &view);
  UpProgress progress(view);  // before the application: it must outlive the runner's calls
  control::Application app({.data_dir = options.data_dir,
                            .content_dir = spec::StackRoot(options.input.spec, options.input.root)},
                           **store, backend, wiring.clock(), logger, &health.runtime());
  app.operations().AddObserver(progress);
  const auto stop_all = [&] {
    app.Stop(std::chrono::steady_clock::now() + std::chrono::seconds(30));
    controller.StopAll();
  };
  if (auto started = app.Start(); !started.ok()) {
    io.err << "cannot start: " << started.error().message << '\n';
    return kExitFailed;
  }
  view.Print("bringing up " + name + " [" + options.env + "]");
  const control::SpecInput input{
      .stack = loaded.stack, .content = std::move(loaded.content), .hash = loaded.stack.Hash()};
  auto created = app.stacks().Create(input, std::vector<std::string>{options.env}, "up");
  if (!created.ok()) {
    io.err << "cannot bring it up: " << created.error().message << '\n';
    stop_all();
    return kExitFailed;
  }
  const std::string id = created->operations.front().id;
  progress.Wait(id);
  auto op = app.stacks().Operation(id);
  if (!op.ok()) {
    io.err << "cannot read operation " << id << ": " << op.error().message << '\n';
    stop_all();
    return kExitFailed;
  }
  PrintOutcome(*op, io.out);
  if (op->state != store::OperationState::kSucceeded) {
    stop_all();
    return kExitFailed;
  }
  for (const auto& [component, url] : controller.Urls(loaded.stack, options.env)) {
    io.out << "  " << component << ": " << url << '\n';
  }
  io.out << "running; press Ctrl-C to stop" << std::endl;
  view.Show([&app, &name, &env = options.env] { return app.Environment(name, env); });
  WaitForStop(stop, view, io.err_is_terminal);
  view.Close();
  view.Print("stopping");
  stop_all();
  return kExitOk;
}

}  // namespace

int RunPlan(const EnvCommandOptions& options, Io io) {
  spec::EnvironmentSpec merged;
  auto loaded = LoadForEnv(options, io, &merged);
  if (!loaded) {
    return kExitFailed;
  }
  ControllerWiring wiring(ControllerOptionsFor(options), core::NullLogger());
  try {
    auto plan = wiring.controller().PlanFor(loaded->stack, options.env, *loaded->content);
    if (!plan.ok()) {
      io.err << "plan failed: " << plan.error().message << '\n';
      return kExitFailed;
    }
    io.out << plan->ToText(options.full_diff ? apply::DiffLimit{.max_lines = 0}
                                             : apply::DiffLimit{});
  } catch (const core::InputError& e) {
    for (const auto& d : e.diagnostics()) {
      io.err << d.ToString() << '\n';
    }
    return kExitFailed;
  }
  return kExitOk;
}

int RunApply(const EnvCommandOptions& options, Io io) {
  spec::EnvironmentSpec merged;
  auto loaded = LoadForEnv(options, io, &merged);
  if (!loaded) {
    return kExitFailed;
  }
  if (const auto kind = apply::KindOf(merged); kind.runs_components_here) {
    io.err << "environment " << options.env << " of " << loaded->stack.name << " uses the "
           << kind.name << " runtime: obsforge runs its components itself, so use `obsforge up "
           << options.input.spec.string() << " --env " << options.env
           << "` (foreground) or `obsforge serve`\n";
    return kExitFailed;
  }
  ControllerWiring wiring(ControllerOptionsFor(options), core::NullLogger());
  const auto result =
      wiring.controller().Apply(loaded->stack, options.env, *loaded->content,
                                [&](const apply::Step& step) { PrintStep(step, io.err); });
  PrintOutcome(result, io.out);
  return Succeeded(result) ? kExitOk : kExitFailed;
}

int RunUp(const EnvCommandOptions& options, Io io) {
  spec::EnvironmentSpec merged;
  auto loaded = LoadForEnv(options, io, &merged);
  if (!loaded) {
    return kExitFailed;
  }
  if (const auto kind = apply::KindOf(merged); !kind.runs_components_here) {
    io.err << "environment " << options.env << " uses the " << kind.name
           << " runtime: use `obsforge apply`\n";
    return kExitFailed;
  }
  // SIGINT and SIGTERM are waited for, not handled: blocked before any thread starts, so every
  // thread inherits the mask and only the wait below sees them (children get theirs reset).
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &stop, &previous);
  const int code = Up(options, std::move(*loaded), stop, io);
  // A signal that came while it failed to come up must not kill the process once unblocked.
  const timespec now{};
  while (sigtimedwait(&stop, nullptr, &now) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return code;
}

}  // namespace obsforge::app
