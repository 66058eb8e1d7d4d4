// The HTTP layer against a client that does not play by the rules: bodies left unread on a
// kept-alive connection, invented methods, odd framing, odd Authorization headers, bytes that
// are not UTF-8 in the URL. Every answer is a complete response with the right status line.
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "security/raw_http.h"
#include "server/harness.h"

namespace obsforge::server::testing {
namespace {

using security::testing::RawConnection;
using security::testing::RawRequest;
using ::testing::HasSubstr;

::testing::Environment* const kCurl = ::testing::AddGlobalTestEnvironment(new CurlEnvironment);

std::string Bearer(const std::string& token) {
  return "Authorization: Bearer " + token + "\r\n";
}

// A complete second request hidden in a body: if the server left the body unread, it would
// answer this one next.
const std::string kSmuggled = RawRequest("DELETE", "/api/v1/stacks/shop", Bearer(kAdminToken)) +
                              "GET /smuggled HTTP/1.1\r\n\r\n";

TEST(HttpLayer, EarlyAnswersNeverLeaveTheBodyToBeReadAsTheNextRequest) {
  ServerHarness h;
  ASSERT_EQ(h.Call("POST", "/api/v1/stacks", kEditorToken, ShopSpec()).status, 202);
  const int port = h.server().port();
  struct Case {
    std::string name;
    std::string request_head;  // method, target and headers, without Content-Length
    int status;
  };
  const std::vector<Case> cases = {
      {"no token", "POST /api/v1/render HTTP/1.1\r\nContent-Type: application/yaml\r\n", 401},
      {"bad token", "POST /api/v1/render HTTP/1.1\r\n" + Bearer("nope"), 401},
      {"viewer on an editor route",
       "POST /api/v1/render HTTP/1.1\r\nContent-Type: application/yaml\r\n" + Bearer(kViewerToken),
       403},
      {"unknown path", "POST /api/v1/nowhere HTTP/1.1\r\n" + Bearer(kAdminToken), 404},
      {"known path, other method", "PATCH /api/v1/stacks HTTP/1.1\r\n" + Bearer(kAdminToken), 405},
      {"invented method", "BREW /api/v1/stacks HTTP/1.1\r\n" + Bearer(kAdminToken), 405},
      {"wrong content type",
       "POST /api/v1/render HTTP/1.1\r\nContent-Type: text/plain\r\n" + Bearer(kAdminToken), 415},
      {"malformed URI", "POST /api/v1/%zz HTTP/1.1\r\n" + Bearer(kAdminToken), 400},
      {"body on a route without one", "GET /healthz HTTP/1.1\r\n", 200},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    RawConnection connection(port);
    connection.Send(c.request_head + "Host: x\r\nContent-Length: " +
                    std::to_string(kSmuggled.size()) + "\r\n\r\n" + kSmuggled);
    connection.Send(RawRequest("GET", "/healthz"));
    const auto first = connection.Read();
    ASSERT_TRUE(first) << "no answer";
    EXPECT_EQ(first->status, c.status) << first->body;
    // The connection is kept (the body was read and dropped) and the next answer is the
    // /healthz asked for, not one to the request inside the body.
    EXPECT_FALSE(first->Closes());
    const auto second = connection.Read();
    ASSERT_TRUE(second) << "the connection was closed";
    EXPECT_EQ(second->status, 200) << second->body;
    EXPECT_THAT(second->body, HasSubstr("ok"));
  }
  // Nothing inside the bodies ran.
  EXPECT_TRUE(h.store().GetStack("shop").ok());
}

TEST(HttpLayer, ABodyBeyondTheLimitIsRefusedAndTheConnectionClosed) {
  ServerHarness h(true, [](ServerOptions& o) { o.body_limit = 4096; });
  const int port = h.server().port();
  {
    // Declared too large: answered at once, without waiting for 10 GB.
    RawConnection connection(port);
    connection.Send(
        "POST /api/v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\n" +
        Bearer(kEditorToken) + "Content-Length: 10000000000\r\n\r\n" + kSmuggled);
    const auto response = connection.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status_line, "HTTP/1.1 413 Request Entity Too Large");
    EXPECT_TRUE(response->Closes());
    EXPECT_TRUE(connection.Closed());
  }
  {
    // Chunked, and larger than the limit once read: the rest is never parsed as a request.
    RawConnection connection(port);
    std::string chunk(5000, '#');
    connection.Send(
        "POST /api/v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\n" +
        Bearer(kEditorToken) + "Transfer-Encoding: chunked\r\n\r\n1388\r\n" + chunk + "\r\n");
    std::ostringstream size;
    size << std::hex << kSmuggled.size();
    connection.SendIgnoringReset(size.str() + "\r\n" + kSmuggled + "\r\n0\r\n\r\n");
    const auto response = connection.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_TRUE(connection.Closed());
  }
  EXPECT_EQ(h.Call("GET", "/healthz", "").status, 200);
}

TEST(HttpLayer, AmbiguousFramingIsRefusedAndTheConnectionClosed) {
  ServerHarness h;
  const int port = h.server().port();
  for (const std::string& framing :
       {std::string("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
        std::string("Transfer-Encoding: gzip, chunked\r\n"),
        std::string("Transfer-Encoding: xchunked\r\n"), std::string("Content-Length: -5\r\n")}) {
    SCOPED_TRACE(framing);
    RawConnection connection(port);
    std::string request =
        "POST /api/v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\n";
    request += Bearer(kEditorToken);
    request += framing;
    request += "\r\n0\r\n\r\n";
    request += kSmuggled;
    connection.Send(request);
    const auto response = connection.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400) << response->body;
    EXPECT_TRUE(response->Closes());
    EXPECT_TRUE(connection.Closed());
  }
  EXPECT_TRUE(h.store().GetStack("shop").error().code == core::ErrorCode::kNotFound);
}

TEST(HttpLayer, InventedMethodsGet405AndOneMetricsLabel) {
  ServerHarness h;
  const int port = h.server().port();
  RawConnection connection(port);
  for (int i = 0; i < 30; ++i) {
    const std::string method = "M" + std::to_string(i) + "X";
    connection.Send(RawRequest(method, i % 2 == 0 ? "/healthz" : "/nowhere", Bearer(kAdminToken)));
    const auto response = connection.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status_line, "HTTP/1.1 405 Method Not Allowed");
    EXPECT_EQ(ServerHarness::Json(http::Response{.body = response->body})["error"]["code"],
              "method_not_allowed");
  }
  // A request is counted once its answer is sent, by the thread serving the connection: one
  // more answer on the same connection means the 30th is counted.
  connection.Send(RawRequest("GET", "/healthz", ""));
  const auto after = connection.Read();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status_line, "HTTP/1.1 200 OK");
  // Bytes that no method has: Poco drops such a request line with the connection, before any
  // handler; the server goes on serving.
  RawConnection odd(port);
  odd.Send(RawRequest("\xFF\xFE", "/healthz"));
  EXPECT_FALSE(odd.Read());
  EXPECT_EQ(h.Call("GET", "/healthz", "").status, 200);

  const std::string metrics = h.Call("GET", "/metrics", "").body;
  std::set<std::string> methods;
  const std::regex label("obsforge_http_requests_total\\{method=\"([^\"]*)\"");
  for (std::sregex_iterator it(metrics.begin(), metrics.end(), label), end; it != end; ++it) {
    methods.insert((*it)[1]);
  }
  EXPECT_TRUE(methods.contains("other"));
  EXPECT_FALSE(methods.contains("M0X"));
  EXPECT_LE(methods.size(), 8U);
  EXPECT_THAT(metrics, HasSubstr("method=\"other\",route=\"unmatched\",code=\"405\"} 30"));
}

