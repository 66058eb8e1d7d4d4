#include "support/fake_http_client.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/meeting.h"

namespace obsforge::testing {
namespace {

const std::string kHealth = "http://grafana:3000/api/health";

TEST(FakeHttpClient, UnscriptedRequestIsAnInternalErrorAndIsRecorded) {
  FakeHttpClient fake;

  auto result = fake.Send({.method = "DELETE", .url = kHealth});

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kInternal);
  EXPECT_EQ(result.error().message,
            "FakeHttpClient: nothing scripted for DELETE http://grafana:3000/api/health");
  ASSERT_EQ(fake.requests().size(), 1U);
  EXPECT_EQ(fake.requests()[0].method, "DELETE");
}

TEST(FakeHttpClient, QueuedOutcomesComeInOrderBeforeTheHandler) {
  FakeHttpClient fake;
  fake.On("GET", kHealth, [](const http::Request&) { return FakeHttpClient::Reply(200, "h"); });
  fake.Enqueue("GET", kHealth, FakeHttpClient::Json(503, R"({"database":"failing"})"));
  fake.Enqueue("GET", kHealth, FakeHttpClient::Unavailable("GET", kHealth));

  auto first = fake.Send({.url = kHealth});
  auto second = fake.Send({.url = kHealth});
  auto third = fake.Send({.url = kHealth});

  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 503);
  EXPECT_EQ(first->Header("content-type"), "application/json");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(second.error().message,
            "GET http://grafana:3000/api/health: Couldn't connect to server");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->body, "h");
  EXPECT_TRUE(fake.AllQueuedUsed());
}

TEST(FakeHttpClient, MatchesMethodExactlyThenWithoutQueryThenWildcard) {
  FakeHttpClient fake;
  fake.On("GET", "http://h/api/search?type=dash-db",
          [](const http::Request&) { return FakeHttpClient::Reply(200, "exact"); });
  fake.On("GET", "http://h/api/search",
          [](const http::Request&) { return FakeHttpClient::Reply(200, "any query"); });
  fake.On("*", "http://h/api/search",
          [](const http::Request& r) { return FakeHttpClient::Reply(200, "any " + r.method); });

  EXPECT_EQ(fake.Send({.url = "http://h/api/search?type=dash-db"})->body, "exact");
  EXPECT_EQ(fake.Send({.url = "http://h/api/search?query=x"})->body, "any query");
  EXPECT_EQ(fake.Send({.method = "POST", .url = "http://h/api/search?q"})->body, "any POST");
  EXPECT_FALSE(fake.Send({.url = "http://h/api/searchx"}).ok());
}

TEST(FakeHttpClient, HandlerSeesTheRequestAndUnmatchedHandlerCatchesTheRest) {
  FakeHttpClient fake;
  fake.On("POST", "http://h/echo", [](const http::Request& r) {
    return FakeHttpClient::Reply(200, r.body + "|" + r.headers.at(0).second);
  });
  fake.OnUnmatched([](const http::Request&) { return FakeHttpClient::Reply(404, "nope"); });

  EXPECT_EQ(fake.Send({.method = "POST",
                       .url = "http://h/echo",
                       .headers = {{"Authorization", "Bearer t"}},
                       .body = "b"})
                ->body,
            "b|Bearer t");
  EXPECT_EQ(fake.Send({.url = "http://h/other"})->status, 404);
  EXPECT_EQ(fake.CountRequests("POST", "http://h/echo"), 1U);
  EXPECT_EQ(fake.CountRequests("GET", "http://h/other"), 1U);
  EXPECT_EQ(fake.CountWrites(), 1U);
  fake.ClearRequests();
  EXPECT_TRUE(fake.requests().empty());
}

TEST(FakeHttpClient, IsThreadSafeAndHandlersMayBlockConcurrently) {
  FakeHttpClient fake;
  std::atomic<int> inside{0};
  std::atomic<int> peak{0};
  obsforge::testing::Meeting meeting(2);
  fake.On("GET", "http://h/x", [&](const http::Request&) {
    const int now = ++inside;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    // Stay until a second handler is in at once: only possible when the lock is not held while a
    // handler runs. The bound only ends a failing test.
    (void)meeting.Arrive(std::chrono::seconds(10));
    --inside;
    return FakeHttpClient::Reply(200);
  });

  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        static_cast<void>(fake.Send({.url = "http://h/x"}));
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }

  EXPECT_EQ(fake.CountRequests("GET", "http://h/x"), 20U);
  EXPECT_GT(peak, 1);  // the lock is not held while a handler runs
}

}  // namespace
}  // namespace obsforge::testing
