#include <thread>

#include <gtest/gtest.h>

#include "fakes/fake_otelcol.h"
#include "fakes/fake_tempo.h"
#include "fakes/test_client.h"

namespace obsforge::fakes {
namespace {

using nlohmann::json;
using testing::Call;

json Otlp(const std::string& trace_id, const std::string& name) {
  return {
      {"resourceSpans",
       {{{"resource",
          {{"attributes", {{{"key", "service.name"}, {"value", {{"stringValue", "canary"}}}}}}}},
         {"scopeSpans",
          {{{"scope", {{"name", "obsforge"}}},
            {"spans",
             {{{"traceId", trace_id},
               {"spanId", "0102030405060708"},
               {"name", name},
               {"kind", 1},
               {"startTimeUnixNano", "1700000000000000000"},
               {"endTimeUnixNano", "1700000000050000000"}}}}}}}}}}};
}

TEST(TempoTest, ReadyEchoAndBuildinfo) {
  FakeTempo tempo(TempoOptions{.startup = std::chrono::milliseconds(200)});
  EXPECT_EQ(Call(tempo.port(), "GET", "/ready").status, 503);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  auto ready = Call(tempo.port(), "GET", "/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready");
  auto echo = Call(tempo.port(), "GET", "/api/echo");
  EXPECT_EQ(echo.status, 200);
  EXPECT_EQ(echo.body, "echo");
  EXPECT_EQ(Call(tempo.port(), "GET", "/api/status/buildinfo").Json()["version"], "2.6.0");
}

TEST(TempoTest, OtlpPushThenTraceById) {
  FakeTempo tempo;
  const std::string id = "5B8EFFF798038103D269B633813FC60C";
  auto pushed = Call(tempo.otlp_port(), "POST", "/v1/traces", Otlp(id, "probe").dump(),
                     {{"Content-Type", "application/json"}});
  ASSERT_EQ(pushed.status, 200) << pushed.body;
  EXPECT_EQ(tempo.SpanCount(id), 1);
  auto v1 = Call(tempo.port(), "GET", "/api/traces/5b8efff798038103d269b633813fc60c");
  ASSERT_EQ(v1.status, 200);
  EXPECT_EQ(v1.Json()["batches"][0]["scopeSpans"][0]["spans"][0]["name"], "probe");
  auto v2 = Call(tempo.port(), "GET", "/api/v2/traces/" + id);
  EXPECT_EQ(v2.Json()["trace"]["resourceSpans"][0]["resource"]["attributes"][0]["key"],
            "service.name");
  auto missing = Call(tempo.port(), "GET", "/api/traces/0000000000000000000000000000abcd");
  EXPECT_EQ(missing.status, 404);
  auto search = Call(tempo.port(), "GET", "/api/search");
  ASSERT_EQ(search.Json()["traces"].size(), 1U);
  EXPECT_EQ(search.Json()["traces"][0]["rootServiceName"], "canary");
  EXPECT_EQ(search.Json()["traces"][0]["durationMs"], 50);
  EXPECT_EQ(
      Call(tempo.port(), "POST", "/v1/traces", "x", {{"Content-Type", "application/x-protobuf"}})
          .status,
      415);
}

TEST(TempoTest, SeparateOtlpPort) {
  FakeTempo tempo(TempoOptions{.separate_otlp = true});
  EXPECT_NE(tempo.otlp_port(), tempo.port());
  EXPECT_EQ(Call(tempo.port(), "POST", "/v1/traces", Otlp("ab", "x").dump(),
                 {{"Content-Type", "application/json"}})
                .status,
            404);
  EXPECT_EQ(Call(tempo.otlp_port(), "POST", "/v1/traces", Otlp("ab", "x").dump(),
                 {{"Content-Type", "application/json"}})
                .status,
            200);
  EXPECT_EQ(tempo.TraceIds(), std::vector<std::string>{std::string(30, '0') + "ab"});
}

TEST(OtelcolTest, HealthCheckAndOtlpReceiver) {
  FakeOtelcol otelcol(OtelcolOptions{.otlp_http_port = 0});
  auto health = Call(otelcol.port(), "GET", "/");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.Json()["status"], "Server available");
  otelcol.SetHealthy(false);
  EXPECT_EQ(Call(otelcol.port(), "GET", "/").status, 503);
  EXPECT_EQ(
      Call(otelcol.otlp_port(), "POST", "/v1/logs", "{}", {{"Content-Type", "application/json"}})
          .status,
      200);
  EXPECT_EQ(otelcol.Received("/v1/logs"), 1);
}

}  // namespace
}  // namespace obsforge::fakes
