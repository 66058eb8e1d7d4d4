// Health and Slack wired into the server: the health parts of `serve` (app::HealthWiring) around
// the harness's FakeBackend, real Prometheus and Alertmanager from PATH, Slack faked on loopback,
// the SQLite store for history and the outbox.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/health_wiring.h"
#include "console/pages.h"
#include "control/application.h"
#include "core/fs.h"
#include "fakes/fake_slack.h"
#include "gitops/sync.h"
#include "server/harness.h"
#include "server/health_routes.h"
#include "spec/stack.h"
#include "support/monitor_wait.h"
#include "support/real_upstreams.h"

namespace obsforge::server {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;
namespace support = ::obsforge::testing;
using control::HealthRuntime;
using control::StoredSpec;
using control::StoreOutbox;
using control::WatchFor;

const ::testing::Environment* const kCurl =
    ::testing::AddGlobalTestEnvironment(new testing::CurlEnvironment);

const std::string kKey = "{secret: SLACK_TEST_WEBHOOK}";

// A spec whose environments get 200 ms checks and Slack messages.
std::string HealthSpec(const std::string& name = "shop", const std::string& runtime = "local") {
  return "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: " + name +
         "}\nspec:\n"
         "  components:\n    prometheus: {enabled: true}\n    alertmanager: {enabled: true}\n"
         "  health:\n    interval: 200ms\n    timeout: 1s\n    failure_threshold: 3\n"
         "    slack: {webhook: {secret: SLACK_TEST_WEBHOOK}, channel: \"#obs-health\"}\n"
         "  environments:\n    dev: {runtime: {type: " +
         runtime + "}}\n";
}

// A server whose application runs the FakeBackend with the health parts of `serve`; component
// URLs come from `urls` (the test's real Prometheus and Alertmanager).
class HealthServer {
 public:
  HealthServer(const fs::path& dir,
               std::string slack_url,
               std::map<std::string, std::string> urls,
               milliseconds damping = milliseconds(0))
      : dir_(dir), slack_url_(std::move(slack_url)), urls_(std::move(urls)), damping_(damping) {
    options_.listen = "127.0.0.1:0";
    options_.data_dir = dir / "var";
    options_.content_dir = dir / "content";
    options_.drain_timeout = milliseconds(5000);
    // The specs name the webhook as {secret: SLACK_TEST_WEBHOOK}: shared with every stack.
    options_.trust.shared = {{.name = "SLACK_TEST_WEBHOOK", .env = "SLACK_TEST_WEBHOOK"}};
    fs::create_directories(options_.data_dir);
    fs::create_directories(options_.content_dir);
    Open();
  }
  ~HealthServer() { Close(); }
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;
  HealthServer(HealthServer&&) = delete;
  HealthServer& operator=(HealthServer&&) = delete;

