#include "apply/process.h"

#include <csignal>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apply/runtime/runtime_test_util.h"
#include <sys/wait.h>

namespace obsforge::apply {
namespace {

using testing::Slurp;
using testing::TempDir;

TEST(RotatingLogTest, RotatesAtBoundKeepingOneOld) {
  TempDir dir;
  const auto path = dir.path() / "logs" / "x.log";
  RotatingLog log(path, 10);
  ASSERT_TRUE(log.Write("0123456").ok());
  ASSERT_TRUE(log.Write("789ab").ok());  // 12 bytes: 10 in the first file, rotated, 2 left
  EXPECT_EQ(Slurp(path.string() + ".1"), "0123456789");
  EXPECT_EQ(Slurp(path), "ab");
  ASSERT_TRUE(log.Write(std::string(25, 'z')).ok());
  EXPECT_EQ(Slurp(path), std::string(7, 'z'));
  EXPECT_EQ(Slurp(path.string() + ".1"), std::string(10, 'z'));
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".2"));
}

TEST(RotatingLogTest, AppendsToExistingFileCountingItsSize) {
  TempDir dir;
  const auto path = dir.path() / "x.log";
  testing::WriteFile(path, "12345678");
  RotatingLog log(path, 10);
  ASSERT_TRUE(log.Write("abc").ok());
  EXPECT_EQ(Slurp(path.string() + ".1"), "12345678ab");
  EXPECT_EQ(Slurp(path), "c");
}

TEST(SpawnProcessTest, OutputGoesToPipeAndGroupIsOwn) {
  auto spawned =
      SpawnProcess({.name = "t", .binary = "/bin/sh", .args = {"-c", "echo out; echo err >&2"}});
  ASSERT_TRUE(spawned.ok()) << spawned.error().message;
  int status = 0;
  ASSERT_EQ(::waitpid(spawned->pid, &status, 0), spawned->pid);
  EXPECT_EQ(DescribeWaitStatus(status), "exited with status 0");
  std::string output;
  char buf[256];
  ssize_t n = 0;
  while ((n = ::read(spawned->output_fd, buf, sizeof(buf))) > 0) {
    output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(spawned->output_fd);
  EXPECT_EQ(output, "out\nerr\n");
}

TEST(SpawnProcessTest, MissingBinaryReportsExecError) {
  auto spawned = SpawnProcess({.name = "t", .binary = "/nonexistent/bin"});
  ASSERT_FALSE(spawned.ok());
  EXPECT_EQ(spawned.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(spawned.error().message, "cannot execute /nonexistent/bin: No such file or directory");
}

TEST(SpawnProcessTest, MissingWorkingDirReported) {
  auto spawned =
      SpawnProcess({.name = "t", .binary = "/bin/true", .working_dir = "/nonexistent/d"});
  ASSERT_FALSE(spawned.ok());
  EXPECT_EQ(spawned.error().message, "cannot enter /nonexistent/d: No such file or directory");
}

TEST(SpawnProcessTest, EnvironmentOverrides) {
  auto spawned = SpawnProcess({.name = "t",
                               .binary = "/bin/sh",
                               .args = {"-c", "echo $OBS_TEST_VAR"},
                               .env = {{"OBS_TEST_VAR", "hello"}}});
  ASSERT_TRUE(spawned.ok());
  int status = 0;
  ::waitpid(spawned->pid, &status, 0);
  std::string output;
  char buf[64];
  ssize_t n = 0;
  while ((n = ::read(spawned->output_fd, buf, sizeof(buf))) > 0) {
    output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(spawned->output_fd);
  EXPECT_EQ(output, "hello\n");
}

TEST(DescribeWaitStatusTest, Signals) {
  EXPECT_EQ(DescribeWaitStatus(SIGKILL), "killed by signal 9 (Killed)");
  EXPECT_EQ(DescribeWaitStatus(3 << 8), "exited with status 3");
}

}  // namespace
}  // namespace obsforge::apply
