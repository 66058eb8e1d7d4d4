#include "http/retrying_http_client.h"

#include <atomic>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "support/fake_http_client.h"

namespace obsforge::http {
namespace {

using obsforge::testing::FakeClock;
using obsforge::testing::FakeHttpClient;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr char kUrl[] = "http://grafana:3000/api/dashboards/db";

class RetryingHttpClientTest : public ::testing::Test {
 protected:
  std::chrono::milliseconds Slept() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Monotonic() - start_);
  }
  size_t Sends() const { return fake_.CountRequests("POST", kUrl); }

  FakeHttpClient fake_;
  FakeClock clock_;
  std::chrono::steady_clock::time_point start_ = clock_.Monotonic();
  Request request_{.method = "POST", .url = kUrl, .body = "{}"};
};

TEST_F(RetryingHttpClientTest, RetriesA5xxBurstThenSucceeds) {
  fake_.Enqueue("POST", kUrl, FakeHttpClient::Reply(503, "down"));
  fake_.Enqueue("POST", kUrl, FakeHttpClient::Reply(500, "oops"));
  fake_.Enqueue("POST", kUrl, FakeHttpClient::Unavailable("POST", kUrl));
  fake_.Enqueue("POST", kUrl, FakeHttpClient::Reply(200, "saved"));
  RetryingHttpClient client(fake_, clock_, {.seed = 1});

  auto result = client.Send(request_);

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "saved");
  EXPECT_EQ(result->attempts, 4);
  EXPECT_EQ(Sends(), 4U);
  // Full jitter: each wait is at most 200, 400, 800 ms.
  EXPECT_LE(Slept(), 1400ms);
  EXPECT_EQ(fake_.requests()[3].body, "{}");
}

TEST_F(RetryingHttpClientTest, HonoursRetryAfterSecondsOn429) {
  fake_.Enqueue("POST", kUrl, FakeHttpClient::Reply(429, "slow down", {{"Retry-After", "2"}}));
  fake_.Enqueue("POST", kUrl, FakeHttpClient::Reply(200, "ok"));
  RetryingHttpClient client(fake_, clock_, {.seed = 1});

  auto result = client.Send(request_);

  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(Slept(), 2s);
}

TEST_F(RetryingHttpClientTest, HonoursRetryAfterHttpDateOn503) {
  // FakeClock's wall time starts at 1'800'000'000 s = Fri, 15 Jan 2027 08:00:00 GMT.
  fake_.Enqueue("POST", kUrl,
                FakeHttpClient::Reply(503, "", {{"retry-after", "Fri, 15 Jan 2027 08:00:07 GMT"}}));
  fake_.Enqueue("POST", kUrl, FakeHttpClient::Reply(204));
  RetryingHttpClient client(fake_, clock_, {.seed = 1});

  auto result = client.Send(request_);

  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, 204);
  EXPECT_EQ(Slept(), 7s);
}

TEST_F(RetryingHttpClientTest, IgnoresRetryAfterOnOther5xx) {
  fake_.Enqueue("POST", kUrl, FakeHttpClient::Reply(500, "", {{"Retry-After", "30"}}));
  fake_.Enqueue("POST", kUrl, FakeHttpClient::Reply(200));
  RetryingHttpClient client(fake_, clock_, {.seed = 1});

  auto result = client.Send(request_);

  ASSERT_TRUE(result.ok());
  EXPECT_LE(Slept(), 200ms);
}

TEST_F(RetryingHttpClientTest, DoesNotRetry4xx) {
  for (const int status : {400, 401, 403, 404, 409, 412, 422}) {
    fake_.ClearRequests();
    fake_.Enqueue("POST", kUrl, FakeHttpClient::Reply(status, "no"));
    RetryingHttpClient client(fake_, clock_, {.seed = 1});

    auto result = client.Send(request_);

    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result->status, status);
    EXPECT_EQ(result->attempts, 1);
    EXPECT_EQ(Sends(), 1U) << status;
  }
  EXPECT_EQ(Slept(), 0ms);
}

TEST_F(RetryingHttpClientTest, DoesNotRetryInternalErrors) {
  fake_.Enqueue("POST", kUrl, core::MakeError(core::ErrorCode::kInternal, "POST x: bad URL"));
  RetryingHttpClient client(fake_, clock_, {.seed = 1});

  auto result = client.Send(request_);

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "POST x: bad URL");
  EXPECT_EQ(Sends(), 1U);
}

