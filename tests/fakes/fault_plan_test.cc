#include "fakes/fault_plan.h"

#include <chrono>

#include <gtest/gtest.h>

#include "fakes/fake_server.h"
#include "fakes/test_client.h"

namespace obsforge::fakes {
namespace {

using testing::Call;

TEST(FaultPlanTest, TakesQueuedFaultsInOrderAndHonoursPathPrefix) {
  FaultPlan plan;
  plan.FailNext(1, 500, "boom", "/api/");
  plan.RateLimitNext(1, 7);
  EXPECT_EQ(plan.pending(), 2);
  auto first = plan.Take("/ready");  // Skips the /api/-only fault.
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 429);
  EXPECT_EQ(first->headers.at(1).second, "7");
  EXPECT_FALSE(plan.Take("/ready").has_value());
  auto second = plan.Take("/api/x");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status, 500);
  EXPECT_EQ(second->body, "boom");
  EXPECT_EQ(plan.delivered(), 2);
  EXPECT_EQ(plan.pending(), 0);
}

class ServerFaultTest : public ::testing::Test {
 protected:
  ServerFaultTest() {
    server_.Route("GET", "/thing/{id}",
                  [](FakeRequest& r) { return FakeResponse::Text(200, "thing " + r.Param("id")); });
    server_.Route("POST", "/thing/{id}",
                  [](FakeRequest& r) { return FakeResponse::Text(201, r.body); });
    server_.Start();
  }
  FakeServer server_;
};

TEST_F(ServerFaultTest, RoutesWithParamsAndAnswers404Otherwise) {
  EXPECT_EQ(Call(server_.port(), "GET", "/thing/42").body, "thing 42");
  const auto missing = Call(server_.port(), "GET", "/other");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, "404 page not found\n");
  EXPECT_EQ(server_.url(), "http://127.0.0.1:" + std::to_string(server_.port()));
}

TEST_F(ServerFaultTest, BurstOf5xxThenRecovers) {
  server_.faults().FailNext(2, 503, "unavailable");
  for (int i = 0; i < 2; ++i) {
    const auto reply = Call(server_.port(), "GET", "/thing/1");
    EXPECT_EQ(reply.status, 503);
    EXPECT_EQ(reply.body, "unavailable");
  }
  EXPECT_EQ(Call(server_.port(), "GET", "/thing/1").status, 200);
  EXPECT_EQ(server_.faults().delivered(), 2);
}

TEST_F(ServerFaultTest, RateLimitCarriesRetryAfter) {
  server_.faults().RateLimitNext(1, 3);
  const auto reply = Call(server_.port(), "GET", "/thing/1");
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(reply.Header("Retry-After"), "3");
}

TEST_F(ServerFaultTest, LatencyDelaysEveryAnswer) {
  server_.faults().SetLatency(std::chrono::milliseconds(150));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Call(server_.port(), "GET", "/thing/1").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
  server_.faults().Clear();
}

TEST_F(ServerFaultTest, ResetClosesTheConnectionWithoutAResponse) {
  server_.faults().ResetNext(1);
  EXPECT_THROW(Call(server_.port(), "GET", "/thing/1"), Poco::Exception);
  EXPECT_EQ(Call(server_.port(), "GET", "/thing/1").status, 200);
}

TEST_F(ServerFaultTest, CountsWritesPerRouteTemplateButNotReadsOrFaults) {
  server_.faults().FailNext(1);
  Call(server_.port(), "POST", "/thing/1", "x");
  Call(server_.port(), "POST", "/thing/1", "x");
  Call(server_.port(), "POST", "/thing/2", "x");
  Call(server_.port(), "GET", "/thing/2");
  EXPECT_EQ(server_.Writes("POST /thing/{id}"), 2);
  EXPECT_EQ(server_.TotalWrites(), 2);
  EXPECT_EQ(server_.TotalRequests(), 3);
  server_.ResetCounters();
  EXPECT_EQ(server_.TotalWrites(), 0);
  EXPECT_TRUE(server_.WriteCounts().empty());
}

}  // namespace
}  // namespace obsforge::fakes
