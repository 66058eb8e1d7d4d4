// The web console's server side: page shells and their headers, the overview rendered on the
// server, the routes the script reads, and the live event stream (GET /api/v1/events).
#include <array>
#include <fstream>
#include <regex>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "console/assets.h"
#include "console/event_bus.h"
#include "console/pages.h"
#include "server/console_routes.h"
#include "server/harness.h"

namespace obsforge::server::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Upper bound for something to arrive on an event stream; only a failing test waits this long.
constexpr int kStreamLimitMs = 20000;

const std::array<const char*, 6> kPages = {"/",
                                           "/stacks/shop",
                                           "/stacks/shop/environments/dev",
                                           "/operations/op-1",
                                           "/stacks/shop/revisions",
                                           "/gitops"};

// The class of the tile whose attributes start at `pos` in `html`.
std::string TileClass(const std::string& html, std::size_t pos) {
  const std::size_t start = html.rfind("<a class=\"", pos);
  if (start == std::string::npos) {
    return "";
  }
  const std::size_t from = start + 10;
  return html.substr(from, html.find('"', from) - from);
}

// An open GET /api/v1/events, read as it arrives.
class EventStream {
 public:
  EventStream(const std::string& base, const std::string& token) {
    const std::regex port_re(R"(:(\d+)$)");
    std::smatch m;
    std::regex_search(base, m, port_re);
    session_ = std::make_unique<Poco::Net::HTTPClientSession>(
        "127.0.0.1", static_cast<Poco::UInt16>(std::stoi(m[1])));
    session_->setTimeout(Poco::Timespan(kStreamLimitMs * 1000LL));
    Poco::Net::HTTPRequest request("GET", "/api/v1/events", Poco::Net::HTTPMessage::HTTP_1_1);
    if (!token.empty()) {
      request.set("Authorization", std::string("Bearer ") + token);
    }
    session_->sendRequest(request);
    in_ = &session_->receiveResponse(response_);
  }
  int status() const { return response_.getStatus(); }
  std::string content_type() const { return response_.getContentType(); }
  // Reads until `text` has arrived (true) or the stream ends or stalls past the limit (false).
  bool ReadUntil(const std::string& text) {
    std::array<char, 1024> buffer{};
    while (seen_.find(text) == std::string::npos) {
      try {
        in_->read(buffer.data(), 1);
        if (in_->gcount() <= 0) {
          return false;
        }
        seen_.append(buffer.data(), static_cast<std::size_t>(in_->gcount()));
      } catch (const std::exception&) {
        return false;
      }
    }
    return true;
  }
  // True once the server ended the stream (read returns end of file).
  bool Ends() {
    char c = 0;
    try {
      while (in_->read(&c, 1)) {
        seen_.push_back(c);
      }
      return true;
    } catch (const std::exception&) {
      return false;  // a timeout: the stream stayed open
    }
  }
  const std::string& seen() const { return seen_; }

 private:
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  Poco::Net::HTTPResponse response_;
  std::istream* in_ = nullptr;
  std::string seen_;
};

std::string Create(ServerHarness& h, const std::string& spec = ShopSpec()) {
  const auto created = h.Call("POST", "/api/v1/stacks", kEditorToken, spec);
  EXPECT_EQ(created.status, 202) << created.body;
  const auto body = ServerHarness::Json(created);
  std::string last;
  for (const auto& op : body["operations"]) {
    h.WaitOperation(op["id"]);
    last = op["id"];
  }
  return last;
}

