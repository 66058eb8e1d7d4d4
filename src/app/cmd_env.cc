// `plan`, `apply` and `up`: the commands that act on one environment through the same
// EnvironmentController the server uses.
#include <atomic>
#include <csignal>
#include <map>
#include <thread>

#include "app/commands.h"
#include "app/controller_factory.h"
#include "app/loaded_stack.h"
#include "app/step_printer.h"
#include "apply/runtime.h"
#include "core/diagnostic.h"

namespace obsforge::app {
namespace {

std::atomic<bool> g_stop{false};  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

extern "C" void OnStopSignal(int /*signal*/) {
  g_stop.store(true);
}

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
    io.out << plan->ToText();
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
  g_stop.store(false);
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  ControllerWiring wiring(ControllerOptionsFor(options), core::NullLogger());
  auto& controller = wiring.controller();
  io.err << "bringing up " << loaded->stack.name << " [" << options.env << "]\n";
  const auto result = controller.Apply(loaded->stack, options.env, *loaded->content,
                                       [&](const apply::Step& step) { PrintStep(step, io.err); });
  PrintOutcome(result, io.out);
  if (!Succeeded(result)) {
    controller.StopAll();
    return kExitFailed;
  }
  for (const auto& [component, url] : controller.Urls(loaded->stack, options.env)) {
    io.out << "  " << component << ": " << url << '\n';
  }
  io.out << "running; press Ctrl-C to stop" << std::endl;
  std::map<std::string, std::string> last;
  while (!g_stop.load()) {
    for (const auto& c : controller.Status(loaded->stack.name, options.env).components) {
      const auto state = c.Describe();
      if (last[c.name] != state) {
        if (!last[c.name].empty()) {
          io.out << c.name << ": " << last[c.name] << " -> " << state << std::endl;
        }
        last[c.name] = state;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  io.err << "stopping\n";
  controller.StopAll();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  return kExitOk;
}

}  // namespace obsforge::app
