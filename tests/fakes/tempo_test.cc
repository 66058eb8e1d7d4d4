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

http::Headers JsonType() {
  return {{"Content-Type", "application/json"}};
}

TEST(TempoTest, ReadyEchoAndStatusVersionAsTempo22) {
  FakeTempo tempo;
  tempo.SetReady(false);
  auto starting = Call(tempo.port(), "GET", "/ready");
  EXPECT_EQ(starting.status, 503);
  EXPECT_EQ(starting.body, "Ingester not ready: waiting for 15s after being ready\n");
  tempo.SetReady(std::nullopt);
  auto ready = Call(tempo.port(), "GET", "/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
  EXPECT_EQ(Call(tempo.port(), "GET", "/api/echo").body, "echo\n");
  const auto version = Call(tempo.port(), "GET", "/status/version");
  EXPECT_EQ(version.status, 200);
  EXPECT_NE(version.body.find("GET /status/version\ntempo, version 2.2.4 "), std::string::npos);
  EXPECT_NE(Call(tempo.port(), "GET", "/metrics").body.find("version=\"2.2.4\"} 1\n"),
            std::string::npos);
  // 2.2 has neither the buildinfo endpoint (2.3) nor the v2 trace API (2.6).
  EXPECT_EQ(Call(tempo.port(), "GET", "/api/status/buildinfo").status, 404);
  EXPECT_EQ(Call(tempo.port(), "GET", "/api/v2/traces/ab").status, 404);
}

TEST(TempoTest, NewerVersionsHaveBuildinfoAndTheV2TraceApi) {
  FakeTempo tempo23(TempoOptions{.version = "2.3.1"});
  EXPECT_EQ(Call(tempo23.port(), "GET", "/api/status/buildinfo").Json()["version"], "2.3.1");
  EXPECT_EQ(Call(tempo23.port(), "GET", "/api/v2/traces/ab").status, 404);
  FakeTempo tempo26(TempoOptions{.version = "2.6.0"});
  EXPECT_EQ(Call(tempo26.port(), "GET", "/api/v2/traces/ab").status, 404);  // not found, routed
  EXPECT_EQ(Call(tempo26.port(), "GET", "/api/v2/traces/ab").body, "trace not found");
}

TEST(TempoTest, OtlpIsTakenOnlyOnTheReceiverPort) {
  FakeTempo tempo;
  ASSERT_NE(tempo.otlp_port(), tempo.port());
  const std::string id = "5b8efff798038103d269b633813fc60c";
  auto api = Call(tempo.port(), "POST", "/v1/traces", Otlp(id, "x").dump(), JsonType());
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.body, "404 page not found\n");
  auto receiver = Call(tempo.otlp_port(), "POST", "/v1/traces", Otlp(id, "x").dump(), JsonType());
  EXPECT_EQ(receiver.status, 200);
  EXPECT_EQ(receiver.Json(), json::parse(R"({"partialSuccess":{}})"));
  EXPECT_EQ(tempo.TraceIds(), std::vector<std::string>{id});

  FakeTempo grpc_only(TempoOptions{.otlp_http = false});
  EXPECT_EQ(grpc_only.otlp_url(), "");
}

TEST(TempoTest, TracesComeBackAsProtobufJsonWithBase64Ids) {
  FakeTempo tempo;
  const std::string id = "0AF7651916CD43DD8448EB211C80319C";
  ASSERT_EQ(
      Call(tempo.otlp_port(), "POST", "/v1/traces", Otlp(id, "probe").dump(), JsonType()).status,
      200);
  EXPECT_EQ(tempo.SpanCount(id), 1);
  auto v1 = Call(tempo.port(), "GET", "/api/traces/0af7651916cd43dd8448eb211c80319c");
  ASSERT_EQ(v1.status, 200);
  const auto span = v1.Json()["batches"][0]["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(span["name"], "probe");
  EXPECT_EQ(span["traceId"], "CvdlGRbNQ92ESOshHIAxnA==");
  EXPECT_EQ(span["spanId"], "AQIDBAUGBwg=");
  EXPECT_EQ(span["kind"], "SPAN_KIND_INTERNAL");
  EXPECT_EQ(span["startTimeUnixNano"], "1700000000000000000");
  // A shorter id is left-padded, as Tempo does.
  EXPECT_EQ(Call(tempo.port(), "GET", "/api/traces/af7651916cd43dd8448eb211c80319c").status, 200);
  auto missing = Call(tempo.port(), "GET", "/api/traces/0000000000000000000000000000abcd");
  EXPECT_EQ(missing.status, 404);
  auto bad = Call(tempo.port(), "GET", "/api/traces/12x4");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body,
            "trace IDs can only contain hex characters: invalid character 'x' at position 3");
  EXPECT_EQ(Call(tempo.port(), "GET", "/api/traces/" + std::string(33, 'a')).body,
            "trace IDs can't be larger than 128 bits");
  auto search = Call(tempo.port(), "GET", "/api/search");
  ASSERT_EQ(search.Json()["traces"].size(), 1U);
  EXPECT_EQ(search.Json()["traces"][0]["rootServiceName"], "canary");
  EXPECT_EQ(search.Json()["traces"][0]["durationMs"], 50);
}