TEST(ConsoleTest, PagesAreShellsWithAStrictPolicyNoInlineScriptAndNoDataWithTokens) {
  ServerHarness h;
  Create(h);
  for (const std::string path : kPages) {
    const auto page = h.Call("GET", path, "");  // a browser navigating sends no token
    EXPECT_EQ(page.status, 200) << path;
    EXPECT_THAT(page.Header("content-type"), HasSubstr("text/html")) << path;
    EXPECT_EQ(page.Header("content-security-policy"), kConsoleCsp) << path;
    EXPECT_EQ(page.Header("x-content-type-options"), "nosniff") << path;
    // Scripts only from the server, no inline script or style a policy would have to allow.
    const std::regex script(R"(<script(?![^>]*\bsrc=")[^>]*>)");
    EXPECT_FALSE(std::regex_search(page.body, script)) << path << "\n" << page.body;
    EXPECT_THAT(page.body, Not(HasSubstr(" style="))) << path;
    EXPECT_FALSE(std::regex_search(page.body, std::regex(R"(\son[a-z]+=)"))) << path;  // onclick=
    EXPECT_THAT(page.body, HasSubstr("<script src=\"/console/console.js?v=")) << path;
    EXPECT_THAT(page.body, HasSubstr("data-tokens=\"required\"")) << path;
  }
  // With tokens configured the page itself tells nothing about the stacks.
  const auto overview = h.Call("GET", "/", "");
  EXPECT_THAT(overview.body, Not(HasSubstr("data-stack=\"shop\"")));
  EXPECT_THAT(overview.body, HasSubstr("Sign in with an API token"));
  // Path parameters are escaped where the shells repeat them.
  const auto odd = h.Call("GET", "/stacks/%3Cb%3Ex%22/revisions", "");
  EXPECT_EQ(odd.status, 200);
  EXPECT_THAT(odd.body, HasSubstr("data-stack=\"&lt;b&gt;x&quot;\""));
  EXPECT_THAT(odd.body, Not(HasSubstr("<b>x")));
}

TEST(ConsoleTest, AssetsAreEmbeddedWithAnETagAndAnswer304WhenUnchanged) {
  ServerHarness h;
  for (const std::string name : {"console.js", "console.css"}) {
    const auto first = h.Call("GET", "/console/" + name, "");
    ASSERT_EQ(first.status, 200) << name;
    EXPECT_GT(first.body.size(), 1000U) << name;
    const std::string etag = first.Header("etag");
    ASSERT_FALSE(etag.empty());
    EXPECT_EQ(first.body, std::string(console::FindAsset(name)->body));
    const auto again = h.Call("GET", "/console/" + name, "", "", "", {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304) << name;
    EXPECT_TRUE(again.body.empty());
  }
  EXPECT_THAT(h.Call("GET", "/console/console.js", "").Header("content-type"),
              HasSubstr("javascript"));
  EXPECT_EQ(h.Call("GET", "/console/nope.js", "").status, 404);
  EXPECT_EQ(h.Call("GET", "/console/..%2Fconsole.js", "").status, 404);
}

TEST(ConsoleTest, WithoutTokensTheOverviewIsRenderedOnTheServerWorstFirstAndEscaped) {
  ServerHarness h(/*tokens=*/false);
  Create(h, ShopSpec());
  h.backend.fail_env = "dev";
  std::string other = ShopSpec();
  other.replace(other.find("metadata: {name: shop}"), 22,
                "metadata: {name: aaa, labels: {team: \"<b>ops</b>\"}}");
  Create(h, other);
  const auto page = h.Call("GET", "/", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr("data-tokens=\"none\""));
  // aaa/dev's apply was rolled back: it comes first, before aaa/staging, which is fine.
  const auto aaa_dev = page.body.find(R"(data-stack="aaa" data-env="dev")");
  const auto aaa_staging = page.body.find(R"(data-stack="aaa" data-env="staging")");
  const auto shop_dev = page.body.find(R"(data-stack="shop" data-env="dev")");
  ASSERT_NE(aaa_dev, std::string::npos) << page.body;
  ASSERT_NE(aaa_staging, std::string::npos);
  ASSERT_NE(shop_dev, std::string::npos);
  EXPECT_LT(aaa_dev, aaa_staging);
  EXPECT_LT(aaa_dev, shop_dev);
  EXPECT_EQ(TileClass(page.body, aaa_dev), "tile t-s-warn");
  EXPECT_EQ(TileClass(page.body, shop_dev), "tile t-s-none");  // not watched: no health
  EXPECT_THAT(page.body, HasSubstr("prometheus: reload refused"));
  EXPECT_THAT(page.body, HasSubstr("data-labels=\"team=&lt;b&gt;ops&lt;/b&gt;\""));
  EXPECT_THAT(page.body, Not(HasSubstr("<b>ops")));
  EXPECT_THAT(page.body, HasSubstr("href=\"/stacks/shop/environments/dev\""));
}

TEST(ConsoleTest, OverviewDataNeedsAViewerAndComesAsJsonOrTiles) {
  ServerHarness h;
  Create(h);
  EXPECT_EQ(h.Call("GET", "/api/v1/overview", "").status, 401);
  const auto json = ServerHarness::Json(h.Call("GET", "/api/v1/overview", kViewerToken));
  ASSERT_EQ(json["stacks"].size(), 1U) << json.dump();
  EXPECT_EQ(json["stacks"][0]["name"], "shop");
  EXPECT_EQ(json["stacks"][0]["environments"].size(), 2U);
  EXPECT_EQ(json["stacks"][0]["environments"][0]["state"], "ready");
  EXPECT_EQ(json["stacks"][0]["environments"][0]["applied_revision"], 1);
  const auto tiles = h.Call("GET", "/api/v1/overview?format=html", kViewerToken);
  EXPECT_EQ(tiles.status, 200);
  EXPECT_THAT(tiles.Header("content-type"), HasSubstr("text/html"));
  EXPECT_THAT(tiles.body, HasSubstr("data-stack=\"shop\" data-env=\"staging\""));
  const auto bad = h.Call("GET", "/api/v1/overview?format=xml", kViewerToken);
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("format"));
}

