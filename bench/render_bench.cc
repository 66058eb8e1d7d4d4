// Rendering cost: one environment of the largest example stack, and every example stack × every
// environment in one process (see bench/README.md for how to run and what was measured).
#include <algorithm>
#include <filesystem>

#include <benchmark/benchmark.h>

#include "app/loaded_stack.h"

namespace obsforge::app {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> ExampleSpecs() {
  std::vector<fs::path> specs;
  for (const auto& entry : fs::directory_iterator(fs::path(OBS_SOURCE_DIR) / "stacks")) {
    if (entry.path().extension() == ".yaml") {
      specs.push_back(entry.path());
    }
  }
  std::sort(specs.begin(), specs.end());
  return specs;
}

// The stack whose prod bundle is the largest in bytes.
fs::path LargestSpec() {
  fs::path best;
  std::size_t best_size = 0;
  for (const auto& spec : ExampleSpecs()) {
    const auto loaded = LoadStack(spec, std::nullopt);
    const auto& env = loaded.stack.environments.back();
    std::size_t size = 0;
    for (const auto& [path, content] : RenderForCli(loaded, env, std::nullopt).files()) {
      size += content.size();
    }
    if (size > best_size) {
      best_size = size;
      best = spec;
    }
  }
  return best;
}

void BM_RenderLargestStackOneEnv(benchmark::State& state) {
  const auto spec = LargestSpec();
  const auto loaded = LoadStack(spec, std::nullopt);
  const auto env = loaded.stack.environments.back();
  state.SetLabel(spec.stem().string() + "/" + env);
  for (auto _ : state) {
    benchmark::DoNotOptimize(RenderForCli(loaded, env, std::nullopt));
  }
}
BENCHMARK(BM_RenderLargestStackOneEnv)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_ParseAndRenderAllStacksAllEnvs(benchmark::State& state) {
  const auto specs = ExampleSpecs();
  std::size_t renders = 0;
  for (auto _ : state) {
    renders = 0;
    for (const auto& spec : specs) {
      const auto loaded = LoadStack(spec, std::nullopt);
      for (const auto& env : loaded.stack.environments) {
        benchmark::DoNotOptimize(RenderForCli(loaded, env, std::nullopt));
        ++renders;
      }
    }
  }
  state.counters["renders"] = static_cast<double>(renders);
}
BENCHMARK(BM_ParseAndRenderAllStacksAllEnvs)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
}  // namespace obsforge::app

BENCHMARK_MAIN();
