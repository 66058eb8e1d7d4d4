#include "apply/binaries.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apply/runtime/runtime_test_util.h"

namespace obsforge::apply {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST(BinaryCandidatesTest, DebianNamesFirst) {
  EXPECT_THAT(BinaryCandidates("prometheus"), ::testing::ElementsAre("prometheus"));
  EXPECT_THAT(BinaryCandidates("alertmanager"),
              ::testing::ElementsAre("prometheus-alertmanager", "alertmanager"));
  EXPECT_THAT(BinaryCandidates("loki"), ::testing::ElementsAre("loki"));
  EXPECT_THAT(BinaryCandidates("tempo"), ::testing::ElementsAre("tempo"));
  EXPECT_THAT(BinaryCandidates("grafana"), ::testing::ElementsAre("grafana", "grafana-server"));
  EXPECT_THAT(BinaryCandidates("otel_collector"),
              ::testing::ElementsAre("otelcol-contrib", "otelcol"));
  EXPECT_TRUE(BinaryCandidates("nginx").empty());
}

TEST(FindBinaryTest, PreferenceBeatsPathOrder) {
  TempDir dir;
  WriteFile(dir.path() / "a" / "otelcol", "#!/bin/sh\n", 0755);
  WriteFile(dir.path() / "b" / "otelcol-contrib", "#!/bin/sh\n", 0755);
  const std::string path = (dir.path() / "a").string() + ":" + (dir.path() / "b").string();
  auto found = FindBinary({"otelcol-contrib", "otelcol"}, path);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, dir.path() / "b" / "otelcol-contrib");
}

TEST(FindBinaryTest, SkipsNonExecutablesAndDirectories) {
  TempDir dir;
  WriteFile(dir.path() / "a" / "loki", "not executable\n", 0644);
  std::filesystem::create_directories(dir.path() / "b" / "loki");
  WriteFile(dir.path() / "c" / "loki", "#!/bin/sh\n", 0755);
  const std::string path = (dir.path() / "a").string() + ":" + (dir.path() / "b").string() + ":" +
                           (dir.path() / "c").string();
  auto found = FindBinary({"loki"}, path);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, dir.path() / "c" / "loki");
  EXPECT_FALSE(FindBinary({"loki"}, (dir.path() / "a").string()).has_value());
  EXPECT_FALSE(FindBinary({"loki"}, "").has_value());
}

TEST(ResolveComponentBinaryTest, FindsDebianAlertmanager) {
  TempDir dir;
  WriteFile(dir.path() / "prometheus-alertmanager", "#!/bin/sh\n", 0755);
  auto found = ResolveComponentBinary("alertmanager", dir.path().string());
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->name, "prometheus-alertmanager");
  EXPECT_EQ(found->path, dir.path() / "prometheus-alertmanager");
}

TEST(ResolveComponentBinaryTest, MissingIsUnavailableNamingTheBinary) {
  TempDir dir;
  auto loki = ResolveComponentBinary("loki", dir.path().string());
  ASSERT_FALSE(loki.ok());
  EXPECT_EQ(loki.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(loki.error().message, "loki not found on PATH");
  auto grafana = ResolveComponentBinary("grafana", dir.path().string());
  ASSERT_FALSE(grafana.ok());
  EXPECT_EQ(grafana.error().message, "grafana or grafana-server not found on PATH");
  auto unknown = ResolveComponentBinary("nginx", dir.path().string());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, core::ErrorCode::kInternal);
}

}  // namespace
}  // namespace obsforge::apply
