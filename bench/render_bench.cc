// Rendering cost: one environment of the largest example stack, and every example stack × every
// environment in one process (see bench/README.md for how to run and what was measured).
#include <algorithm>
#include <filesystem>

#include <benchmark/benchmark.h>

#include "app/loaded_stack.h"
#include "app/tool_check.h"
#include "core/fs.h"
#include "render/env.h"
#include "render/render.h"

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
    const auto bundle = RenderForCli(loaded, env, std::nullopt);
    for (const auto& [path, content] : bundle.files()) {
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

// The Debian `jsonnet` CLI on the same templates and the same inputs, one process per component
// template (the way a Makefile or a shell loop would drive it), for the side-by-side ratio.
void BM_JsonnetCliOneProcessPerComponent(benchmark::State& state) {
  const auto spec = LargestSpec();
  const auto loaded = LoadStack(spec, std::nullopt);
  const auto env_name = loaded.stack.environments.back();
  const auto merged = spec::ForEnvironment(loaded.stack, env_name);
  const render::RenderOptions options;
  const auto stack_json = render::PrepareStack(merged.merged, render::SecretsDir(merged, options));
  const auto env_json = render::BuildEnv(merged, stack_json, options);
  const auto dir = fs::temp_directory_path() / "obs-render-bench-cli";
  fs::create_directories(dir);
  core::WriteFileAtomic(dir / "stack.json", stack_json.dump());
  core::WriteFileAtomic(dir / "env.json", env_json.dump());
  std::vector<std::string> components;
  for (const auto& component : spec::ComponentNames()) {
    if (render::ComponentEnabled(stack_json, component)) {
      components.push_back(component);
    }
  }
  const auto templates = fs::path(OBS_SOURCE_DIR) / "templates";
  state.SetLabel(spec.stem().string() + "/" + env_name + ", " + std::to_string(components.size()) +
                 " processes");
  for (auto _ : state) {
    for (const auto& component : components) {
      const auto run = RunTool({"jsonnet", "-J", templates.string(), "--tla-code-file",
                                "stack=" + (dir / "stack.json").string(), "--tla-code-file",
                                "env=" + (dir / "env.json").string(),
                                (templates / component / "main.jsonnet").string()});
      if (run.exit_code != 0) {
        state.SkipWithError(("jsonnet failed: " + run.output.substr(0, 300)).c_str());
        return;
      }
    }
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_JsonnetCliOneProcessPerComponent)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
}  // namespace obsforge::app

BENCHMARK_MAIN();
