#include "http/curl_http_client.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/test_server.h"

namespace obsforge::http {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using testing::ReadBody;
using testing::Reply;
using ::testing::StartsWith;
using testing::TestServer;
using namespace std::chrono_literals;

class CurlEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override { global_ = std::make_unique<CurlGlobal>(); }
  void TearDown() override { global_.reset(); }

 private:
  std::unique_ptr<CurlGlobal> global_;
};

[[maybe_unused]] ::testing::Environment* const kCurlEnvironment =
    ::testing::AddGlobalTestEnvironment(new CurlEnvironment);

// Releases handlers that wait on it when the test ends, so the server can stop promptly.
class Gate {
 public:
  // Blocks until Open() or `limit` has passed (which only ends a failing test).
  void Wait(std::chrono::milliseconds limit = 30s) {
    std::unique_lock lock(mu_);
    (void)opened_.wait_for(lock, limit, [this] { return open_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    opened_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable opened_;
  bool open_ = false;
};

// A port nothing listens on: bound, then closed again.
std::uint16_t ClosedPort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  const std::uint16_t port = socket.address().port();
  socket.close();
  return port;
}

TEST(CurlHttpClient, RoundTripsMethodHeadersAndBody) {
  TestServer server(testing::EchoRequest);
  CurlHttpClient client;

  auto result = client.Send({.method = "PUT",
                             .url = server.Url("/api/x?a=1"),
                             .headers = {{"X-Test", "hello"}},
                             .body = R"({"k":1})"});

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->status, 201);
  EXPECT_EQ(result->body, R"(PUT /api/x?a=1 {"k":1})");
  EXPECT_EQ(result->Header("x-reply"), "yes");
  EXPECT_EQ(result->Header("X-Seen-Test"), "hello");
  EXPECT_EQ(result->Header("X-Seen-Agent"), CurlOptions::DefaultUserAgent());
  EXPECT_THAT(CurlOptions::DefaultUserAgent(), MatchesRegex(R"(obsforge/[0-9]+\.[0-9]+\.[0-9]+)"));
  EXPECT_EQ(result->Header("X-Seen-Type"), "<none>");
  EXPECT_EQ(result->Header("X-Seen-Expect"), "<none>");
  EXPECT_EQ(result->Header("Content-Length"), "22");
  EXPECT_EQ(result->attempts, 1);
}

TEST(CurlHttpClient, SendsEveryMethodWithOrWithoutBody) {
  TestServer server([](auto& request, auto& response) {
    Reply(response, 200, request.getMethod() + ":" + ReadBody(request));
  });
  CurlHttpClient client;
  struct Case {
    std::string method;
    std::string body;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"GET", "", "GET:"},
      {"POST", "", "POST:"},
      {"POST", "p", "POST:p"},
      {"DELETE", "", "DELETE:"},
      {"DELETE", "d", "DELETE:d"},
      {"PATCH", "x", "PATCH:x"},
      {"PUT", std::string(1 << 20, 'b'), "PUT:" + std::string(1 << 20, 'b')},
  };
  for (const auto& c : cases) {
    auto result = client.Send({.method = c.method, .url = server.Url("/"), .body = c.body});
    ASSERT_TRUE(result.ok()) << c.method << ": " << result.error().message;
    EXPECT_EQ(result->body, c.expected) << c.method;
  }
}

TEST(CurlHttpClient, RequestHeadersOverrideUserAgentAndContentType) {
  TestServer server([](auto& request, auto& response) {
    Reply(response, 200, request.get("User-Agent", "") + "|" + request.get("Content-Type", ""));
  });
  CurlHttpClient client({.user_agent = "custom/1"});

  auto from_options = client.Send({.url = server.Url("/")});
  auto from_request =
      client.Send({.method = "POST",
                   .url = server.Url("/"),
                   .headers = {{"User-Agent", "mine/2"}, {"Content-Type", "application/yaml"}},
                   .body = "a: 1"});

  ASSERT_TRUE(from_options.ok()) << from_options.error().message;
  ASSERT_TRUE(from_request.ok()) << from_request.error().message;
  EXPECT_EQ(from_options->body, "custom/1|");
  EXPECT_EQ(from_request->body, "mine/2|application/yaml");
}

TEST(CurlHttpClient, HeadReturnsHeadersWithoutBody) {
  TestServer server([](auto& /*request*/, auto& response) {
    response.setContentLength(5);
    response.set("X-Head", "1");
    response.send();
  });
  CurlHttpClient client;

  auto result = client.Send({.method = "HEAD", .url = server.Url("/-/healthy")});

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, "");
  EXPECT_EQ(result->Header("X-Head"), "1");
}

