// Golden render tests: every example stack in stacks/, and every spec in tests/golden/specs/
// (cases that are not examples, e.g. Alertmanager templates), × each of its environments is
// rendered and compared byte for byte with tests/golden/<stack>/<env>/. `OBS_UPDATE_GOLDEN=1`
// rewrites them. The golden files are then checked with the real promtool and amtool.
#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/loaded_stack.h"
#include "app/output_dir.h"
#include "app/tool_check.h"
#include "core/fs.h"

namespace obsforge::app {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = OBS_SOURCE_DIR;

struct GoldenCase {
  fs::path spec;
  std::string env;
  std::string Name() const {
    std::string name = spec.stem().string() + "_" + env;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
  }
  fs::path GoldenDir() const { return kSource / "tests/golden" / spec.stem() / env; }
};

std::vector<GoldenCase> AllCases() {
  std::vector<GoldenCase> cases;
  std::vector<fs::path> specs;
  for (const auto* dir : {"stacks", "tests/golden/specs"}) {
    for (const auto& entry : fs::directory_iterator(kSource / dir)) {
      if (entry.path().extension() == ".yaml") {
        specs.push_back(entry.path());
      }
    }
  }
  std::sort(specs.begin(), specs.end());
  for (const auto& spec : specs) {
    try {
      const auto loaded = LoadStack(spec, std::nullopt);
      for (const auto& env : loaded.stack.environments) {
        cases.push_back({spec, env});
      }
    } catch (const std::exception&) {
      cases.push_back({spec, "invalid"});  // reported by the test itself
    }
  }
  return cases;
}

// gtest prints parameters in test names; keep them readable instead of a byte dump.
void PrintTo(const GoldenCase& c, std::ostream* os) {
  *os << c.spec.filename().string() << "[" << c.env << "]";
}

bool UpdateRequested() {
  const char* v = std::getenv("OBS_UPDATE_GOLDEN");  // NOLINT(concurrency-mt-unsafe)
  return v != nullptr && std::string(v) == "1";
}

// Every regular file under `dir`, relative, sorted.
std::vector<std::string> FilesUnder(const fs::path& dir) {
  std::vector<std::string> files;
  if (!fs::exists(dir)) {
    return files;
  }
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files.push_back(fs::relative(entry.path(), dir).generic_string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class Golden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(Golden, RenderMatchesGoldenFiles) {
  const auto& c = GetParam();
  const auto loaded = LoadStack(c.spec, std::nullopt);
  const auto bundle = RenderForCli(loaded, c.env, std::nullopt);
  if (UpdateRequested()) {
    fs::remove_all(c.GoldenDir());
    WriteBundleToDir(bundle, c.GoldenDir());
  }
  std::vector<std::string> rendered;
  for (const auto& [path, content] : bundle.files()) {
    rendered.push_back(path);
    const auto golden = c.GoldenDir() / path;
    ASSERT_TRUE(fs::exists(golden)) << golden << " missing; run with OBS_UPDATE_GOLDEN=1";
    EXPECT_EQ(core::ReadFile(golden), content)
        << path << " differs from " << golden << "; run with OBS_UPDATE_GOLDEN=1 if intended";
  }
  EXPECT_EQ(FilesUnder(c.GoldenDir()), rendered)
      << "golden dir has files the render no longer makes";
}

TEST_P(Golden, RenderingTwiceGivesTheSameBytes) {
  const auto& c = GetParam();
  const auto loaded = LoadStack(c.spec, std::nullopt);
  EXPECT_EQ(RenderForCli(loaded, c.env, std::nullopt).ContentHash(),
            RenderForCli(loaded, c.env, std::nullopt).ContentHash());
}

TEST_P(Golden, UpstreamToolsAcceptTheGoldenFiles) {
  const auto& c = GetParam();
  std::vector<std::string> missing;
  render::Bundle golden;
  for (const auto& path : FilesUnder(c.GoldenDir())) {
    golden.Put(path, core::ReadFile(c.GoldenDir() / path));
  }
  ASSERT_FALSE(golden.empty()) << "no golden files for " << c.Name();
  const auto findings = CheckWithUpstreamTools(golden, c.Name(), &missing);
  if (!missing.empty() && std::getenv("CI") == nullptr) {  // NOLINT(concurrency-mt-unsafe)
    GTEST_SKIP() << "promtool/amtool not installed";
  }
  EXPECT_THAT(missing, ::testing::IsEmpty()) << "CI must have promtool and amtool";
  for (const auto& f : findings) {
    ADD_FAILURE() << f.ToString();
  }
}

INSTANTIATE_TEST_SUITE_P(Stacks, Golden, ::testing::ValuesIn(AllCases()), [](const auto& info) {
  return info.param.Name();
});

}  // namespace
}  // namespace obsforge::app
