#include "http/curl_multi_http_client.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/curl_easy.h"
#include "http/curl_http_client.h"
#include "http/test_server.h"

// The process-wide CurlGlobal is set up by curl_http_client_test.cc (same binary).

namespace obsforge::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing::Reply;
using ::testing::StartsWith;
using testing::TestServer;
using namespace std::chrono_literals;

// Polls until every request started has completed.
void Drain(MultiHttpClient& client) {
  while (client.InFlight() > 0) {
    client.Poll(1000ms);
  }
}

core::Result<Response> SendOne(MultiHttpClient& client, Request request) {
  std::optional<core::Result<Response>> answer;
  client.Start(std::move(request), [&](core::Result<Response> r) { answer.emplace(std::move(r)); });
  Drain(client);
  return std::move(*answer);
}

TEST(CurlMultiHttpClient, SendsRequestsShapedLikeTheEasyClient) {
  TestServer server(testing::EchoRequest);
  CurlMultiHttpClient multi;
  CurlHttpClient easy;
  for (const Request& request :
       {Request{.method = "PUT",
       .url = server.Url("/api/x?a=1"),
       .headers = {{"X-Test", "hello"}},
       .body = R"({"k":1})"},
        Request{.method = "POST", .url = server.Url("/p"), .headers = {{"Content-Type", "a/b"}}},
        Request{.method = "DELETE", .url = server.Url("/d")}}) {
    auto from_multi = SendOne(multi, request);
    auto from_easy = easy.Send(request);
    ASSERT_TRUE(from_multi.ok()) << from_multi.error().message;
    ASSERT_TRUE(from_easy.ok()) << from_easy.error().message;
    EXPECT_EQ(from_multi->status, from_easy->status);
    EXPECT_EQ(from_multi->body, from_easy->body);
    for (const char* header : {"X-Reply", "X-Seen-Test", "X-Seen-Type", "X-Seen-Expect"}) {
      EXPECT_EQ(from_multi->Header(header), from_easy->Header(header)) << header;
    }
    // Only the agent differs, and the multi client asks for no compression.
    EXPECT_EQ(from_multi->Header("X-Seen-Agent"), "obsforge-health");
    EXPECT_EQ(from_multi->Header("X-Seen-Encoding"), "<none>");
  }
}

TEST(CurlMultiHttpClient, KeepsManyRequestsInFlightOnOneThreadOverFewConnections) {
  testing::Concurrency concurrency;
  TestServer server([&](auto& request, auto& response) {
    concurrency.Meet();
    Reply(response, 200, request.getURI());
  });
  CurlMultiHttpClient client({.max_host_connections = 3});
  std::vector<std::string> bodies(30);
  for (int i = 0; i < 30; ++i) {
    client.Start({.url = server.Url("/n/" + std::to_string(i))},
                 [&bodies, i](core::Result<Response> r) {
                   bodies[i] = r.ok() ? r->body : r.error().message;
                 });
  }
  EXPECT_EQ(client.InFlight(), 30U);
  Drain(client);
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(bodies[i], "/n/" + std::to_string(i));
  }
  EXPECT_GE(concurrency.peak(), 2);
  EXPECT_LE(concurrency.peak(), 3);
  EXPECT_LE(server.TotalConnections(), 3);  // kept alive and reused
}

TEST(CurlMultiHttpClient, ACompletionMayStartTheNextRequest) {
  TestServer server([](auto& request, auto& response) { Reply(response, 200, request.getURI()); });
  CurlMultiHttpClient client;
  std::vector<std::string> seen;
  client.Start({.url = server.Url("/first")}, [&](core::Result<Response> r) {
    seen.push_back(r->body);
    client.Start({.url = server.Url("/second")},
                 [&](core::Result<Response> r2) { seen.push_back(r2->body); });
  });
  Drain(client);
  EXPECT_THAT(seen, ElementsAre("/first", "/second"));
  EXPECT_EQ(server.TotalConnections(), 1);
}

