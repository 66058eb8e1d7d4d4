// `obsforge render --out`: the folders it refuses, and what it may delete there.
#include "app/output_dir.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "core/fs.h"
#include "core/hash.h"
#include <unistd.h>

namespace obsforge::app {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class OutputDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("obs-out-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "stacks");
    WriteSpec("{prometheus: {}}");
    if (const char* home = std::getenv("HOME")) {
      saved_home_ = home;
    }
  }
  void TearDown() override {
    if (saved_home_) {
      ::setenv("HOME", saved_home_->c_str(), 1);
    } else {
      ::unsetenv("HOME");
    }
    fs::remove_all(dir_);
  }

  // stacks/mini.yaml with `components` (a YAML flow map).
  void WriteSpec(const std::string& components) {
    core::WriteFileAtomic(
        dir_ / "stacks/mini.yaml",
        "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: mini}\nspec:\n  components: " +
            components + "\n");
  }

  int Render(const fs::path& out, bool check = false) {
    out_.str("");
    err_.str("");
    return RunRender({.input = {.spec = dir_ / "stacks/mini.yaml"},
                      .env = "default",
                      .out = out,
                      .check = check},
                     Io{out_, err_});
  }

  fs::path dir_;
  std::optional<std::string> saved_home_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(OutputDirTest, RootEmptyAndHomeAreRefusedHoweverTheyAreWritten) {
  const auto home = dir_ / "home";
  fs::create_directories(home / "sub");
  ::setenv("HOME", home.c_str(), 1);
  fs::create_symlink("/", dir_ / "to-root");
  fs::create_symlink(home, dir_ / "to-home");
  for (const fs::path& refused :
       {fs::path(""), fs::path("/"), fs::path("//"), fs::path("/tmp/.."), dir_ / "to-root",
        fs::path(home), home / "sub/..", home / ".", dir_ / "to-home"}) {
    SCOPED_TRACE(refused.string());
    EXPECT_TRUE(RefuseOutputDir(refused).has_value());
  }
  for (const fs::path& allowed : {dir_ / "out", home / "sub", fs::path("relative/out")}) {
    SCOPED_TRACE(allowed.string());
    EXPECT_EQ(RefuseOutputDir(allowed), std::nullopt);
  }

  EXPECT_EQ(Render(""), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--out: the output folder is empty"));
  EXPECT_EQ(Render(home), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("is the home directory"));
  EXPECT_FALSE(fs::exists(home / "MANIFEST.json"));
  EXPECT_EQ(Render(dir_ / "to-root"), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("is the root directory"));
  EXPECT_EQ(Render(dir_ / "to-root", /*check=*/true), kExitUsage);
  // The repository mode refuses the same folders.
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(RunRenderRepo({.repo = dir_, .env = "default", .out = home}, Io{out, err}), kExitUsage);
}

TEST_F(OutputDirTest, AHandMadeManifestDeletesNothingObsforgeDidNotWrite) {
  const auto out = dir_ / "out";
  fs::create_directories(out / "notes");
  core::WriteFileAtomic(out / "notes/precious.txt", "mine");
  core::WriteFileAtomic(dir_ / "outside.txt", "also mine");
  fs::create_symlink(dir_ / "outside.txt", out / "link.txt");
  // Lists the files with made-up hashes, and one with its real hash through a symlink.
  core::WriteFileAtomic(out / "MANIFEST.json",
                        nlohmann::json{{"files",
                                        {{"notes/precious.txt", "0"},
                                         {"link.txt", core::Sha256Hex("also mine")},
                                         {"../outside.txt", "0"}}}}
                            .dump());
  ASSERT_EQ(Render(out), kExitOk) << err_.str();
  EXPECT_EQ(core::ReadFile(out / "notes/precious.txt"), "mine");
  EXPECT_TRUE(fs::is_symlink(out / "link.txt"));
  EXPECT_EQ(core::ReadFile(dir_ / "outside.txt"), "also mine");
  EXPECT_TRUE(fs::exists(out / "prometheus/prometheus.yml"));
}

TEST_F(OutputDirTest, AFileEditedSinceItWasRenderedIsKept) {
  const auto out = dir_ / "out";
  WriteSpec(
      "{prometheus: {}, alertmanager: {route: {receiver: default}, receivers: [{name: default}]}}");
  ASSERT_EQ(Render(out), kExitOk) << err_.str();
  ASSERT_TRUE(fs::exists(out / "alertmanager/alertmanager.yml"));
  std::ofstream(out / "alertmanager/alertmanager.yml", std::ios::app) << "# kept by hand\n";
  ASSERT_TRUE(fs::exists(out / "prometheus/prometheus.yml"));

  // Drop Alertmanager: its edited file stays; what obsforge wrote and nobody touched goes.
  WriteSpec("{prometheus: {}}");
  const auto manifest = nlohmann::json::parse(core::ReadFile(out / "MANIFEST.json"));
  ASSERT_EQ(Render(out), kExitOk) << err_.str();
  EXPECT_TRUE(fs::exists(out / "alertmanager/alertmanager.yml"));
  for (const auto& [path, hash] : manifest["files"].items()) {
    if (path.starts_with("alertmanager/") && path != "alertmanager/alertmanager.yml") {
      EXPECT_FALSE(fs::exists(out / path)) << path;
    }
  }
}

}  // namespace
}  // namespace obsforge::app