TEST(CurlHttpClient, ReturnsErrorStatusesAsResponses) {
  TestServer server([](auto& /*request*/, auto& response) {
    Reply(response, 412, R"({"status":"version-mismatch"})");
  });
  CurlHttpClient client;

  auto result = client.Send({.method = "POST", .url = server.Url("/api/dashboards/db")});

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->status, 412);
  EXPECT_EQ(result->body, R"({"status":"version-mismatch"})");
}

TEST(CurlHttpClient, DoesNotFollowRedirects) {
  std::atomic<int> calls{0};
  TestServer server([&](auto& /*request*/, auto& response) {
    ++calls;
    Reply(response, 302, "", {{"Location", "/elsewhere"}});
  });
  CurlHttpClient client;

  auto result = client.Send({.url = server.Url("/login")});

  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->status, 302);
  EXPECT_EQ(result->Header("Location"), "/elsewhere");
  EXPECT_EQ(calls, 1);
}

TEST(CurlHttpClient, ReusesOneConnectionForSequentialRequests) {
  TestServer server([](auto& /*request*/, auto& response) { Reply(response, 200, "ok"); });
  CurlHttpClient client;

  for (int i = 0; i < 5; ++i) {
    auto result = client.Send({.url = server.Url("/n")});
    ASSERT_TRUE(result.ok()) << result.error().message;
  }

  EXPECT_EQ(server.TotalConnections(), 1);
}

TEST(CurlHttpClient, BoundsConcurrentRequestsPerHost) {
  testing::Concurrency concurrency;
  TestServer server([&](auto& /*request*/, auto& response) {
    concurrency.Meet();
    Reply(response, 200, "ok");
  });
  CurlHttpClient client({.max_per_host = 2});

  std::vector<std::thread> threads;
  threads.reserve(6);
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] { ok += client.Send({.url = server.Url("/slow")}).ok() ? 1 : 0; });
  }
  for (auto& t : threads) {
    t.join();
  }

  EXPECT_EQ(ok, 6);
  EXPECT_EQ(concurrency.peak(), 2);
  EXPECT_LE(server.TotalConnections(), 2);  // the two pooled handles kept their connections
}

TEST(CurlHttpClient, ManyThreadsOverSeveralOrigins) {
  std::atomic<int> served{0};
  const auto handler = [&](auto& request, auto& response) {
    ++served;
    Reply(response, 200, request.getURI());
  };
  TestServer a(handler);
  TestServer b(handler);
  CurlHttpClient client({.max_per_host = 3});

  std::vector<std::thread> threads;
  threads.reserve(8);
  std::atomic<int> right{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j) {
        const std::string path = "/t" + std::to_string(i) + "/" + std::to_string(j);
        auto result = client.Send({.url = ((i + j) % 2 == 0 ? a : b).Url(path)});
        right += result.ok() && result->body == path ? 1 : 0;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }

  EXPECT_EQ(right, 80);
  EXPECT_EQ(served, 80);
  EXPECT_LE(a.TotalConnections(), 3);
  EXPECT_LE(b.TotalConnections(), 3);
}

TEST(CurlHttpClient, TimesOutWaitingForAPerHostSlot) {
  Gate gate;
  std::atomic<bool> holding{false};
  TestServer server([&](auto& /*request*/, auto& response) {
    holding = true;
    gate.Wait();
    Reply(response, 200, "late");
  });
  CurlHttpClient client({.max_per_host = 1});
  std::thread holder([&] { static_cast<void>(client.Send({.url = server.Url("/hold")})); });
  while (!holding) {  // the holder has the only slot once its request reached the server
    std::this_thread::sleep_for(1ms);
  }

  auto result = client.Send({.url = server.Url("/next"), .timeout = 50ms});
  gate.Open();
  holder.join();

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kTimeout);
  EXPECT_EQ(result.error().message,
            "GET " + server.Url("/next") + ": no connection slot to http://127.0.0.1:" +
                std::to_string(server.port()) + " became free within 50 ms (max_per_host 1)");
}

TEST(CurlHttpClient, SlowResponseIsTimeout) {
  Gate gate;
  TestServer server([&](auto& /*request*/, auto& response) {
    gate.Wait();
    Reply(response, 200, "late");
  });
  CurlHttpClient client;

  // Without the timeout the reply would come, once the gate gave up waiting: an answer, not an
  // error.
  auto result = client.Send({.url = server.Url("/slow"), .timeout = 200ms});
  gate.Open();

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kTimeout);
  EXPECT_THAT(result.error().message,
              StartsWith("GET " + server.Url("/slow") + ": Operation timed out after "));
}

