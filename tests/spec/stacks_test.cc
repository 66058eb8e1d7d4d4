// The example stacks shipped in stacks/ must always validate, in every environment.
#include <filesystem>

#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "spec/stack.h"

namespace obsforge::spec {
namespace {

TEST(ExampleStacksTest, EveryStackValidates) {
  const std::filesystem::path dir = std::filesystem::path(OBS_SOURCE_DIR) / "stacks";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
      files.push_back(entry.path());
    }
  }
  ASSERT_FALSE(files.empty()) << "no stacks in " << dir;
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    const auto content = MakeDirectorySource(StackRoot(file, std::nullopt));
    try {
      const auto stack = LoadStackFile(file, *content);
      EXPECT_EQ(stack.name, file.stem().string());
      for (const auto& env : stack.environments) {
        const auto merged = ForEnvironment(stack, env);
        EXPECT_FALSE(merged.merged["spec"].contains("environments"));
      }
    } catch (const core::InputError& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

}  // namespace
}  // namespace obsforge::spec