TEST(ConsoleTest, WhoamiTellsTheRoleSoThePageShowsOnlyButtonsItMayUse) {
  ServerHarness h;
  EXPECT_EQ(h.Call("GET", "/api/v1/whoami", "").status, 401);
  const auto viewer = ServerHarness::Json(h.Call("GET", "/api/v1/whoami", kViewerToken));
  EXPECT_EQ(viewer, (nlohmann::json{{"actor", "vera"}, {"role", "viewer"}}));
  const auto admin = ServerHarness::Json(h.Call("GET", "/api/v1/whoami", kAdminToken));
  EXPECT_EQ(admin, (nlohmann::json{{"actor", "ada"}, {"role", "admin"}}));
  ServerHarness open(/*tokens=*/false);
  EXPECT_EQ(ServerHarness::Json(open.Call("GET", "/api/v1/whoami", ""))["role"], "admin");
}

TEST(ConsoleTest, RevisionsCanBeReadWithTheirSpecAndRenderedForADiff) {
  ServerHarness h;
  Create(h);
  const auto put = h.Call("PUT", "/api/v1/stacks/shop", kEditorToken, ShopSpec("{tier: 2}"));
  ASSERT_EQ(put.status, 202) << put.body;
  const auto updated = ServerHarness::Json(put);
  for (const auto& op : updated["operations"]) {
    h.WaitOperation(op["id"]);
  }
  const auto one =
      ServerHarness::Json(h.Call("GET", "/api/v1/stacks/shop/revisions/1", kViewerToken));
  const auto two =
      ServerHarness::Json(h.Call("GET", "/api/v1/stacks/shop/revisions/2", kViewerToken));
  EXPECT_EQ(one["number"], 1);
  EXPECT_EQ(one["spec"]["spec"]["values"]["tier"], 1) << one.dump();
  EXPECT_EQ(two["spec"]["spec"]["values"]["tier"], 2);
  EXPECT_NE(one["spec_hash"], two["spec_hash"]);
  const auto r1 = ServerHarness::Json(
      h.Call("GET", "/api/v1/stacks/shop/revisions/1/environments/dev/rendered", kViewerToken));
  const auto r2 = ServerHarness::Json(
      h.Call("GET", "/api/v1/stacks/shop/revisions/2/environments/dev/rendered", kViewerToken));
  ASSERT_TRUE(r1["files"].contains("prometheus/prometheus.yml")) << r1.dump();
  EXPECT_NE(r1["files"]["prometheus/prometheus.yml"]["sha256"],
            r2["files"]["prometheus/prometheus.yml"]["sha256"]);
  EXPECT_EQ(h.Call("GET", "/api/v1/stacks/shop/revisions/3", kViewerToken).status, 404);
  EXPECT_EQ(h.Call("GET", "/api/v1/stacks/nope/revisions/1", kViewerToken).status, 404);
  EXPECT_EQ(
      h.Call("GET", "/api/v1/stacks/shop/revisions/1/environments/prod/rendered", kViewerToken)
          .status,
      404);
  for (const std::string bad : {"0", "-1", "x", "01", "9999999999999999999"}) {
    const auto r = h.Call("GET", "/api/v1/stacks/shop/revisions/" + bad, kViewerToken);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_THAT(r.body, HasSubstr("revision number")) << bad;
  }
}