TEST(CurlHttpClient, ClientDefaultTimeoutAppliesWhenRequestSaysZero) {
  Gate gate;
  TestServer server([&](auto& /*request*/, auto& response) {
    gate.Wait();
    Reply(response, 200, "late");
  });
  CurlHttpClient client({.timeout = 100ms});

  auto result = client.Send({.url = server.Url("/slow"), .timeout = 0ms});
  gate.Open();

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kTimeout);
}

TEST(CurlHttpClient, ClosedPortIsUnavailableWithRedactedUrl) {
  const std::uint16_t port = ClosedPort();
  CurlHttpClient client;

  auto result = client.Send(
      {.method = "POST",
       .url = "http://admin:pw@127.0.0.1:" + std::to_string(port) + "/api/x?token=abc&q=1"});

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kUnavailable);
  EXPECT_THAT(result.error().message,
              StartsWith("POST http://127.0.0.1:" + std::to_string(port) +
                         "/api/x?token=<secret>&q=1: Failed to connect to 127.0.0.1 port " +
                         std::to_string(port)));
  EXPECT_THAT(result.error().message, ::testing::Not(HasSubstr("pw")));
  EXPECT_THAT(result.error().message, ::testing::Not(HasSubstr("abc")));
}

TEST(CurlHttpClient, ConnectionClosedMidResponseIsUnavailable) {
  TestServer server([](auto& /*request*/, auto& response) {
    response.setContentLength(1000);
    response.send() << "only part of it";
    response.send().flush();
    throw Poco::IOException("drop the connection");  // Poco closes the socket
  });
  CurlHttpClient client;

  auto result = client.Send({.url = server.Url("/partial")});

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kUnavailable);
  EXPECT_THAT(result.error().message, StartsWith("GET " + server.Url("/partial") + ": "));
}

TEST(CurlHttpClient, UnsupportedSchemeIsInternal) {
  CurlHttpClient client;

  auto result = client.Send({.url = "file:///etc/passwd"});

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kInternal);
  EXPECT_THAT(result.error().message, StartsWith("GET file:///etc/passwd: "));
}

TEST(CurlHttpClient, RejectsHeaderInjection) {
  CurlHttpClient client;

  auto result = client.Send({.url = "http://127.0.0.1:1/", .headers = {{"X-A", "v\r\nX-Evil: 1"}}});

  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kInternal);
  EXPECT_EQ(result.error().message, "GET http://127.0.0.1:1/: header 'X-A' contains a line break");
}

std::shared_ptr<const AddressFilter> Only(const std::vector<std::string>& allow,
                                          const std::vector<std::string>& deny = {}) {
  auto filter = AddressFilter::Parse(allow, deny);
  EXPECT_TRUE(filter.ok()) << filter.error().message;
  return std::make_shared<const AddressFilter>(filter.ok() ? std::move(*filter) : AddressFilter());
}

TEST(CurlHttpClient, AnAddressTheFilterRefusesIsNeverConnectedTo) {
  TestServer server([](auto& /*request*/, auto& response) { Reply(response, 200, "ok"); });
  CurlHttpClient refusing({.filter = Only({"10.0.0.0/8"})});
  const auto refused = refusing.Send({.url = server.Url("/secret")});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::ErrorCode::kInvalidSpec);  // not retried: not transient
  EXPECT_THAT(refused.error().message, HasSubstr("may not connect to 127.0.0.1"));
  EXPECT_THAT(refused.error().message, HasSubstr("outbound"));
  EXPECT_EQ(server.TotalConnections(), 0);

  CurlHttpClient allowing({.filter = Only({"127.0.0.0/8"})});
  const auto allowed = allowing.Send({.url = server.Url("/secret")});
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  EXPECT_EQ(allowed->body, "ok");
}

TEST(CurlHttpClient, AHostNameIsHeldToTheAddressesItResolvesTo) {
  TestServer server([](auto& /*request*/, auto& response) { Reply(response, 200, "ok"); });
  CurlHttpClient client({.filter = Only({}, {"127.0.0.0/8", "::1"})});
  const std::string url = "http://localhost:" + std::to_string(server.port()) + "/";
  const auto refused = client.Send({.url = url});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::ErrorCode::kInvalidSpec);
  EXPECT_EQ(server.TotalConnections(), 0);
}

TEST(CurlHttpClient, TheDefaultFilterRefusesTheCloudMetadataAddress) {
  CurlHttpClient client({.filter = std::make_shared<const AddressFilter>()});
  const auto refused = client.Send({.url = "http://169.254.169.254/latest/meta-data/"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::ErrorCode::kInvalidSpec);
  EXPECT_THAT(refused.error().message, HasSubstr("may not connect to 169.254.169.254"));
}

}  // namespace
}  // namespace obsforge::http
