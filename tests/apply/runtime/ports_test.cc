#include "apply/ports.h"

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "apply/runtime/runtime_test_util.h"

namespace obsforge::apply {
namespace {

using testing::Slurp;
using testing::TempDir;
using testing::WriteFile;

TEST(PortsTest, AllocatesEveryNameDistinctAndPersists) {
  TempDir dir;
  auto ports = LoadOrAllocatePorts(dir.path(), {});
  ASSERT_TRUE(ports.ok()) << ports.error().message;
  std::set<int> distinct;
  for (const auto& name : PortNames()) {
    ASSERT_TRUE(ports->contains(name)) << name;
    EXPECT_GT(ports->at(name), 0);
    distinct.insert(ports->at(name));
  }
  EXPECT_EQ(distinct.size(), PortNames().size());
  auto persisted = nlohmann::json::parse(Slurp(dir.path() / "ports.json"));
  for (const auto& name : PortNames()) {
    EXPECT_EQ(persisted.at(name).get<int>(), ports->at(name)) << name;
  }
}

TEST(PortsTest, StableAcrossLoads) {
  TempDir dir;
  auto first = LoadOrAllocatePorts(dir.path(), {});
  auto second = LoadOrAllocatePorts(dir.path(), {});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
}

TEST(PortsTest, FixedPortWinsAndIsNotPersisted) {
  TempDir dir;
  auto first = LoadOrAllocatePorts(dir.path(), {});
  ASSERT_TRUE(first.ok());
  auto fixed = LoadOrAllocatePorts(dir.path(), {{"prometheus", 19090}});
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->at("prometheus"), 19090);
  EXPECT_EQ(fixed->at("loki"), first->at("loki"));
  // Without the fixed port the persisted one comes back.
  auto again = LoadOrAllocatePorts(dir.path(), {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->at("prometheus"), first->at("prometheus"));
}

TEST(PortsTest, PersistedPortCollidingWithFixedIsReplaced) {
  TempDir dir;
  WriteFile(dir.path() / "ports.json", R"({"loki": 23100, "tempo": 23200})");
  auto ports = LoadOrAllocatePorts(dir.path(), {{"grafana", 23100}});
  ASSERT_TRUE(ports.ok()) << ports.error().message;
  EXPECT_EQ(ports->at("grafana"), 23100);
  EXPECT_EQ(ports->at("tempo"), 23200);
  EXPECT_NE(ports->at("loki"), 23100);
}

TEST(PortsTest, FixedPortsFromRuntime) {
  spec::Runtime runtime;
  runtime.components["prometheus"].port = 9999;
  runtime.components["otel_collector"].port = 13000;
  runtime.components["loki"].url = "http://x";  // no port
  EXPECT_EQ(FixedPorts(runtime), (PortMap{{"otel_collector_health", 13000}, {"prometheus", 9999}}));
}

TEST(PortsTest, CorruptFileIsAnError) {
  TempDir dir;
  WriteFile(dir.path() / "ports.json", "[1, 2]");
  auto ports = LoadOrAllocatePorts(dir.path(), {});
  ASSERT_FALSE(ports.ok());
  EXPECT_EQ(ports.error().code, core::ErrorCode::kInternal);
  EXPECT_EQ(ports.error().message, (dir.path() / "ports.json").string() + ": not a JSON object");
}

}  // namespace
}  // namespace obsforge::apply
