// Apply cost on a running local environment (real Prometheus 2.42 + Alertmanager 0.25 from
// Debian): an unchanged re-apply (render + compare; nothing written or reloaded), and a rule
// change carried through write → reload → verify. Startup of the components is outside the timing.
#include <filesystem>

#include <benchmark/benchmark.h>

#include "apply/environment_controller.h"
#include "http/curl_http_client.h"
#include "spec/stack.h"
#include <unistd.h>

namespace obsforge::apply {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSpec = R"(apiVersion: obsforge/v1
kind: Stack
metadata: {name: bench}
spec:
  components:
    prometheus: {}
    alertmanager:
      route: {receiver: default}
      receivers: [{name: default}]
  alerts:
    - {path: alerts/*.yaml, type: prometheus}
  environments:
    dev: {runtime: {type: local}}
)";

std::string Rules(int threshold) {
  return "groups:\n  - name: bench\n    rules:\n      - alert: High\n        expr: vector(1) > " +
         std::to_string(threshold) + "\n";
}

struct Env {
  Env() : dir(fs::temp_directory_path() / ("obs-apply-bench-" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    ControllerOptions options;
    options.data_dir = dir;
    controller = std::make_unique<EnvironmentController>(options, http, clock, core::NullLogger());
  }
  ~Env() {
    controller.reset();
    fs::remove_all(dir);
  }
  ApplyResult Apply(int threshold) {
    auto content = spec::MakeMemorySource({{"alerts/bench.yaml", Rules(threshold)}});
    const auto stack = spec::ParseStack(kSpec, "bench.yaml", *content);
    return controller->Apply(stack, "dev", *content);
  }
  fs::path dir;
  http::CurlGlobal curl;
  http::CurlHttpClient http;
  core::SystemClock clock;
  std::unique_ptr<EnvironmentController> controller;
};

Env& Shared() {
  static Env env;
  return env;
}

void BM_NoOpApplyOfAnUnchangedSpec(benchmark::State& state) {
  auto& env = Shared();
  if (env.Apply(0).outcome == Outcome::kFailed) {
    state.SkipWithError("could not bring the environment up");
    return;
  }
  for (auto _ : state) {
    if (env.Apply(0).outcome != Outcome::kUnchanged) {
      state.SkipWithError("expected unchanged");
      return;
    }
  }
}
BENCHMARK(BM_NoOpApplyOfAnUnchangedSpec)->Unit(benchmark::kMillisecond)->MinTime(3.0);

void BM_RuleChangeToVerified(benchmark::State& state) {
  auto& env = Shared();
  int threshold = 1;
  for (auto _ : state) {
    const auto result = env.Apply(threshold++);
    if (result.outcome != Outcome::kApplied) {
      state.SkipWithError(result.error ? result.error->message.c_str() : "not applied");
      return;
    }
  }
}
BENCHMARK(BM_RuleChangeToVerified)->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace
}  // namespace obsforge::apply

BENCHMARK_MAIN();