TEST_F(RetryingHttpClientTest, GivesUpAfterMaxAttemptsWithLastResponse) {
  for (int i = 1; i <= 3; ++i) {
    fake_.Enqueue("POST", kUrl, FakeHttpClient::Reply(502, "bad gateway " + std::to_string(i)));
  }
  RetryingHttpClient client(fake_, clock_, {.max_attempts = 3, .seed = 7});

  auto result = client.Send(request_);

  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, 502);
  EXPECT_EQ(result->body, "bad gateway 3");
  EXPECT_EQ(result->attempts, 3);
  EXPECT_EQ(DescribeFailure(request_, result),
            "POST http://grafana:3000/api/dashboards/db: 502 bad gateway 3 (after 3 attempts)");
  EXPECT_TRUE(fake_.AllQueuedUsed());
}

TEST_F(RetryingHttpClientTest, GivesUpAfterMaxAttemptsWithLastTransportError) {
  fake_.Enqueue("POST", kUrl, FakeHttpClient::Unavailable("POST", kUrl, "first"));
  fake_.Enqueue("POST", kUrl, core::MakeError(core::ErrorCode::kTimeout, "POST u: second"));
  RetryingHttpClient client(fake_, clock_, {.max_attempts = 2, .seed = 7});

  auto result = client.Send(request_);

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kTimeout);
  EXPECT_EQ(result.error().message, "POST u: second (gave up after 2 attempts)");
}

TEST_F(RetryingHttpClientTest, StopsWhenTheNextWaitWouldExceedMaxTotal) {
  fake_.Enqueue("POST", kUrl, FakeHttpClient::Reply(429, "", {{"Retry-After", "40"}}));
  fake_.Enqueue("POST", kUrl, FakeHttpClient::Reply(429, "", {{"Retry-After", "40"}}));
  RetryingHttpClient client(fake_, clock_, {.max_total = 60s, .seed = 1});

  auto result = client.Send(request_);

  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, 429);
  EXPECT_EQ(result->attempts, 2);
  EXPECT_EQ(Slept(), 40s);  // honoured once; the second 40 s would end after 80 s
}

TEST_F(RetryingHttpClientTest, BackoffGrowsButStaysUnderMaxDelay) {
  fake_.On("POST", kUrl, [](const Request&) { return FakeHttpClient::Reply(500); });
  RetryingHttpClient client(
      fake_, clock_,
      {.max_attempts = 30, .base_delay = 100ms, .max_delay = 1s, .max_total = 1h, .seed = 3});

  auto result = client.Send(request_);

  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->attempts, 30);
  EXPECT_LE(Slept(), 29 * 1s);
  EXPECT_GT(Slept(), 5s);  // 29 draws capped at 1 s: far above what no backoff would give
}