TEST(ConsoleEventsTest, OperationStepsAndEndsAreStreamedToViewers) {
  ServerHarness h;
  {
    EventStream unauthenticated(h.base(), "");
    EXPECT_EQ(unauthenticated.status(), 401);
  }
  EventStream events(h.base(), kViewerToken);
  ASSERT_EQ(events.status(), 200);
  EXPECT_EQ(events.content_type(), "text/event-stream");
  ASSERT_TRUE(events.ReadUntil(": connected\n\n")) << events.seen();
  const std::string id = Create(h);
  ASSERT_TRUE(events.ReadUntil("\"id\":\"" + id + "\"")) << events.seen();
  ASSERT_TRUE(events.ReadUntil("\"state\":\"succeeded\"")) << events.seen();
  EXPECT_THAT(events.seen(), HasSubstr("event: operation\ndata: {"));
  EXPECT_THAT(events.seen(), HasSubstr("\"step\":{\"component\":\"\",\"name\":\"write\""));
  EXPECT_THAT(events.seen(), HasSubstr("\"stack\":\"shop\""));
}

// A token limited to some stacks gets only their events, as the other stacks do not exist for it.
TEST(ConsoleEventsTest, AScopedTokenGetsOnlyItsStacksEvents) {
  constexpr const char* kShopViewer = "shop-viewer-token-0123456789";
  ServerHarness h(true, [](ServerOptions& o) {
    std::ofstream(o.tokens_file, std::ios::app)
        << "- {name: sam, role: viewer, stacks: [shop], token_sha256: "
        << core::Sha256Hex(kShopViewer) << "}\n";
  });
  EventStream events(h.base(), kShopViewer);
  ASSERT_EQ(events.status(), 200);
  ASSERT_TRUE(events.ReadUntil(": connected\n\n")) << events.seen();
  std::string other = ShopSpec();
  other.replace(other.find("name: shop"), 10, "name: other");
  Create(h, other);  // published first: its events would arrive before shop's
  const std::string id = Create(h);
  ASSERT_TRUE(events.ReadUntil("\"id\":\"" + id + "\",\"kind\"")) << events.seen();
  ASSERT_TRUE(events.ReadUntil("\"state\":\"succeeded\"")) << events.seen();
  EXPECT_THAT(events.seen(), Not(HasSubstr("\"stack\":\"other\""))) << events.seen();
  EXPECT_THAT(events.seen(), HasSubstr("\"stack\":\"shop\""));
}

TEST(ConsoleEventsTest, AnIdleStreamGetsHeartbeats) {
  ServerHarness h(true,
                  [](ServerOptions& o) { o.event_heartbeat = std::chrono::milliseconds(20); });
  EventStream events(h.base(), kViewerToken);
  ASSERT_EQ(events.status(), 200);
  ASSERT_TRUE(events.ReadUntil(": heartbeat\n\n")) << events.seen();
}

TEST(ConsoleEventsTest, StreamsAreBoundedAndEndWithTheServer) {
  ServerHarness h(true, [](ServerOptions& o) { o.max_event_clients = 1; });
  auto first = std::make_unique<EventStream>(h.base(), kViewerToken);
  ASSERT_EQ(first->status(), 200);
  ASSERT_TRUE(first->ReadUntil(": connected\n\n"));
  {
    EventStream second(h.base(), kViewerToken);
    EXPECT_EQ(second.status(), 503);
  }
  // Stop() closes the bus: the stream ends at once instead of holding the server's shutdown.
  h.Close();
  EXPECT_TRUE(first->Ends()) << first->seen();
}

TEST(ConsoleEventsTest, AClientThatLeavesFreesItsStreamForTheNext) {
  console::EventBus bus({.max_clients = 1});
  ServerHarness h(true, [&bus](ServerOptions& o) { o.events = &bus; });
  {
    EventStream first(h.base(), kViewerToken);
    ASSERT_EQ(first.status(), 200);
    ASSERT_TRUE(first.ReadUntil(": connected\n\n"));
  }  // closed without a word: the server notices the closed socket, not a failed write
  // The stream's subscription ends once the server noticed; the bound only limits a failing
  // test (heartbeats are 15 s apart, so a pass cannot come from a heartbeat that failed to write).
  ASSERT_TRUE(bus.WaitClients(0, std::chrono::milliseconds(kStreamLimitMs)));
  EventStream next(h.base(), kViewerToken);
  EXPECT_EQ(next.status(), 200);
}