  void Open() {
    auto store = store::SqliteStore::Open({.path = (dir_ / "obsforge.db").string()}, clock_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    const std::string slack = slack_url_;
    wiring_ = std::make_unique<app::HealthWiring>(
        app::HealthOptions{
            .notifier = {.min_interval = milliseconds(20),
                         .backoff_initial = milliseconds(50),
                         .poll = milliseconds(20)},
            .monitor = {.prober = {.spread_first_run = false}, .damping_window = damping_},
            .defaults = {.env_lookup =
                             [slack](const std::string& name) -> std::optional<std::string> {
              if (name == "SLACK_TEST_WEBHOOK") {
                return slack;
              }
              return std::nullopt;
            }}},
        *store_, backend, client_, clock_, logger_,
        [this](const spec::StackSpec&, const std::string&) { return urls_; });
    app_ = std::make_unique<control::Application>(ApplicationOptionsFrom(options_), *store_,
                                                  backend, clock_, logger_, &wiring_->runtime());
    server_ = std::make_unique<Server>(options_, *app_, logger_);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.error().message;
    base_ = "http://127.0.0.1:" + std::to_string(*port);
  }
  void Close() {
    if (server_) {
      server_->Stop();
    }
    server_.reset();
    app_.reset();
    wiring_.reset();
    store_.reset();
  }

  http::Response Call(const std::string& method,
                      const std::string& path,
                      const std::string& body = "") {
    http::Request request{.method = method, .url = base_ + path, .body = body};
    if (!body.empty()) {
      request.headers.emplace_back("Content-Type", "application/yaml");
    }
    auto response = client_.Send(request);
    EXPECT_TRUE(response.ok()) << (response.ok() ? "" : response.error().message);
    return response.ok() ? *response : http::Response{};
  }
  nlohmann::json Get(const std::string& path) {
    return nlohmann::json::parse(Call("GET", path).body, nullptr, false);
  }
  // Creates the stack and waits for its operations to finish.
  void Create(const std::string& spec) {
    const auto created = Call("POST", "/api/v1/stacks", spec);
    ASSERT_EQ(created.status, 202) << created.body;
    const auto reply = nlohmann::json::parse(created.body);
    ASSERT_FALSE(reply["operations"].empty()) << created.body;
    for (const auto& op : reply["operations"]) {
      const std::string id = op.is_object() ? op.value("id", "") : op.get<std::string>();
      ASSERT_TRUE(support::PollUntil([&] {
        const std::string state = Get("/api/v1/operations/" + id).value("state", "");
        return state == "succeeded" || state == "failed" || state == "rolled_back";
      }));
    }
  }
  std::string HealthState(const std::string& stack = "shop") {
    return Get("/api/v1/stacks/" + stack + "/environments/dev/health").value("state", "");
  }

  testing::FakeBackend backend;
  HealthRuntime& runtime() { return wiring_->runtime(); }
  store::Store& store() { return *store_; }
  Server& server() { return *server_; }
  std::string logs() const { return log_.str(); }

 private:
  fs::path dir_;
  std::string slack_url_;
  std::map<std::string, std::string> urls_;
  milliseconds damping_;
  std::ostringstream log_;
  core::Logger logger_{log_, core::LogLevel::kDebug};
  core::SystemClock clock_;
  ServerOptions options_;
  http::CurlHttpClient client_{http::CurlOptions{}};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<app::HealthWiring> wiring_;
  std::unique_ptr<control::Application> app_;
  std::unique_ptr<Server> server_;
  std::string base_;
};

class RealUpstreams {
 public:
  explicit RealUpstreams(fs::path dir) : dir_(std::move(dir)) {}

