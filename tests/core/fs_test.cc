#include "core/fs.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace obsforge::core {
namespace {

class FsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("obs-fs-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(FsTest, WritesAndReplacesWithoutLeavingTemporaries) {
  const auto path = dir_ / "sub" / "file.txt";
  WriteFileAtomic(path, "one");
  WriteFileAtomic(path, "two");
  EXPECT_EQ(ReadFile(path), "two");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_ / "sub")) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST_F(FsTest, SetsTheExactMode) {
  const auto path = dir_ / "secret";
  WriteFileAtomic(path, "s3cr3t", 0600);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);
}

TEST_F(FsTest, ReadingAMissingFileNamesIt) {
  try {
    (void)ReadFile(dir_ / "missing.yaml");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.yaml"), std::string::npos);
  }
}

}  // namespace
}  // namespace obsforge::core