TEST_F(RetryingHttpClientTest, SameSeedSameDelays) {
  const auto run = [&](std::uint64_t seed) {
    FakeHttpClient fake;
    FakeClock clock;
    fake.On("*", kUrl, [](const Request&) { return FakeHttpClient::Reply(503); });
    RetryingHttpClient client(fake, clock, {.seed = seed});
    const auto begin = clock.Monotonic();
    static_cast<void>(client.Send(request_));
    return clock.Monotonic() - begin;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST_F(RetryingHttpClientTest, LogsEachRetryWithoutSecrets) {
  std::ostringstream log;
  core::Logger logger(log);
  const std::string url = "http://u:pw@grafana:3000/x?token=abc";
  fake_.Enqueue("GET", url, FakeHttpClient::Reply(503));
  fake_.Enqueue("GET", url, FakeHttpClient::Reply(200));
  RetryingHttpClient client(fake_, clock_, {.seed = 1}, logger);

  ASSERT_TRUE(client.Send({.url = url}).ok());

  EXPECT_THAT(log.str(), HasSubstr(R"("msg":"http request failed, retrying")"));
  EXPECT_THAT(log.str(), HasSubstr(R"("url":"http://grafana:3000/x?token=<secret>")"));
  EXPECT_THAT(log.str(), HasSubstr(R"("outcome":"503")"));
  EXPECT_THAT(log.str(), ::testing::Not(HasSubstr("pw")));
  EXPECT_THAT(log.str(), ::testing::Not(HasSubstr("abc")));
}

TEST_F(RetryingHttpClientTest, IsThreadSafe) {
  std::atomic<int> calls{0};
  fake_.On("GET", "http://h/x", [&](const Request&) {
    ++calls;
    // The fake runs handlers on the caller's thread: every Send sees 503, 503, 200.
    thread_local int per_thread = 0;
    return FakeHttpClient::Reply(++per_thread % 3 == 0 ? 200 : 503);
  });
  RetryingHttpClient client(fake_, clock_, {.max_attempts = 10, .seed = 5});

  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 25; ++j) {
        auto result = client.Send({.url = "http://h/x"});
        ok += result.ok() && result->status == 200 ? 1 : 0;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }

  EXPECT_EQ(ok, 100);
  EXPECT_EQ(calls, 300);
}

TEST(ParseRetryAfter, AcceptsSecondsAndTheThreeDateForms) {
  const auto now = std::chrono::system_clock::time_point{std::chrono::seconds(784111777)};
  // 784111777 s = Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example date).
  EXPECT_EQ(ParseRetryAfter("120", now), 120s);
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), 0s);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:40 GMT", now), 3s);
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:50:37 GMT", now), 60s);
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:47 1994", now), 10s);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), 0s);  // past
  EXPECT_EQ(ParseRetryAfter("99999999999999999999", now), 999999999s);
}

TEST(ParseRetryAfter, RejectsGarbage) {
  const auto now = std::chrono::system_clock::time_point{};
  for (const char* value : {"", "soon", "-5", "1.5", "Sun, 31 Feb 2027 00:00:00 GMT",
                            "Sun, 06 Nov 1994 25:00:00 GMT", "Sun, 06 Foo 1994 08:49:37 GMT"}) {
    EXPECT_EQ(ParseRetryAfter(value, now), std::nullopt) << value;
  }
}

TEST(DescribeFailure, QuotesStatusAndBodyWithRedactedUrl) {
  const Request request{.method = "POST", .url = "http://admin:pw@grafana:3000/api/dashboards/db"};
  const core::Result<Response> result =
      Response{.status = 412, .body = R"({"status":"version-mismatch"})"};

  EXPECT_EQ(DescribeFailure(request, result),
            R"(POST http://grafana:3000/api/dashboards/db: 412 {"status":"version-mismatch"})");
  EXPECT_EQ(DescribeFailure(request, Response{.status = 500}),
            "POST http://grafana:3000/api/dashboards/db: 500");
}

TEST(DescribeFailure, TruncatesLongBodiesAtACharacterBoundary) {
  // 2047 ASCII bytes then a 2-byte character straddling the 2048-byte limit.
  const std::string body = std::string(2047, 'a') + "\xC3\xA9" + std::string(100, 'z');
  const Request request{.url = "http://h/x"};

  const std::string text = DescribeFailure(request, Response{.status = 500, .body = body});

  EXPECT_EQ(text, "GET http://h/x: 500 " + std::string(2047, 'a') + "... (2149 bytes)");
}

TEST(DescribeFailure, PassesTransportErrorsThrough) {
  const core::Result<Response> result =
      core::MakeError(core::ErrorCode::kTimeout, "GET http://h/x: Operation timed out");
  EXPECT_EQ(DescribeFailure({.url = "http://h/x"}, result), "GET http://h/x: Operation timed out");
}

TEST(UpstreamError, CarriesStatusAndTruncatedBody) {
  const Request request{.method = "DELETE", .url = "http://grafana:3000/api/folders/f"};
  const std::string body(3000, 'x');

  const core::Error error = UpstreamError(request, Response{.status = 400, .body = body});

  EXPECT_EQ(error.code, core::ErrorCode::kUpstream);
  EXPECT_EQ(error.upstream_status, 400);
  EXPECT_EQ(error.upstream_body, std::string(2048, 'x') + "... (3000 bytes)");
  EXPECT_EQ(error.message, "DELETE http://grafana:3000/api/folders/f: 400 " + error.upstream_body);
}

TEST(UpstreamError, ReturnsTransportErrorUnchanged) {
  const core::Error error = UpstreamError(
      {}, core::Result<Response>(core::MakeError(core::ErrorCode::kUnavailable, "GET u: refused")));
  EXPECT_EQ(error.code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(error.message, "GET u: refused");
  EXPECT_EQ(error.upstream_status, 0);
}

}  // namespace
}  // namespace obsforge::http