TEST(HttpLayer, KnownPathWithAnotherMethodNamesTheAllowedOnes) {
  ServerHarness h;
  RawConnection connection(h.server().port());
  connection.Send(RawRequest("DELETE", "/api/v1/stacks", Bearer(kAdminToken)));
  const auto response = connection.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
  EXPECT_EQ(response->Header("allow"), "POST, GET");
}

TEST(HttpLayer, BearerSchemeIsCaseInsensitive) {
  ServerHarness h;
  for (const std::string scheme : {"Bearer ", "bearer ", "BEARER ", "bEaReR \t ", "Bearer  "}) {
    SCOPED_TRACE(scheme);
    const auto r = h.Call("GET", "/api/v1/stacks", "", "", "",
                          {{"Authorization", scheme + kViewerToken + " "}});
    EXPECT_EQ(r.status, 200) << r.body;
  }
  const std::string token = kViewerToken;
  for (const std::string& header :
       std::vector<std::string>{"Bearer", "Bearer ", "Bearer" + token, "Basic " + token,
                                "Bearer " + token + " extra", token}) {
    SCOPED_TRACE(header);
    const auto r = h.Call("GET", "/api/v1/stacks", "", "", "", {{"Authorization", header}});
    EXPECT_EQ(r.status, 401) << r.body;
  }
}

