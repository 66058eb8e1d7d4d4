#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "spec/stack.h"
#include <unistd.h>

namespace obsforge::spec {
namespace {

namespace fs = std::filesystem;
using Paths = std::vector<std::string>;

// A fresh directory per test: <tmp>/obsforge-spec-<pid>-<test name>/{root,outside}.
class DirectorySourceTest : public testing::Test {
 protected:
  void SetUp() override {
    base_ =
        fs::temp_directory_path() / ("obsforge-spec-" + std::to_string(::getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    root_ = base_ / "root";
    for (const char* f : {"dashboards/a.json", "dashboards/b.json", "dashboards/c.jsonnet",
                          "dashboards/team/x.json", "dashboards/team/deep/y.json", "alerts/1.yaml",
                          "alerts/2.yaml", "alerts/10.yaml", "top.json"}) {
      Write(root_ / f, f);
    }
    Write(base_ / "outside" / "secret.json", "outside");
  }
  void TearDown() override { fs::remove_all(base_); }

  static void Write(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << content;
  }

  fs::path base_;
  fs::path root_;
};

TEST_F(DirectorySourceTest, GlobStarAndQuestionMark) {
  const auto source = MakeDirectorySource(root_);
  EXPECT_EQ(source->Glob("dashboards/*.json"), (Paths{"dashboards/a.json", "dashboards/b.json"}));
  EXPECT_EQ(source->Glob("dashboards/*"),
            (Paths{"dashboards/a.json", "dashboards/b.json", "dashboards/c.jsonnet"}));
  EXPECT_EQ(source->Glob("alerts/?.yaml"), (Paths{"alerts/1.yaml", "alerts/2.yaml"}));
  EXPECT_EQ(source->Glob("*.json"), (Paths{"top.json"}));
  EXPECT_EQ(source->Glob("dashboards/a.json"), (Paths{"dashboards/a.json"}));
  EXPECT_TRUE(source->Glob("dashboards/*.yaml").empty());
  EXPECT_TRUE(source->Glob("nothing/*").empty());
}

TEST_F(DirectorySourceTest, GlobDoubleStarAndBrackets) {
  const auto source = MakeDirectorySource(root_);
  EXPECT_EQ(source->Glob("dashboards/**/*.json"),
            (Paths{"dashboards/a.json", "dashboards/b.json", "dashboards/team/deep/y.json",
                   "dashboards/team/x.json"}));
  EXPECT_EQ(source->Glob("**/y.json"), (Paths{"dashboards/team/deep/y.json"}));
  EXPECT_EQ(source->Glob("alerts/[12].yaml"), (Paths{"alerts/1.yaml", "alerts/2.yaml"}));
  EXPECT_EQ(source->Glob("alerts/[!1].yaml"), (Paths{"alerts/2.yaml"}));
  EXPECT_EQ(source->Glob("alerts/[0-9][0-9].yaml"), (Paths{"alerts/10.yaml"}));
  EXPECT_EQ(source->Glob("dashboards/[a-b].json"),
            (Paths{"dashboards/a.json", "dashboards/b.json"}));
}

TEST_F(DirectorySourceTest, GlobNormalisesDotSegments) {
  const auto source = MakeDirectorySource(root_);
  EXPECT_EQ(source->Glob("./dashboards//a.json"), (Paths{"dashboards/a.json"}));
  EXPECT_EQ(source->Glob("dashboards/team/../*.json"),
            (Paths{"dashboards/a.json", "dashboards/b.json"}));
}

TEST_F(DirectorySourceTest, ReadAndEscapes) {
  const auto source = MakeDirectorySource(root_);
  EXPECT_EQ(source->Read("dashboards/a.json"), "dashboards/a.json");
  EXPECT_EQ(source->Read("missing.json"), std::nullopt);
  EXPECT_EQ(source->Read("dashboards"), std::nullopt);
  EXPECT_EQ(source->Read("../outside/secret.json"), std::nullopt);
  EXPECT_TRUE(source->Escapes("../outside/secret.json"));
  EXPECT_TRUE(source->Escapes("/etc/passwd"));
  EXPECT_TRUE(source->Escapes("a/../../x"));
  EXPECT_FALSE(source->Escapes("a/../dashboards/a.json"));
  EXPECT_FALSE(source->Escapes("not/yet/there.json"));
  EXPECT_TRUE(source->Glob("../outside/*.json").empty());
  EXPECT_EQ(source->Directory(), fs::canonical(root_));
}

// `obsforge import` reads the files a configuration names from anywhere: the root is "/".
TEST_F(DirectorySourceTest, TheFilesystemRootHoldsEveryAbsolutePath) {
  const auto source = MakeDirectorySource("/");
  const std::string rel = (fs::canonical(root_) / "dashboards").generic_string().substr(1);
  EXPECT_FALSE(source->Escapes(rel + "/a.json"));
  EXPECT_EQ(source->Read(rel + "/a.json"), "dashboards/a.json");
  EXPECT_EQ(source->Glob(rel + "/*.json"), (Paths{rel + "/a.json", rel + "/b.json"}));
  EXPECT_TRUE(source->Escapes("../etc/passwd"));
}

TEST_F(DirectorySourceTest, SymlinkOutOfTheRootIsRejected) {
  fs::create_directory_symlink(base_ / "outside", root_ / "linked");
  fs::create_symlink(base_ / "outside" / "secret.json", root_ / "dashboards" / "evil.json");
  fs::create_symlink(root_ / "dashboards" / "a.json", root_ / "dashboards" / "alias.json");
  const auto source = MakeDirectorySource(root_);
  EXPECT_TRUE(source->Escapes("linked/secret.json"));
  EXPECT_TRUE(source->Escapes("dashboards/evil.json"));
  EXPECT_EQ(source->Read("linked/secret.json"), std::nullopt);
  EXPECT_EQ(source->Read("dashboards/evil.json"), std::nullopt);
  // A symlink that stays inside the root is fine.
  EXPECT_FALSE(source->Escapes("dashboards/alias.json"));
  EXPECT_EQ(source->Read("dashboards/alias.json"), "dashboards/a.json");
  EXPECT_EQ(source->Glob("dashboards/*.json"),
            (Paths{"dashboards/a.json", "dashboards/alias.json", "dashboards/b.json"}));
  EXPECT_TRUE(source->Glob("linked/*.json").empty());
}

TEST(MemorySourceTest, ReadGlobEscapes) {
  const auto source = MakeMemorySource({{"dashboards/a.json", "A"},
                                        {"dashboards/team/b.json", "B"},
                                        {"alerts/r.yaml", "R"},
                                        {"../evil.json", "E"}});
  EXPECT_EQ(source->Read("dashboards/a.json"), "A");
  EXPECT_EQ(source->Read("./dashboards/a.json"), "A");
  EXPECT_EQ(source->Read("missing"), std::nullopt);
  EXPECT_EQ(source->Read("../evil.json"), std::nullopt);
  EXPECT_EQ(source->Glob("dashboards/*.json"), (Paths{"dashboards/a.json"}));
  EXPECT_EQ(source->Glob("dashboards/**/*.json"),
            (Paths{"dashboards/a.json", "dashboards/team/b.json"}));
  EXPECT_EQ(source->Glob("./alerts/*.yaml"), (Paths{"alerts/r.yaml"}));
  EXPECT_EQ(source->Glob("**/*.json"), (Paths{"dashboards/a.json", "dashboards/team/b.json"}));
  EXPECT_TRUE(source->Escapes("../evil.json"));
  EXPECT_TRUE(source->Escapes("/abs"));
  EXPECT_FALSE(source->Escapes("dashboards/a.json"));
  EXPECT_EQ(source->Directory(), std::nullopt);
}

TEST(MemorySourceTest, SpecValidatesAgainstPostedFiles) {
  const auto source = MakeMemorySource({{"dashboards/a.json", "{}"}});
  const std::string head = "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: x}\nspec:\n";
  EXPECT_NO_THROW(
      (void)ParseStack(head + "  dashboards: [{path: dashboards/*.json}]\n", "s.yaml", *source));
  EXPECT_THROW((void)ParseStack(head + "  dashboards: [{path: other/*.json}]\n", "s.yaml", *source),
               core::InputError);
}

}  // namespace
}  // namespace obsforge::spec
