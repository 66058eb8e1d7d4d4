#include "apply/local_commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace obsforge::apply {
namespace {

using ::testing::ElementsAre;

PortMap Ports() {
  return {{"prometheus", 19090}, {"alertmanager", 19093}, {"loki", 13100},
          {"tempo", 13200},      {"grafana", 13000},      {"otel_collector_health", 23133}};
}

TEST(LayoutTest, DirectoriesUnderEnvRoot) {
  auto layout = LayoutFor("/d/stacks/s/dev", "otel_collector");
  EXPECT_EQ(layout.component_dir, "/d/stacks/s/dev/otel_collector");
  EXPECT_EQ(layout.data_dir, "/d/stacks/s/dev/otel_collector/data");
  EXPECT_EQ(layout.log_file, "/d/stacks/s/dev/otel_collector/logs/otel_collector.log");
  EXPECT_EQ(layout.config_dir, "/d/stacks/s/dev/current/otel-collector");
}

TEST(ComponentArgsTest, Prometheus) {
  auto layout = LayoutFor("/e", "prometheus");
  EXPECT_THAT(
      ComponentArgs("prometheus", layout, Ports(), {.metrics_retention = "2d"}),
      ElementsAre("--config.file=/e/current/prometheus/prometheus.yml",
                  "--storage.tsdb.path=/e/prometheus/data", "--web.listen-address=127.0.0.1:19090",
                  "--web.enable-lifecycle", "--storage.tsdb.retention.time=2d"));
}

TEST(ComponentArgsTest, Alertmanager) {
  auto layout = LayoutFor("/e", "alertmanager");
  EXPECT_THAT(ComponentArgs("alertmanager", layout, Ports(), {}),
              ElementsAre("--config.file=/e/current/alertmanager/alertmanager.yml",
                          "--storage.path=/e/alertmanager/data",
                          "--web.listen-address=127.0.0.1:19093", "--cluster.listen-address="));
}

TEST(ComponentArgsTest, RestartedComponents) {
  EXPECT_THAT(ComponentArgs("loki", LayoutFor("/e", "loki"), Ports(), {}),
              ElementsAre("-config.file=/e/current/loki/loki.yaml"));
  EXPECT_THAT(ComponentArgs("tempo", LayoutFor("/e", "tempo"), Ports(), {}),
              ElementsAre("-config.file=/e/current/tempo/tempo.yaml"));
  EXPECT_THAT(ComponentArgs("otel_collector", LayoutFor("/e", "otel_collector"), Ports(), {}),
              ElementsAre("--config=/e/current/otel-collector/config.yaml"));
  EXPECT_THAT(
      ComponentArgs("grafana", LayoutFor("/e", "grafana"), Ports(), {.binary_name = "grafana"}),
      ElementsAre("server", "--homepath", "/usr/share/grafana", "--config",
                  "/e/current/grafana/grafana.ini"));
  EXPECT_THAT(ComponentArgs("grafana", LayoutFor("/e", "grafana"), Ports(),
                            {.binary_name = "grafana-server"}),
              ElementsAre("--homepath", "/usr/share/grafana", "--config",
                          "/e/current/grafana/grafana.ini"));
  EXPECT_TRUE(ComponentArgs("nginx", LayoutFor("/e", "nginx"), Ports(), {}).empty());
}

TEST(ReadyUrlTest, PerComponent) {
  EXPECT_EQ(ReadyUrl("prometheus", Ports()), "http://127.0.0.1:19090/-/ready");
  EXPECT_EQ(ReadyUrl("alertmanager", Ports()), "http://127.0.0.1:19093/-/ready");
  EXPECT_EQ(ReadyUrl("loki", Ports()), "http://127.0.0.1:13100/ready");
  EXPECT_EQ(ReadyUrl("tempo", Ports()), "http://127.0.0.1:13200/ready");
  EXPECT_EQ(ReadyUrl("grafana", Ports()), "http://127.0.0.1:13000/api/health");
  EXPECT_EQ(ReadyUrl("otel_collector", Ports()), "http://127.0.0.1:23133/");
  EXPECT_EQ(ReadyUrl("nginx", Ports()), "");
}

TEST(StopTimeoutTest, TempoOutlastsItsThirtySecondShutdownSleep) {
  EXPECT_EQ(StopTimeout("tempo", std::chrono::seconds(10)), std::chrono::seconds(35));
  EXPECT_EQ(StopTimeout("tempo", std::chrono::seconds(60)), std::chrono::seconds(60));
  EXPECT_EQ(StopTimeout("loki", std::chrono::seconds(10)), std::chrono::seconds(10));
}

TEST(TempoReceiversTest, TheTemplatesDefaultUnlessTheSpecLists) {
  EXPECT_THAT(TempoReceivers(nlohmann::json::object()), ElementsAre("otlp_grpc", "otlp_http"));
  EXPECT_THAT(TempoReceivers({{"receivers", nlohmann::json::array({"zipkin"})}}),
              ElementsAre("zipkin"));
}

}  // namespace
}  // namespace obsforge::apply