TEST(EventBusTest, ASlowSubscriberLosesItsQueueAndIsToldToResync) {
  console::EventBus bus({.max_clients = 2, .queue_limit = 3});
  auto slow = bus.Subscribe();
  auto fast = bus.Subscribe();
  ASSERT_NE(slow, nullptr);
  ASSERT_NE(fast, nullptr);
  EXPECT_EQ(bus.Subscribe(), nullptr);  // max_clients
  EXPECT_EQ(bus.clients(), 2U);
  for (int i = 0; i < 3; ++i) {
    bus.Publish("operation", {{"n", i}});
    EXPECT_EQ(fast->Wait(std::chrono::milliseconds(0)).events.size(), 1U);
  }
  bus.Publish("operation", {{"n", 3}});  // the fourth: over slow's limit
  const auto batch = slow->Wait(std::chrono::milliseconds(0));
  EXPECT_TRUE(batch.overflowed);
  EXPECT_TRUE(batch.events.empty());
  bus.Publish("health", {{"n", 4}});
  const auto after = slow->Wait(std::chrono::milliseconds(0));
  EXPECT_FALSE(after.overflowed);
  ASSERT_EQ(after.events.size(), 1U);
  EXPECT_EQ(after.events[0].type, "health");
  EXPECT_EQ(after.events[0].data, "{\"n\":4}");
  EXPECT_EQ(after.events[0].id, 5U);
  slow.reset();
  EXPECT_EQ(bus.clients(), 1U);
  bus.Close();
  EXPECT_TRUE(fast->Wait(std::chrono::hours(1)).closed);  // does not wait once closed
  EXPECT_EQ(bus.Subscribe(), nullptr);
}

TEST(EventBusTest, HealthTransitionsOfEnvironmentsAndComponentsAreFed) {
  console::EventBus bus;
  console::EventFeed feed(bus);
  auto sub = bus.Subscribe();
  health::Transition check{.scope = health::Transition::Scope::kCheck,
                           .stack = "shop",
                           .env = "dev",
                           .component = "prometheus",
                           .check = "ready",
                           .from = health::State::kOk,
                           .to = health::State::kFailing};
  health::Transition component = check;
  component.scope = health::Transition::Scope::kComponent;
  component.check = "";
  component.to = health::State::kDown;
  component.message = "prometheus/ready: timeout";
  feed.OnTransitions({check, component});
  const auto batch = sub->Wait(std::chrono::milliseconds(0));
  ASSERT_EQ(batch.events.size(), 1U);  // checks are summed up by their component
  const auto data = nlohmann::json::parse(batch.events[0].data);
  EXPECT_EQ(batch.events[0].type, "health");
  EXPECT_EQ(data["component"], "prometheus");
  EXPECT_EQ(data["from"], "ok");
  EXPECT_EQ(data["to"], "down");
  EXPECT_EQ(data["message"], "prometheus/ready: timeout");
}

TEST(ConsolePagesTest, ADownComponentMakesItsTileRedAndTheWorstComesFirst) {
  control::StatusStack stack{.name = "b", .revision = 2};
  stack.environments.push_back({.name = "ok", .state = "ready", .health = "ok"});
  stack.environments.push_back({.name = "frozen",
                                .state = "ready",
                                .health = "degraded",
                                .components = {{.name = "prometheus", .health = "down"},
                                               {.name = "alertmanager", .health = "ok"}}});
  stack.environments.push_back({.name = "slow", .state = "ready", .health = "degraded"});
  control::StatusStack first{.name = "a", .revision = 1};
  first.environments.push_back({.name = "new"});
  const std::string html = console::RenderTiles({first, stack});
  const auto frozen = html.find("data-env=\"frozen\"");
  const auto slow = html.find("data-env=\"slow\"");
  const auto fresh = html.find("data-env=\"new\"");
  const auto ok = html.find("data-env=\"ok\"");
  ASSERT_NE(frozen, std::string::npos);
  EXPECT_LT(frozen, slow);
  EXPECT_LT(slow, fresh);
  EXPECT_LT(fresh, ok);
  EXPECT_EQ(TileClass(html, frozen), "tile t-s-bad");
  EXPECT_EQ(TileClass(html, slow), "tile t-s-warn");
  EXPECT_EQ(TileClass(html, ok), "tile t-s-ok");
  EXPECT_THAT(console::RenderTiles({}), HasSubstr("No stacks yet."));
}

}  // namespace
}  // namespace obsforge::server::testing
