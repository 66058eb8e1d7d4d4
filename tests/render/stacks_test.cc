// Renders the repository's example stacks with the embedded default templates.
#include <algorithm>
#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "render/render.h"
#include "render/yaml_json.h"
#include "spec/stack.h"

namespace obsforge::render {
namespace {

namespace fs = std::filesystem;

// The repository root the example stacks refer to (resolved, so a source tree of symlinks works).
fs::path root;

std::vector<fs::path> ExampleStacks() {
  std::vector<fs::path> out;
  const fs::path dir = fs::path(OBS_SOURCE_DIR) / "stacks";
  if (!fs::exists(dir)) {
    return out;
  }
  root = fs::canonical(dir).parent_path();
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".yaml") {
      out.push_back(root / "stacks" / e.path().filename());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ExampleStacks, EveryEnvironmentRendersWithTheDefaultTemplates) {
  const auto stacks = ExampleStacks();
  if (stacks.empty()) {
    GTEST_SKIP() << "no example stacks yet";
  }
  const auto content = spec::MakeDirectorySource(root);
  for (const auto& file : stacks) {
    SCOPED_TRACE(file.string());
    const auto stack = spec::LoadStackFile(file, *content);
    for (const auto& env : stack.environments) {
      SCOPED_TRACE(env);
#if defined(__SANITIZE_ADDRESS__)
      // Jsonnet allocates heavily and is slow under ASan: one environment per stack is enough
      // there.
      if (env != stack.environments.front()) {
        continue;
      }
#endif
      try {
        const auto bundle = RenderEnvironment(spec::ForEnvironment(stack, env), *content, {});
        EXPECT_NE(bundle.Find("MANIFEST.json"), nullptr);
        EXPECT_NE(bundle.Find("prometheus/prometheus.yml"), nullptr);
        if (env == stack.environments.front()) {
          const auto again = RenderEnvironment(spec::ForEnvironment(stack, env), *content, {});
          EXPECT_EQ(bundle.ContentHash(), again.ContentHash());
        }
      } catch (const core::InputError& e) {
        ADD_FAILURE() << e.what();
      }
    }
  }
}

}  // namespace
}  // namespace obsforge::render