  void StartPrometheus(const fs::path& binary, const std::string& scrape_configs = "") {
    if (prom_port_ == 0) {
      prom_port_ = support::FreeLoopbackPort();
      std::ofstream(dir_ / "prometheus.yml")
          << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
          << scrape_configs;
    }
    prometheus_ = std::make_unique<support::UpstreamProcess>(
        binary,
        std::vector<std::string>{"--config.file=" + (dir_ / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir_ / "prom-data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(prom_port_)},
        dir_ / "prometheus.log");
    ASSERT_TRUE(support::WaitUntilReady(client_, PromUrl() + "/-/ready"));
  }
  void StopPrometheus() { prometheus_->Stop(); }
  void StartAlertmanager(const fs::path& binary) {
    am_port_ = support::FreeLoopbackPort();
    std::ofstream(dir_ / "alertmanager.yml")
        << "route: {receiver: none}\nreceivers: [{name: none}]\n";
    alertmanager_ = std::make_unique<support::UpstreamProcess>(
        binary,
        std::vector<std::string>{"--config.file=" + (dir_ / "alertmanager.yml").string(),
                                 "--storage.path=" + (dir_ / "am-data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(am_port_),
                                 "--cluster.listen-address="},
        dir_ / "alertmanager.log");
    ASSERT_TRUE(support::WaitUntilReady(client_, AmUrl() + "/-/ready"));
  }
  std::string PromUrl() const { return "http://127.0.0.1:" + std::to_string(prom_port_); }
  std::string AmUrl() const { return "http://127.0.0.1:" + std::to_string(am_port_); }
  int prom_port() const { return prom_port_; }
  std::map<std::string, std::string> Urls() const {
    return {{"prometheus", PromUrl()}, {"alertmanager", AmUrl()}};
  }

 private:
  fs::path dir_;
  http::CurlHttpClient client_{http::CurlOptions{}};
  int prom_port_ = 0;
  int am_port_ = 0;
  std::unique_ptr<support::UpstreamProcess> prometheus_;
  std::unique_ptr<support::UpstreamProcess> alertmanager_;
};

std::vector<std::string> Texts(const fakes::FakeSlack& slack) {
  std::vector<std::string> out;
  for (const auto& m : slack.Messages()) {
    out.push_back(m.value("text", ""));
  }
  return out;
}

// Whether every check of `component` in the health document `health` is in `state`.
bool AllChecksAre(const nlohmann::json& health,
                  const std::string& component,
                  const std::string& state) {
  for (const auto& c : health["components"]) {
    if (c["name"] == component) {
      return std::all_of(c["checks"].begin(), c["checks"].end(),
                         [&](const nlohmann::json& k) { return k["state"] == state; });
    }
  }
  return false;
}

const nlohmann::json* FindCheck(const nlohmann::json& health,
                                const std::string& component,
                                const std::string& check) {
  for (const auto& c : health["components"]) {
    for (const auto& k : c["checks"]) {
      if (c["name"] == component && k["name"] == check) {
        return &k;
      }
    }
  }
  return nullptr;
}

TEST(HealthE2eTest, KillingPrometheusDegradesTheEnvironmentWithOneMessageAndOneOnRecovery) {
  REQUIRE_BINARY(prometheus, "prometheus");
  REQUIRE_BINARY(alertmanager, "prometheus-alertmanager");
  TempDir dir;
  RealUpstreams upstreams(dir.path());
  upstreams.StartPrometheus(*prometheus);
  upstreams.StartAlertmanager(*alertmanager);
  fakes::FakeSlack slack;
  HealthServer server(dir.path(), slack.WebhookUrl(), upstreams.Urls());

  server.Create(HealthSpec());
  // The apply outcome is announced, on the channel of the spec.
  ASSERT_TRUE(slack.WaitForMessages(1, std::chrono::seconds(60)));
  EXPECT_THAT(slack.Messages()[0]["text"].get<std::string>(),
              HasSubstr("shop/dev: apply succeeded"));
  EXPECT_EQ(slack.Messages()[0]["channel"], "#obs-health");
  // Every check has run once (checks not yet run leave the environment's state alone).
  ASSERT_TRUE(support::PollUntil([&] {
    const auto h = server.Get("/api/v1/stacks/shop/environments/dev/health");
    const auto* ready = FindCheck(h, "prometheus", "ready");
    return h["state"] == "ok" && ready != nullptr && (*ready)["state"] == "ok";
  })) << server.Get("/api/v1/stacks/shop/environments/dev/health").dump(2);
  const auto healthy = server.Get("/api/v1/stacks/shop/environments/dev/health");
  EXPECT_EQ(healthy["watched"], true);
  ASSERT_NE(FindCheck(healthy, "prometheus", "ready"), nullptr);
  EXPECT_EQ((*FindCheck(healthy, "prometheus", "ready"))["state"], "ok");

  upstreams.StopPrometheus();
  ASSERT_TRUE(slack.WaitForMessages(2, std::chrono::seconds(60)));
  EXPECT_EQ(server.HealthState(), "degraded");
  const std::string why = slack.Messages()[1]["text"];
  EXPECT_THAT(why, HasSubstr("shop/dev is degraded (was ok): prometheus/"));
  EXPECT_THAT(why, HasSubstr("Failed to connect to 127.0.0.1 port " +
                             std::to_string(upstreams.prom_port())));
  // Threshold crossed by the other prometheus checks later: still one message, once every
  // prometheus check is failing, the runs that made them so are handled and what they enqueued
  // is delivered.
  auto& monitor = server.runtime().monitor();
  ASSERT_TRUE(support::PollUntil([&] {
    return AllChecksAre(server.Get("/api/v1/stacks/shop/environments/dev/health"), "prometheus",
                        "failing");
  })) << server.Get("/api/v1/stacks/shop/environments/dev/health").dump(2);
  ASSERT_TRUE(
      support::WaitRunsHandledAfter(monitor, "shop", "dev", std::chrono::system_clock::now()));
  ASSERT_TRUE(support::PollUntil([&] { return server.store().ListPendingOutbox(0)->empty(); }));
  EXPECT_EQ(slack.Messages().size(), 2U) << ::testing::PrintToString(Texts(slack));

  // Health API: the component is down, each failing check with its last error.
  const auto degraded = server.Get("/api/v1/stacks/shop/environments/dev/health");
  for (const auto& c : degraded["components"]) {
    EXPECT_EQ(c["state"], c["name"] == "prometheus" ? "down" : "ok") << c.dump();
  }
  const auto* ready = FindCheck(degraded, "prometheus", "ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["state"], "failing");
  EXPECT_THAT((*ready)["last_error"].get<std::string>(), HasSubstr("Failed to connect"));

  // History: the environment went ok → degraded, stored in the store.
  const auto history = server.Get("/api/v1/stacks/shop/environments/dev/health/history");
  bool found = false;
  for (const auto& event : history["events"]) {
    if (event["scope"] == "environment" && event["from"] == "ok" && event["to"] == "degraded") {
      found = true;
      EXPECT_THAT(event["message"].get<std::string>(), HasSubstr("prometheus/"));
    }
  }
  EXPECT_TRUE(found) << history.dump(2);
  // `since` after every event: none.
  EXPECT_TRUE(
      server
          .Get("/api/v1/stacks/shop/environments/dev/health/history?since=2999-01-01T00:00:00Z")
              ["events"]
          .empty());

  // /metrics carries the check states and stays valid for promtool.
  const auto metrics = server.Call("GET", "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("obsforge_check_up{stack=\"shop\",env=\"dev\",component="
                                 "\"prometheus\",check=\"ready\"} 0"));
  EXPECT_THAT(metrics, HasSubstr("obsforge_check_up{stack=\"shop\",env=\"dev\",component="
                                 "\"alertmanager\",check=\"ready\"} 1"));
  if (support::FindOnPath("promtool")) {
    const auto file = dir.path() / "metrics.txt";
    core::WriteFileAtomic(file, metrics, 0600);
    const std::string cmd = "promtool check metrics < " + file.string() + " > " +
                            (dir.path() / "promtool.out").string() + " 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << core::ReadFile(dir.path() / "promtool.out");
  }

  // The console's overview shows the stack, its health and the failing check; Prometheus is
  // down, so its tile is red.
  const auto page = server.Call("GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.Header("content-type"), HasSubstr("text/html"));
  EXPECT_THAT(page.body, HasSubstr("<a class=\"tile t-s-bad\" href=\"/stacks/shop/environments/"
                                   "dev\" data-stack=\"shop\" data-env=\"dev\""));
  EXPECT_THAT(page.body, HasSubstr("<span class=\"badge s-warn\">degraded</span>"));
  EXPECT_THAT(page.body, HasSubstr("prometheus/ready: GET " + upstreams.PromUrl()));

  upstreams.StartPrometheus(*prometheus);
  ASSERT_TRUE(slack.WaitForMessages(3, std::chrono::seconds(60)));
  EXPECT_EQ(slack.Messages()[2]["text"], "shop/dev recovered (was degraded)");
  ASSERT_TRUE(support::PollUntil([&] {
    const auto h = server.Get("/api/v1/stacks/shop/environments/dev/health");
    return AllChecksAre(h, "prometheus", "ok") && AllChecksAre(h, "alertmanager", "ok");
  })) << server.Get("/api/v1/stacks/shop/environments/dev/health").dump(2);
  ASSERT_TRUE(
      support::WaitRunsHandledAfter(monitor, "shop", "dev", std::chrono::system_clock::now()));
  ASSERT_TRUE(support::PollUntil([&] { return server.store().ListPendingOutbox(0)->empty(); }));
  EXPECT_EQ(slack.Messages().size(), 3U) << ::testing::PrintToString(Texts(slack));
  EXPECT_EQ(server.HealthState(), "ok");
  server.Close();
  // The webhook URL (the credential) is never logged.
  EXPECT_THAT(server.logs(), Not(HasSubstr("T0FAKE/B0FAKE")));
}

TEST(HealthE2eTest, DownScrapeTargetShowsInHealthWithItsError) {
  REQUIRE_BINARY(prometheus, "prometheus");
  REQUIRE_BINARY(alertmanager, "prometheus-alertmanager");
  TempDir dir;
  RealUpstreams upstreams(dir.path());
  const int dead = support::FreeLoopbackPort();
  upstreams.StartPrometheus(*prometheus,
                            "scrape_configs:\n- job_name: dead\n"
                            "  static_configs: [{targets: ['127.0.0.1:" +
                                std::to_string(dead) + "']}]\n");
  upstreams.StartAlertmanager(*alertmanager);
  HealthServer server(dir.path(), "http://127.0.0.1:9/unused", upstreams.Urls());
  server.Create(HealthSpec());
  nlohmann::json health;
  ASSERT_TRUE(support::PollUntil([&] {
    health = server.Get("/api/v1/stacks/shop/environments/dev/health");
    const auto* targets = FindCheck(health, "prometheus", "targets");
    return targets != nullptr && (*targets)["state"] == "failing";
  })) << health.dump(2);
  EXPECT_EQ(health["state"], "degraded");
  const auto& targets = *FindCheck(health, "prometheus", "targets");
  EXPECT_THAT(targets["last_error"].get<std::string>(),
              HasSubstr("1 of 1 targets down: dead http://127.0.0.1:" + std::to_string(dead) +
                        "/metrics: "));
  EXPECT_EQ(targets["value"], 0.0);
}

TEST(HealthE2eTest, TeardownStopsWatchingAndUnknownEnvironmentsAre404) {
  TempDir dir;
  HealthServer server(dir.path(), "http://127.0.0.1:9/unused",
                      {{"prometheus", "http://127.0.0.1:9"}});
  server.Create(HealthSpec());
  EXPECT_EQ(server.Get("/api/v1/stacks/shop/environments/dev/health")["watched"], true);
  EXPECT_TRUE(server.runtime().monitor().Status("shop", "dev").has_value()) << server.logs();
  EXPECT_EQ(server.Call("GET", "/api/v1/stacks/shop/environments/prod/health").status, 404);
  EXPECT_EQ(server.Call("GET", "/api/v1/stacks/nope/environments/dev/health").status, 404);
  const auto bad =
      server.Call("GET", "/api/v1/stacks/shop/environments/dev/health/history?since=x");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("must be an RFC 3339 time or Unix milliseconds, got \\\"x\\\""));

  // The health routes and the console's overview are in the OpenAPI document.
  const auto doc = server.Get("/api/v1/openapi.json");
  for (const std::string path : {"/", "/api/v1/stacks/{name}/environments/{env}/health",
                                 "/api/v1/stacks/{name}/environments/{env}/health/history"}) {
    ASSERT_TRUE(doc["paths"].contains(path)) << path;
    EXPECT_EQ(doc["paths"][path].size(), 1U) << path;
    EXPECT_EQ(doc["paths"][path]["get"]["responses"].contains("403"), path != "/") << path;
    const RouteMatch match = server.server().router().Find(
        "GET", path == "/" ? "/"
                           : "/api/v1/stacks/a/environments/b/health" +
                                 std::string(path.ends_with("history") ? "/history" : ""));
    ASSERT_NE(match.route, nullptr) << path;
    // The console's pages need no token (a browser navigating has none to send); their data
    // does.
    EXPECT_EQ(match.route->role, path == "/" ? Role::kNone : Role::kViewer) << path;
  }
  EXPECT_TRUE(
      doc["paths"]["/api/v1/stacks/{name}/environments/{env}/health/history"]["get"].dump().find(
          "since") != std::string::npos);

  const auto deleted = server.Call("DELETE", "/api/v1/stacks/shop");
  ASSERT_EQ(deleted.status, 202) << deleted.body;
  ASSERT_TRUE(
      support::PollUntil([&] { return !server.runtime().monitor().Status("shop", "dev"); }));
}

TEST(HealthE2eTest, RolledBackApplyIsAnnouncedWithItsReason) {
  TempDir dir;
  fakes::FakeSlack slack;
  HealthServer server(dir.path(), slack.WebhookUrl(), {{"prometheus", "http://127.0.0.1:9"}});
  server.backend.fail_env = "dev";
  server.Create(HealthSpec());
  ASSERT_TRUE(slack.WaitForMessages(1, std::chrono::seconds(60)));
  const auto message = slack.Messages()[0];
  EXPECT_EQ(message["text"],
            ":leftwards_arrow_with_hook: shop/dev: apply rolled back: prometheus: reload refused");
  EXPECT_EQ(message["blocks"][0]["text"]["text"],
            ":leftwards_arrow_with_hook: shop/dev: apply rolled back");
  // The environment still runs its last good revision: it stays watched.
  EXPECT_TRUE(server.runtime().monitor().Status("shop", "dev").has_value());
}

// A broken gitops commit goes to the Slack webhooks of the stacks the source manages (from their
// stored specs), once per webhook and channel; stacks of other sources hear nothing.
TEST(HealthE2eTest, BrokenGitOpsCommitIsAnnouncedOnTheManagedStacksWebhook) {
  TempDir dir;
  fakes::FakeSlack slack;
  HealthServer server(dir.path(), slack.WebhookUrl(), {{"prometheus", "http://127.0.0.1:9"}});
  auto stored = [&](const std::string& name, const std::string& actor) {
    auto content = spec::MakeMemorySource({});
    const spec::StackSpec parsed = spec::ParseStack(HealthSpec(name), name + ".yaml", *content);
    ASSERT_TRUE(server.store()
                    .CreateStack(name, {.spec_json = parsed.document.dump(),
                                        .spec_hash = parsed.Hash(),
                                        .source = store::RevisionSource::kGit,
                                        .commit_sha = "1111111",
                                        .actor = actor})
                    .ok());
  };
  stored("shop", "file:///repo#main:stacks");
  stored("cart", "file:///repo#main:stacks");  // same webhook and channel: the same message
  stored("other", "file:///elsewhere#main:stacks");
  gitops::SyncReport report;
  report.outcome = gitops::SyncReport::Outcome::kBroken;
  report.commit.sha = "2222222222222222";
  report.diagnostics.push_back({.file = "stacks/shop.yaml",
                                .line = 9,
                                .column = 3,
                                .path = "spec.bogus",
                                .message = "unknown key"});
  server.runtime().ReportBrokenCommit("file:///repo#main:stacks", report, "op-7");
  // ReportBrokenCommit enqueued every message before it returned: once none is pending, all
  // reached Slack.
  ASSERT_TRUE(support::PollUntil([&] { return server.store().ListPendingOutbox(0)->empty(); }));
  ASSERT_EQ(slack.Messages().size(), 1U);
  const auto message = slack.Messages()[0];
  EXPECT_EQ(message["channel"], "#obs-health");
  EXPECT_THAT(message["text"].get<std::string>(),
              ::testing::StartsWith(":x: gitops: commit 222222222222 is broken: "));
  EXPECT_THAT(message["blocks"][1]["text"]["text"].get<std::string>(),
              HasSubstr("Nothing was applied to *cart*, *shop*; the last good commit stays live."));
  EXPECT_THAT(message["blocks"][2]["text"]["text"].get<std::string>(),
              HasSubstr("stacks/shop.yaml:9:3"));
}

TEST(HealthE2eTest, ExternalEnvironmentsAreWatchedAgainAfterARestart) {
  TempDir dir;
  auto server = std::make_unique<HealthServer>(
      dir.path(), "http://127.0.0.1:9/unused",
      std::map<std::string, std::string>{{"prometheus", "http://127.0.0.1:9"}});
  server->Create(HealthSpec("ext", "external, prometheus: {url: \"http://127.0.0.1:9\"}"));
  ASSERT_TRUE(server->runtime().monitor().Status("ext", "dev").has_value());
  server->Close();
  server->Open();
  // No operation re-applies an external environment; the stored state brings the watch back.
  EXPECT_TRUE(server->runtime().monitor().Status("ext", "dev").has_value());
  EXPECT_EQ(server->backend.calls().size(), 1U);
}

// The outbox is the store's: a restart delivers what was left, once, in order, and nothing that
// was delivered before.
TEST(HealthOutboxTest, RestartDeliversEachUndeliveredMessageOnce) {
  TempDir dir;
  fakes::FakeSlack slack;
  core::SystemClock clock;
  http::CurlHttpClient client{http::CurlOptions{}};
  const notify::NotifierOptions options{.min_interval = milliseconds(10), .poll = milliseconds(20)};
  {
    auto store = store::SqliteStore::Open({.path = (dir.path() / "db").string()}, clock);
    ASSERT_TRUE(store.ok());
    StoreOutbox outbox(**store);
    notify::Notifier notifier(options, outbox, client, clock, core::NullLogger());
    notifier.AddWebhook(kKey, core::Secret(slack.WebhookUrl()));
    ASSERT_TRUE(notifier.Post(kKey, {{"text", "m0"}}).ok());
    ASSERT_TRUE(slack.WaitForMessages(1, std::chrono::seconds(30)));
    notifier.Stop();
    // Enqueued but never sent before the "crash".
    for (int i = 1; i <= 4; ++i) {
      ASSERT_TRUE(notifier.Post(kKey, {{"text", "m" + std::to_string(i)}}).ok());
    }
  }
  auto store = store::SqliteStore::Open({.path = (dir.path() / "db").string()}, clock);
  ASSERT_TRUE(store.ok());
  ASSERT_EQ((*store)->ListPendingOutbox(0)->size(), 4U);
  StoreOutbox outbox(**store);
  notify::Notifier notifier(options, outbox, client, clock, core::NullLogger());
  notifier.AddWebhook(kKey, core::Secret(slack.WebhookUrl()));
  ASSERT_TRUE(slack.WaitForMessages(5, std::chrono::seconds(30)));
  ASSERT_TRUE(support::PollUntil([&] { return (*store)->ListPendingOutbox(0)->empty(); }));
  notifier.Stop();  // joins the sender: a duplicate would be counted now
  EXPECT_EQ(Texts(slack), (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
}

TEST(HealthOutboxTest, RateLimitStormDeliversEverythingInOrderOnce) {
  TempDir dir;
  fakes::FakeSlack slack;
  core::SystemClock clock;
  http::CurlHttpClient client{http::CurlOptions{}};
  auto store = store::SqliteStore::Open({.path = (dir.path() / "db").string()}, clock);
  ASSERT_TRUE(store.ok());
  StoreOutbox outbox(**store);
  notify::Notifier notifier({.min_interval = milliseconds(10), .poll = milliseconds(20)}, outbox,
                            client, clock, core::NullLogger());
  slack.RateLimitNext(3, 1);
  std::vector<std::string> expected;
  for (int i = 0; i < 6; ++i) {
    expected.push_back("m" + std::to_string(i));
    ASSERT_TRUE(notifier.Post(kKey, {{"text", expected.back()}}).ok());
  }
  notifier.AddWebhook(kKey, core::Secret(slack.WebhookUrl()));
  ASSERT_TRUE(slack.WaitForMessages(6, std::chrono::seconds(30)));
  ASSERT_TRUE(support::PollUntil([&] { return (*store)->ListPendingOutbox(0)->empty(); }));
  notifier.Stop();  // joins the sender: a duplicate would be counted now
  EXPECT_EQ(Texts(slack), expected);
  EXPECT_EQ(slack.Attempts(), 9);
}

TEST(HealthRoutesTest, ParseTimeMsAcceptsRfc3339AndMilliseconds) {
  EXPECT_EQ(ParseTimeMs("0"), 0);
  EXPECT_EQ(ParseTimeMs("1700000000123"), 1700000000123);
  EXPECT_EQ(ParseTimeMs("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(ParseTimeMs("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(ParseTimeMs("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(ParseTimeMs("2026-11-22T03:01:29.123Z"), 1795316489123);
  EXPECT_EQ(ParseTimeMs("yesterday"), std::nullopt);
  EXPECT_EQ(ParseTimeMs("2026-13-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseTimeMs(""), std::nullopt);
}

TEST(HealthWatcherTest, WatchForReadsTheHealthSectionAndTheUrls) {
  auto stack = StoredSpec("shop", R"({"apiVersion":"obsforge/v1","kind":"Stack",
    "metadata":{"name":"shop"},"spec":{
      "health":{"interval":"2s","failure_threshold":5,"canaries":true,
                "notify":{"flap_window":"0s"},
                "slack":{"webhook":{"secret":"HOOK"},"channel":"#c"}},
      "environments":{"prod":{"runtime":{"type":"external",
        "loki":{"url":"http://loki:3100","tenant":"t1"},
        "grafana":{"url":"http://g:3000","token":{"secret":"GTOKEN"}}}}}}})");
  ASSERT_TRUE(stack.ok()) << stack.error().message;
  EXPECT_EQ(stack->environments, std::vector<std::string>{"prod"});
  const auto settings =
      WatchFor(*stack, "prod",
               {{"prometheus", "http://p:9090/"},
                {"loki", "http://loki:3100"},
                {"grafana", "http://g:3000"},
                {"otel_collector", "http://o:13133"}},
               {.env_lookup = [](const std::string& n) -> std::optional<std::string> {
                 return n == "GTOKEN" ? std::optional<std::string>("tok") : std::nullopt;
               }});
  const auto& w = settings.watch;
  EXPECT_EQ(w.options.interval, milliseconds(2000));
  EXPECT_EQ(w.options.timeout, milliseconds(5000));
  EXPECT_TRUE(w.options.canaries);
  EXPECT_EQ(w.failure_threshold, 5);
  EXPECT_EQ(w.endpoints.prometheus, "http://p:9090");
  EXPECT_EQ(w.endpoints.alertmanager, "");
  EXPECT_EQ(w.endpoints.loki_tenant, "t1");
  EXPECT_EQ(w.endpoints.otelcol_health, "http://o:13133/");
  EXPECT_EQ(w.endpoints.grafana_token.Reveal(), "tok");
  EXPECT_EQ(w.grafana_url, "http://g:3000");
  EXPECT_EQ(w.slack_channel_key, "{secret: HOOK}");
  EXPECT_EQ(w.slack_channel, "#c");
  EXPECT_EQ(w.flap_window, milliseconds(0));  // damping off for this environment
  EXPECT_THROW(WatchFor(*stack, "dev", {}, {}), core::InputError);
  EXPECT_FALSE(StoredSpec("x", "[1]").ok());
}

TEST(ConsolePageTest, EscapesEverythingItRenders) {
  const std::vector<control::StatusStack> stacks = {
      {.name = "<script>alert(1)</script>",
       .revision = 3,
       .labels = {{"team", "a&b"}},
       .environments = {{.name = "dev\"x",
                         .state = "ready",
                         .health = "down",
                         .failing = {"prometheus/ready: a & b"},
                         .components = {{.name = "prometheus",
                                         .state = "running",
                                         .url = "http://h:1/?a=1&b='2'",
                                         .health = "down"}}}},
       .operations = {{.id = "op-1", .kind = "create<i>", .env = "dev\"x", .state = "failed"}}}};
  const std::string tiles = console::RenderTiles(stacks);
  EXPECT_THAT(tiles, Not(HasSubstr("<script>")));
  EXPECT_THAT(tiles, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(tiles, HasSubstr("dev&quot;x"));
  EXPECT_THAT(tiles, HasSubstr("prometheus/ready: a &amp; b"));
  EXPECT_THAT(tiles, HasSubstr("data-labels=\"team=a&amp;b\""));
  EXPECT_THAT(tiles, HasSubstr("create&lt;i&gt;"));
  EXPECT_THAT(tiles, HasSubstr("<span class=\"badge s-bad\">down</span>"));
  const std::string page = console::RenderPage({.title = "<t>",
                                                .data = {{"stack", "\"><script>"}},
                                                .version = "1<2",
                                                .generated_at = "now",
                                                .content = tiles});
  EXPECT_THAT(page, HasSubstr("<title>&lt;t&gt; &middot; obsforge</title>"));
  EXPECT_THAT(page, HasSubstr("data-stack=\"&quot;&gt;&lt;script&gt;\""));
  EXPECT_THAT(page, HasSubstr("obsforge 1&lt;2"));
  EXPECT_EQ(console::HtmlEscape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}

}  // namespace
}  // namespace obsforge::server