TEST(CurlMultiHttpClient, BodyOverTheLimitIsAnUpstreamError) {
  TestServer server(
      [](auto& /*request*/, auto& response) { Reply(response, 200, std::string(5000, 'x')); });
  CurlMultiHttpClient client({.max_body_bytes = 1000});
  auto result = SendOne(client, {.url = server.Url("/big")});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kUpstream);
  EXPECT_EQ(result.error().message,
            "GET " + server.Url("/big") + ": response larger than 1000 bytes");
}

TEST(CurlMultiHttpClient, ClosedPortIsUnavailableWithRedactedUrl) {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  const std::uint16_t port = socket.address().port();
  socket.close();
  CurlMultiHttpClient client;
  auto result =
      SendOne(client, {.url = "http://u:pw@127.0.0.1:" + std::to_string(port) + "/x?token=abc"});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kUnavailable);
  EXPECT_THAT(result.error().message,
              StartsWith("GET http://127.0.0.1:" + std::to_string(port) +
                         "/x?token=<secret>: Failed to connect to 127.0.0.1 port "));
  EXPECT_THAT(result.error().message, ::testing::Not(HasSubstr("pw")));
}

TEST(CurlMultiHttpClient, HeaderInjectionFailsWithoutSendingAnything) {
  CurlMultiHttpClient client;
  auto result = SendOne(client, {.url = "http://127.0.0.1:1/", .headers = {{"X-A", "v\nX-B: 1"}}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::ErrorCode::kInternal);
  EXPECT_EQ(result.error().message, "GET http://127.0.0.1:1/: header 'X-A' contains a line break");
}

TEST(CurlMultiHttpClient, WakeupEndsAWait) {
  CurlMultiHttpClient client;
  std::thread other([&] { client.Wakeup(); });
  other.join();
  client.Poll(std::chrono::hours(1));  // returns at once: the wakeup is pending
  SUCCEED();
}

TEST(CurlMultiHttpClient, DestroyedWithRequestsInFlightCallsNoCompletion) {
  TestServer server([](auto& /*request*/, auto& response) { Reply(response, 200, "late"); });
  bool called = false;
  {
    CurlMultiHttpClient client;
    client.Start({.url = server.Url("/x")}, [&](const core::Result<Response>&) { called = true; });
  }
  EXPECT_FALSE(called);
}

// Both clients read headers through this one function.
TEST(AddHeaderLine, KeepsTheFinalResponsesHeadersTrimmedAndUnfolded) {
  Headers headers;
  for (const char* line : {"HTTP/1.1 100 Continue\r\n", "X-Interim: 1\r\n", "\r\n",
                           "HTTP/1.1 200 OK\r\n", "Content-Type:  text/plain \r\n", "X-Long: a\r\n",
                           " b\r\n", "\tc\r\n", "no colon\r\n", "X-Empty:\r\n", "\r\n"}) {
    detail::AddHeaderLine(headers, line);
  }
  EXPECT_THAT(headers, ElementsAre(Pair("Content-Type", "text/plain"), Pair("X-Long", "a b c"),
                                   Pair("X-Empty", "")));
}

TEST(CurlMultiHttpClient, AnAddressTheFilterRefusesIsNeverConnectedTo) {
  TestServer server([](auto& /*request*/, auto& response) { Reply(response, 200, "ok"); });
  auto filter = AddressFilter::Parse({"10.0.0.0/8"}, {});
  ASSERT_TRUE(filter.ok());
  CurlMultiHttpClient client({.filter = std::make_shared<const AddressFilter>(*filter)});
  std::optional<core::Result<Response>> answer;
  client.Start({.url = server.Url("/")},
               [&answer](core::Result<Response> r) { answer = std::move(r); });
  Drain(client);
  ASSERT_TRUE(answer.has_value());
  ASSERT_FALSE(answer->ok());
  EXPECT_EQ(answer->error().code, core::ErrorCode::kInvalidSpec);
  EXPECT_NE(answer->error().message.find("may not connect to 127.0.0.1"), std::string::npos)
      << answer->error().message;
  EXPECT_EQ(server.TotalConnections(), 0);
}

}  // namespace
}  // namespace obsforge::http