TEST(TempoTest, OtlpIngestIsAsStrictAsTheCollectorReceiver) {
  FakeTempo tempo;
  const std::string body = Otlp("0af7651916cd43dd8448eb211c80319c", "x").dump();
  auto charset = Call(tempo.otlp_port(), "POST", "/v1/traces", body,
                      {{"Content-Type", "application/json; charset=utf-8"}});
  EXPECT_EQ(charset.status, 415);
  EXPECT_EQ(charset.body,
            "415 unsupported media type, supported: [application/json, application/x-protobuf]");
  EXPECT_EQ(Call(tempo.otlp_port(), "GET", "/v1/traces").status, 405);
  EXPECT_EQ(Call(tempo.otlp_port(), "POST", "/v1/logs", "{}", JsonType()).status, 404);
  auto short_id = Call(tempo.otlp_port(), "POST", "/v1/traces", Otlp("ab", "x").dump(), JsonType());
  EXPECT_EQ(short_id.status, 400);
  EXPECT_EQ(short_id.Json()["message"], "invalid length for ID");
  // The legacy key is not read: the spans are dropped without an error.
  json legacy = json::parse(body);
  legacy["resourceSpans"][0]["instrumentationLibrarySpans"] =
      legacy["resourceSpans"][0]["scopeSpans"];
  legacy["resourceSpans"][0].erase("scopeSpans");
  EXPECT_EQ(Call(tempo.otlp_port(), "POST", "/v1/traces", legacy.dump(), JsonType()).status, 200);
  EXPECT_TRUE(tempo.TraceIds().empty());
}

TEST(TempoTest, MetricsCountWhatTheDistributorReceivesAndRefuses) {
  FakeTempo tempo;
  // Counter vectors have no sample before their first label set.
  EXPECT_EQ(Call(tempo.port(), "GET", "/metrics").body.find("spans_received"), std::string::npos);
  const std::string body = Otlp("0af7651916cd43dd8448eb211c80319c", "x").dump();
  ASSERT_EQ(Call(tempo.otlp_port(), "POST", "/v1/traces", body, JsonType()).status, 200);
  EXPECT_NE(Call(tempo.port(), "GET", "/metrics")
                .body.find("tempo_distributor_spans_received_total{tenant=\"single-tenant\"} 1\n"),
            std::string::npos);
  tempo.SetIngesterFailing(true);
  EXPECT_EQ(Call(tempo.otlp_port(), "POST", "/v1/traces", body, JsonType()).status, 500);
  const auto metrics = Call(tempo.port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("tempo_receiver_refused_spans{receiver=\"otlp/otlp_receiver\","
                         "transport=\"http\"} 1\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("tempo_distributor_ingester_append_failures_total"), std::string::npos);
}

TEST(OtelcolTest, HealthCheckAndOtlpReceiver) {
  FakeOtelcol otelcol(OtelcolOptions{.otlp_http_port = 0});
  auto health = Call(otelcol.port(), "GET", "/");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.Json()["status"], "Server available");
  EXPECT_TRUE(health.Json().contains("uptime"));
  // The extension's mux has the one pattern "/": every path and method answers with health.
  EXPECT_EQ(Call(otelcol.port(), "POST", "/anything/else").status, 200);
  otelcol.SetHealthy(false);
  auto down = Call(otelcol.port(), "GET", "/");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.Json(), json::parse(R"({"status":"Server not available",
      "upSince":"0001-01-01T00:00:00Z","uptime":""})"));
  auto logs =
      Call(otelcol.otlp_port(), "POST", "/v1/logs", "{}", {{"Content-Type", "application/json"}});
  EXPECT_EQ(logs.status, 200);
  EXPECT_EQ(logs.Json(), json::parse(R"({"partialSuccess":{}})"));
  EXPECT_EQ(otelcol.Received("/v1/logs"), 1);
}

TEST(OtelcolTest, AHealthPathOtherThanTheRootIsTheOnlyOne) {
  FakeOtelcol otelcol(OtelcolOptions{.health_path = "/health/status"});
  EXPECT_EQ(Call(otelcol.port(), "GET", "/health/status").status, 200);
  EXPECT_EQ(Call(otelcol.port(), "GET", "/").body, "404 page not found\n");
}

}  // namespace
}  // namespace obsforge::fakes