TEST(HttpLayer, StatusLinesCarryTheirReasonPhrase) {
  ServerHarness h(true, [](ServerOptions& o) { o.body_limit = 16; });
  RawConnection connection(h.server().port());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {RawRequest("GET", "/healthz"), "HTTP/1.1 200 OK"},
      {RawRequest("GET", "/api/v1/stacks"), "HTTP/1.1 401 Unauthorized"},
      {RawRequest("POST", "/api/v1/render", Bearer(kViewerToken), "x"), "HTTP/1.1 403 Forbidden"},
      {RawRequest("GET", "/nowhere"), "HTTP/1.1 404 Not Found"},
      {RawRequest("PUT", "/healthz"), "HTTP/1.1 405 Method Not Allowed"},
      {RawRequest("POST", "/api/v1/render", Bearer(kEditorToken) + "Content-Type: text/plain\r\n",
                  "x"),
       "HTTP/1.1 415 Unsupported Media Type"},
      {RawRequest("POST", "/api/v1/render",
                  Bearer(kEditorToken) + "Content-Type: application/yaml\r\n", "["),
       "HTTP/1.1 400 Bad Request"},
      {RawRequest("GET", "/api/v1/stacks/nope", Bearer(kViewerToken)), "HTTP/1.1 404 Not Found"},
  };
  for (const auto& [request, status_line] : cases) {
    connection.Send(request);
    const auto response = connection.Read();
    ASSERT_TRUE(response) << status_line;
    EXPECT_EQ(response->status_line, status_line);
  }
}

TEST(HttpLayer, UrlsThatAreNotUtf8Get400) {
  ServerHarness h;
  RawConnection connection(h.server().port());
  // Raw too (but for a raw 0xFF, which Poco reads as the end of the stream and drops).
  for (const std::string target :
       {"/api/v1/stacks/%FF", "/api/v1/stacks/sh%FFop", "/api/v1/stacks/sh\xC0\xAFop",
        "/api/v1/stacks?x=%C0%AF", "/api/v1/stacks/%ED%A0%80/revisions", "/%FF%FE"}) {
    SCOPED_TRACE(target);
    connection.Send(RawRequest("GET", target, Bearer(kViewerToken)));
    const auto response = connection.Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400);
    const auto body = nlohmann::json::parse(response->body);
    EXPECT_EQ(body["error"]["code"], "bad_request");
    EXPECT_THAT(body["error"]["message"].get<std::string>(), HasSubstr("UTF-8"));
  }
}

TEST(HttpLayer, LoopbackIsDecidedOnTheParsedAddress) {
  for (const char* host :
       {"127.0.0.1", "127.1.2.3", "::1", "localhost", "LocalHost", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopback(host)) << host;
  }
  for (const char* host :
       {"127.0.0.1.evil", "127.evil", "127.0.0.1.nip.io", "0.0.0.0", "10.0.0.1",
        "::", "::ffff:10.0.0.1", "localhost.evil", "", "128.0.0.1", "1127.0.0.1"}) {
    EXPECT_FALSE(IsLoopback(host)) << host;
  }
}

TEST(HttpLayer, WithoutTokensAHostNameThatStartsLikeLoopbackIsRefused) {
  TempDir dir;
  core::SystemClock clock;
  auto store = store::SqliteStore::Open({.path = (dir.path() / "s.db").string()}, clock);
  ASSERT_TRUE(store.ok());
  FakeBackend backend;
  std::ostringstream logs;
  core::Logger logger(logs, core::LogLevel::kInfo);
  control::Application app({}, **store, backend, clock, logger);
  Server server({.listen = "127.0.0.1.evil:0", .data_dir = dir.path() / "var"}, app, logger);
  const auto started = server.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, core::ErrorCode::kPrecondition);
  EXPECT_THAT(started.error().message, HasSubstr("no API tokens configured"));
}

}  // namespace
}  // namespace obsforge::server::testing
