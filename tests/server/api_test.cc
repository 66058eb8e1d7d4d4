#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/fs.h"
#include "fakes/fake_server.h"
#include "server/harness.h"

namespace obsforge::server::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

::testing::Environment* const kCurl = ::testing::AddGlobalTestEnvironment(new CurlEnvironment);

// Creates the shop stack and waits for both create operations.
nlohmann::json CreateShop(ServerHarness& h) {
  const http::Response r = h.Call("POST", "/api/v1/stacks", kEditorToken, ShopSpec());
  EXPECT_EQ(r.status, 202) << r.body;
  nlohmann::json body = ServerHarness::Json(r);
  for (const auto& op : body["operations"]) {
    EXPECT_EQ(h.WaitOperation(op["id"])["state"], "succeeded");
  }
  return body;
}

TEST(ServerApi, CreateGetUpdateDeleteLifecycle) {
  ServerHarness h;
  const http::Response created = h.Call("POST", "/api/v1/stacks", kEditorToken, ShopSpec());
  ASSERT_EQ(created.status, 202) << created.body;
  EXPECT_EQ(created.Header("Location"), "/api/v1/stacks/shop");
  nlohmann::json body = ServerHarness::Json(created);
  EXPECT_EQ(body["stack"], "shop");
  EXPECT_EQ(body["revision"], 1);
  ASSERT_EQ(body["operations"].size(), 2U);
  EXPECT_EQ(body["operations"][0]["kind"], "create");
  EXPECT_EQ(body["operations"][0]["env"], "dev");
  EXPECT_EQ(body["operations"][1]["env"], "staging");
  const nlohmann::json op = h.WaitOperation(body["operations"][0]["id"]);
  EXPECT_EQ(op["state"], "succeeded");
  ASSERT_EQ(op["steps"].size(), 1U);
  EXPECT_EQ(op["steps"][0]["name"], "write");
  EXPECT_EQ(op["steps"][0]["state"], "succeeded");
  EXPECT_EQ(op["steps"][0]["message"], "revision 1");
  EXPECT_EQ(op["progress"]["steps_done"], 1);
  EXPECT_EQ(h.WaitOperation(body["operations"][1]["id"])["state"], "succeeded");

  http::Response got = h.Call("GET", "/api/v1/stacks/shop", kViewerToken);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.Header("ETag"), "\"1\"");
  body = ServerHarness::Json(got);
  EXPECT_EQ(body["spec"]["metadata"]["name"], "shop");
  EXPECT_EQ(body["environments"]["dev"]["state"], "ready");
  EXPECT_EQ(body["environments"]["dev"]["last_good_revision"], 1);
  EXPECT_EQ(body["environments"]["dev"]["runtime"]["runtime"], "fake");

  // Stale If-Match: 412 and nothing stored.
  http::Response stale = h.Call("PUT", "/api/v1/stacks/shop", kEditorToken, ShopSpec("{tier: 2}"),
                                "application/yaml", {{"If-Match", "\"7\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(ServerHarness::Json(stale)["error"]["code"], "precondition_failed");
  EXPECT_EQ(h.store().GetStack("shop")->revision, 1);

  http::Response put = h.Call("PUT", "/api/v1/stacks/shop", kEditorToken, ShopSpec("{tier: 2}"),
                              "application/yaml", {{"If-Match", "\"1\""}});
  ASSERT_EQ(put.status, 202) << put.body;
  body = ServerHarness::Json(put);
  EXPECT_EQ(body["revision"], 2);
  EXPECT_EQ(body["operations"][0]["kind"], "update");
  for (const auto& o : body["operations"]) {
    EXPECT_EQ(h.WaitOperation(o["id"])["state"], "succeeded");
  }
  EXPECT_EQ(h.Call("GET", "/api/v1/stacks/shop", kViewerToken).Header("ETag"), "\"2\"");
  EXPECT_THAT(h.backend.calls(), ::testing::Contains("apply shop/dev {\"tier\":2}"));

  const nlohmann::json revisions =
      ServerHarness::Json(h.Call("GET", "/api/v1/stacks/shop/revisions", kViewerToken));
  ASSERT_EQ(revisions["revisions"].size(), 2U);
  EXPECT_EQ(revisions["revisions"][0]["number"], 2);
  EXPECT_EQ(revisions["revisions"][0]["actor"], "eddie");
  EXPECT_EQ(revisions["revisions"][0]["outcome"], "succeeded");
  EXPECT_EQ(revisions["revisions"][0]["environments"]["dev"]["applied"], true);

  const http::Response del = h.Call("DELETE", "/api/v1/stacks/shop", kAdminToken);
  ASSERT_EQ(del.status, 202) << del.body;
  EXPECT_EQ(h.WaitOperation(ServerHarness::Json(del)["operation"]["id"])["state"], "succeeded");
  EXPECT_EQ(h.Call("GET", "/api/v1/stacks/shop", kViewerToken).status, 404);
  EXPECT_THAT(h.backend.calls(), ::testing::Contains("teardown shop/staging"));
}

// Regression: a PUT that drops an environment used to leave it running and listed forever.
TEST(ServerApi, PutThatDropsAnEnvironmentTearsItDown) {
  ServerHarness h;
  CreateShop(h);
  std::string dev_only = ShopSpec("{tier: 3}");
  dev_only.erase(dev_only.find("    staging:"));
  const http::Response put = h.Call("PUT", "/api/v1/stacks/shop", kEditorToken, dev_only);
  ASSERT_EQ(put.status, 202) << put.body;
  const nlohmann::json body = ServerHarness::Json(put);
  ASSERT_EQ(body["operations"].size(), 2U);
  EXPECT_EQ(body["operations"][0]["kind"], "update");
  EXPECT_EQ(body["operations"][0]["env"], "dev");
  EXPECT_EQ(body["operations"][1]["kind"], "teardown");
  EXPECT_EQ(body["operations"][1]["env"], "staging");
  for (const auto& o : body["operations"]) {
    EXPECT_EQ(h.WaitOperation(o["id"])["state"], "succeeded");
  }
  EXPECT_THAT(h.backend.calls(), ::testing::Contains("teardown shop/staging"));
  EXPECT_THAT(h.backend.calls(), Not(::testing::Contains("teardown shop/dev")));
  const nlohmann::json got =
      ServerHarness::Json(h.Call("GET", "/api/v1/stacks/shop", kViewerToken));
  EXPECT_TRUE(got["environments"].contains("dev"));
  EXPECT_FALSE(got["environments"].contains("staging")) << got["environments"].dump();
  EXPECT_EQ(h.store().GetEnvironment("shop", "staging").error().code, core::ErrorCode::kNotFound);
}

TEST(ServerApi, JsonSpecWithFilesAndRenderedBundle) {
  ServerHarness h;
  const nlohmann::json spec = {
      {"apiVersion", "obsforge/v1"},
      {"kind", "Stack"},
      {"metadata", {{"name", "files"}}},
      {"spec",
       {{"components", {{"prometheus", {{"enabled", true}}}}},
        {"alerts", {{{"path", "alerts/*.yaml"}, {"type", "prometheus"}}}}}}};
  const nlohmann::json wrapper = {{"spec", spec}, {"files", {{"alerts/a.yaml", "groups: []\n"}}}};
  const http::Response created =
      h.Call("POST", "/api/v1/stacks", kEditorToken, wrapper.dump(), "application/json");
  ASSERT_EQ(created.status, 202) << created.body;
  EXPECT_EQ(h.WaitOperation(ServerHarness::Json(created)["operations"][0]["id"])["state"],
            "succeeded");

  const http::Response rendered =
      h.Call("GET", "/api/v1/stacks/files/environments/default/rendered", kViewerToken);
  ASSERT_EQ(rendered.status, 200) << rendered.body;
  const nlohmann::json files = ServerHarness::Json(rendered)["files"];
  ASSERT_TRUE(files.contains("prometheus/prometheus.yml"));
  const std::string content = files["prometheus/prometheus.yml"]["content"];
  EXPECT_EQ(files["prometheus/prometheus.yml"]["sha256"], core::Sha256Hex(content));

  const http::Response tar = h.Call("GET", "/api/v1/stacks/files/environments/default/rendered",
                                    kViewerToken, "", "", {{"Accept", "application/x-tar"}});
  ASSERT_EQ(tar.status, 200);
  EXPECT_EQ(tar.Header("Content-Type"), "application/x-tar");
  EXPECT_EQ(tar.body.size(), 512U + 512U + 1024U);
  EXPECT_EQ(tar.body.substr(0, 25), "prometheus/prometheus.yml");
  EXPECT_EQ(tar.body.substr(512, content.size()), content);

  const http::Response plan =
      h.Call("POST", "/api/v1/stacks/files/environments/default/plan", kEditorToken);
  ASSERT_EQ(plan.status, 200) << plan.body;
  EXPECT_EQ(ServerHarness::Json(plan)["summary"]["changed"], 0);
  EXPECT_EQ(ServerHarness::Json(plan)["files"].size(), 0U);
}

// `?full=` on the plan route (the cut itself is checked with the real render in e2e_test.cc).
TEST(ServerApi, PlanFullFlagIsTrueOrFalse) {
  ServerHarness h;
  CreateShop(h);
  const std::string route = "/api/v1/stacks/shop/environments/dev/plan";
  EXPECT_EQ(h.Call("POST", route + "?full=true", kEditorToken).status, 200);
  EXPECT_EQ(h.Call("POST", route + "?full=false", kEditorToken).status, 200);
  const http::Response bad = h.Call("POST", route + "?full=yes", kEditorToken);
  ASSERT_EQ(bad.status, 400) << bad.body;
  const nlohmann::json error = ServerHarness::Json(bad)["error"];
  EXPECT_EQ(error["code"], "invalid_spec");
  EXPECT_THAT(error.dump(), HasSubstr("full"));
  EXPECT_THAT(error.dump(), HasSubstr("must be true or false"));
}

TEST(ServerApi, StatelessRender) {
  ServerHarness h;
  const http::Response r = h.Call("POST", "/api/v1/render?env=staging", kEditorToken, ShopSpec());
  ASSERT_EQ(r.status, 200) << r.body;
  const nlohmann::json body = ServerHarness::Json(r);
  EXPECT_EQ(body["env"], "staging");
  EXPECT_THAT(body["files"]["prometheus/prometheus.yml"]["content"].get<std::string>(),
              HasSubstr("# shop/staging "));
  EXPECT_TRUE(h.store().ListStacks()->empty());
}

struct AuthCase {
  std::string method;
  std::string path;
  std::string token;
  int status;
  std::string message;
};

TEST(ServerApi, AuthTable) {
  ServerHarness h;
  CreateShop(h);
  const std::vector<AuthCase> cases = {
      {"GET", "/api/v1/stacks", "", 401, "missing bearer token"},
      {"GET", "/api/v1/stacks", "wrong-token-0000", 401, "invalid token"},
      {"GET", "/api/v1/stacks", kViewerToken, 200, ""},
      {"POST", "/api/v1/stacks/shop/environments/dev/apply", kViewerToken, 403,
       "token \"vera\" has role viewer; this needs editor"},
      {"POST", "/api/v1/stacks/shop/environments/dev/plan", kEditorToken, 200, ""},
      {"DELETE", "/api/v1/stacks/shop", kEditorToken, 403,
       "token \"eddie\" has role editor; this needs admin"},
      {"POST", "/api/v1/stacks/shop/environments/dev/rollback", kEditorToken, 403,
       "token \"eddie\" has role editor; this needs admin"},
      {"GET", "/healthz", "", 200, ""},
      {"GET", "/readyz", "", 200, ""},
      {"GET", "/metrics", "", 200, ""},
      {"GET", "/api/v1/openapi.json", "", 200, ""},
  };
  for (const AuthCase& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path + " " + c.token);
    const http::Response r = h.Call(c.method, c.path, c.token);
    EXPECT_EQ(r.status, c.status) << r.body;
    if (!c.message.empty()) {
      EXPECT_EQ(ServerHarness::Json(r)["error"]["message"], c.message);
    }
    if (c.status == 401) {
      EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer");
    }
  }
  EXPECT_EQ(h.store().GetStack("shop")->revision, 1);
  EXPECT_TRUE(h.store().GetStack("shop").ok());
}

struct BadInputCase {
  std::string name;
  std::string method;
  std::string path;
  std::string body;
  std::string content_type;
  http::Headers headers;
  int status;
  std::string code;
  std::string message;
};

TEST(ServerApi, BadInputTableLeavesStoreUnchanged) {
  ServerHarness h([] { return true; }(), [](ServerOptions& o) { o.body_limit = 4096; });
  CreateShop(h);
  const std::string other = ShopSpec();
  const std::vector<BadInputCase> cases = {
      {"malformed yaml",
       "POST",
       "/api/v1/stacks",
       "apiVersion: [unclosed\n",
       "application/yaml",
       {},
       400,
       "invalid_spec",
       ""},
      {"malformed json",
       "POST",
       "/api/v1/stacks",
       "{\"apiVersion\": ",
       "application/json",
       {},
       400,
       "invalid_spec",
       ""},
      {"wrong content type",
       "POST",
       "/api/v1/stacks",
       ShopSpec(),
       "text/plain",
       {},
       415,
       "unsupported_media_type",
       "content type \"text/plain\" is not supported here; use application/yaml or "
       "application/json"},
      {"oversize body",
       "POST",
       "/api/v1/stacks",
       std::string(5000, '#'),
       "application/yaml",
       {},
       413,
       "payload_too_large",
       "request body exceeds 4096 bytes"},
      {"unknown stack", "GET", "/api/v1/stacks/nope", "", "", {}, 404, "not_found", ""},
      {"unknown env",
       "POST",
       "/api/v1/stacks/shop/environments/prod/apply",
       "",
       "",
       {},
       404,
       "not_found",
       R"(stack "shop" has no environment "prod")"},
      {"unknown operation", "GET", "/api/v1/operations/op-nope", "", "", {}, 404, "not_found", ""},
      {"existing stack",
       "POST",
       "/api/v1/stacks",
       other,
       "application/yaml",
       {},
       409,
       "conflict",
       ""},
      {"stale if-match",
       "PUT",
       "/api/v1/stacks/shop",
       ShopSpec("{tier: 9}"),
       "application/yaml",
       {{"If-Match", "\"3\""}},
       412,
       "precondition_failed",
       ""},
      {"name mismatch",
       "PUT",
       "/api/v1/stacks/other",
       ShopSpec("{tier: 9}"),
       "application/yaml",
       {},
       404,
       "not_found",
       ""},
      {"rollback without revision",
       "POST",
       "/api/v1/stacks/shop/environments/dev/rollback",
       "{}",
       "application/json",
       {},
       400,
       "invalid_spec",
       "invalid spec: body: revision: required integer"},
      {"rollback bad json",
       "POST",
       "/api/v1/stacks/shop/environments/dev/rollback",
       "{\n  x",
       "application/json",
       {},
       400,
       "invalid_spec",
       "invalid spec: body:2:3: invalid JSON: syntax error while parsing object key - invalid "
       "literal; last read: '{<U+000A>  x'; expected string literal"},
      {"unknown route",
       "GET",
       "/api/v1/nothing",
       "",
       "",
       {},
       404,
       "not_found",
       "no route for GET /api/v1/nothing"},
      {"wrong method",
       "PATCH",
       "/api/v1/stacks/shop",
       "",
       "",
       {},
       405,
       "method_not_allowed",
       "PATCH is not allowed on /api/v1/stacks/shop"},
  };
  const auto before_revisions = h.store().ListRevisions("shop", 0)->size();
  const auto before_ops = h.store().ListOperations({})->size();
  for (const BadInputCase& c : cases) {
    SCOPED_TRACE(c.name);
    const http::Response r =
        h.Call(c.method, c.path, kAdminToken, c.body, c.content_type, c.headers);
    EXPECT_EQ(r.status, c.status) << r.body;
    const nlohmann::json body = ServerHarness::Json(r);
    EXPECT_EQ(body["error"]["code"], c.code) << r.body;
    EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
    if (!c.message.empty()) {
      EXPECT_EQ(body["error"]["message"], c.message);
    }
  }
  EXPECT_EQ(h.store().ListStacks()->size(), 1U);
  EXPECT_EQ(h.store().ListRevisions("shop", 0)->size(), before_revisions);
  EXPECT_EQ(h.store().ListOperations({})->size(), before_ops);
}

TEST(ServerApi, InvalidSpecListsEveryErrorWithPosition) {
  ServerHarness h;
  const std::string spec =
      "apiVersion: obsforge/v1\n"
      "kind: Stack\n"
      "metadata: {name: Bad_Name}\n"
      "spec:\n"
      "  components:\n"
      "    prometheus: {enabled: maybe}\n";
  const http::Response r = h.Call("POST", "/api/v1/stacks", kEditorToken, spec);
  ASSERT_EQ(r.status, 400) << r.body;
  const nlohmann::json details = ServerHarness::Json(r)["error"]["details"];
  ASSERT_GE(details.size(), 2U) << r.body;
  for (const auto& d : details) {
    EXPECT_GT(d["line"].get<int>(), 0) << d.dump();
    EXPECT_GT(d["column"].get<int>(), 0) << d.dump();
    EXPECT_FALSE(d["path"].get<std::string>().empty()) << d.dump();
    EXPECT_FALSE(d["message"].get<std::string>().empty()) << d.dump();
  }
  EXPECT_EQ(details[0]["line"], 3) << r.body;
  EXPECT_TRUE(h.store().ListStacks()->empty());
}

TEST(ServerApi, RequestIdEchoedOrGeneratedAndNoSecretInLogs) {
  ServerHarness h;
  http::Response r =
      h.Call("GET", "/api/v1/stacks", kViewerToken, "", "", {{"X-Request-ID", "client-id-42"}});
  EXPECT_EQ(r.Header("X-Request-ID"), "client-id-42");
  r = h.Call("GET", "/api/v1/stacks", kViewerToken);
  EXPECT_EQ(r.Header("X-Request-ID").size(), 16U);
  r = h.Call("GET", "/api/v1/stacks", "", "", "", {{"X-Request-ID", "bad id with spaces"}});
  EXPECT_EQ(r.Header("X-Request-ID").size(), 16U);
  CreateShop(h);
  (void)h.Call("GET", "/api/v1/stacks?token=" + std::string(kAdminToken), kAdminToken);
  h.Close();  // no server thread writes the log while it is read
  const std::string logs = h.logs();
  EXPECT_THAT(logs, HasSubstr("\"request_id\":\"client-id-42\""));
  EXPECT_THAT(logs, HasSubstr("\"route\":\"/api/v1/stacks\""));
  for (const char* token : {kViewerToken, kEditorToken, kAdminToken}) {
    EXPECT_THAT(logs, Not(HasSubstr(token)));
  }
  EXPECT_THAT(logs, Not(HasSubstr("Bearer")));
}

TEST(ServerApi, FailedApplyIsRolledBackOperation) {
  ServerHarness h;
  h.backend.fail_env = "staging";
  const nlohmann::json body =
      ServerHarness::Json(h.Call("POST", "/api/v1/stacks", kEditorToken, ShopSpec()));
  const nlohmann::json op = h.WaitOperation(body["operations"][1]["id"]);
  EXPECT_EQ(op["state"], "rolled_back");
  EXPECT_EQ(op["error"], "prometheus: reload refused");
  EXPECT_EQ(op["steps"][0]["state"], "failed");
  const nlohmann::json stack =
      ServerHarness::Json(h.Call("GET", "/api/v1/stacks/shop", kViewerToken));
  EXPECT_EQ(stack["environments"]["staging"]["state"], "degraded");
  EXPECT_EQ(stack["environments"]["staging"]["message"], "prometheus: reload refused");
}

TEST(ServerApi, RestartKeepsStateFailsInterruptedAndReappliesLocalEnvironments) {
  ServerHarness h;
  CreateShop(h);
  // An operation left running by a crash. Written with the server stopped: a running server's
  // worker could claim it, while queued, and run it to success first.
  h.StopServing();
  auto stuck = h.store().CreateOperation(
      {.kind = store::OperationKind::kApply, .stack = "shop", .env = "dev", .revision = 1});
  ASSERT_TRUE(stuck.ok());
  ASSERT_TRUE(
      h.store().UpdateOperationState(stuck->id, {.state = store::OperationState::kRunning}).ok());
  h.Close();
  const std::size_t applies_before = h.backend.calls().size();
  h.Open();
  const nlohmann::json op =
      ServerHarness::Json(h.Call("GET", "/api/v1/operations/" + stuck->id, kViewerToken));
  EXPECT_EQ(op["state"], "failed");
  EXPECT_EQ(op["error"], "interrupted by restart");
  EXPECT_EQ(h.Call("GET", "/api/v1/stacks/shop", kViewerToken).status, 200);
  EXPECT_EQ(
      ServerHarness::Json(h.Call("GET", "/api/v1/stacks/shop/revisions", kViewerToken))["revisions"]
          .size(),
      1U);
  // Both local environments were re-applied at their last good revision.
  const auto ops = h.store().ListOperations({.stack = "shop"});
  ASSERT_TRUE(ops.ok());
  int reapplies = 0;
  for (const auto& o : *ops) {
    if (o.actor == "obsforge" && o.kind == store::OperationKind::kApply) {
      ++reapplies;
      EXPECT_EQ(h.WaitOperation(o.id)["state"], "succeeded");
    }
  }
  EXPECT_EQ(reapplies, 2);
  EXPECT_EQ(h.backend.calls().size(), applies_before + 2);
}

TEST(ServerApi, OperationsSerializedPerEnvironmentParallelAcross) {
  ServerHarness h;
  Gate release_dev;
  Gate dev_started;
  Gate staging_done;
  std::atomic<int> dev_running{0};
  std::atomic<int> dev_max{0};
  h.backend.hook = [&](const std::string& env) {
    if (env == "dev") {
      dev_started.Open();
      const int now = ++dev_running;
      dev_max = std::max(dev_max.load(), now);
      release_dev.Wait();
      --dev_running;
    } else {
      staging_done.Open();
    }
  };
  const nlohmann::json created = ServerHarness::Json(
      h.Call("POST", "/api/v1/stacks?environments=dev", kEditorToken, ShopSpec()));
  ASSERT_EQ(created["operations"].size(), 1U);
  // Running: a queued create would be superseded by the apply below (it would never run).
  dev_started.Wait();
  const nlohmann::json second = ServerHarness::Json(
      h.Call("POST", "/api/v1/stacks/shop/environments/dev/apply", kEditorToken));
  const nlohmann::json staging = ServerHarness::Json(
      h.Call("POST", "/api/v1/stacks/shop/environments/staging/apply", kEditorToken));
  // staging runs although dev is blocked.
  staging_done.Wait();
  EXPECT_EQ(h.WaitOperation(staging["operation"]["id"])["state"], "succeeded");
  const nlohmann::json queued = ServerHarness::Json(h.Call(
      "GET", "/api/v1/operations/" + second["operation"]["id"].get<std::string>(), kViewerToken));
  EXPECT_EQ(queued["state"], "queued");
  release_dev.Open();
  EXPECT_EQ(h.WaitOperation(created["operations"][0]["id"])["state"], "succeeded");
  const nlohmann::json done = h.WaitOperation(second["operation"]["id"]);
  EXPECT_EQ(done["state"], "succeeded");
  EXPECT_EQ(dev_max.load(), 1);
  EXPECT_LE(ServerHarness::Json(h.Call(
                "GET", "/api/v1/operations/" + created["operations"][0]["id"].get<std::string>(),
                kViewerToken))["finished_at"]
                .get<std::string>(),
            done["started_at"].get<std::string>());
}

TEST(ServerApi, NoTokensMeansLoopbackOnly) {
  ServerHarness h(false);
  EXPECT_EQ(h.Call("GET", "/api/v1/stacks", "").status, 200);
  h.Close();
  EXPECT_THAT(h.logs(), HasSubstr("no API tokens configured: listening on loopback only"));
  core::SystemClock clock;
  auto store = store::SqliteStore::Open({.path = ":memory:"}, clock);
  ASSERT_TRUE(store.ok());
  FakeBackend backend;
  control::Application app({}, **store, backend, clock, core::NullLogger());
  Server exposed({.listen = "0.0.0.0:0"}, app, core::NullLogger());
  auto started = exposed.Start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, core::ErrorCode::kPrecondition);
  EXPECT_EQ(started.error().message,
            "no API tokens configured: refusing to listen on 0.0.0.0:0 (set tokens_file, or "
            "listen on 127.0.0.1)");
}

TEST(ServerApi, MetricsPassPromtool) {
  ServerHarness h;
  CreateShop(h);
  // An operation is counted after its end is stored (what CreateShop waits for): wait until the
  // workers are idle, which is after they counted.
  ASSERT_TRUE(
      h.app().operations().WaitIdle(std::chrono::steady_clock::now() + std::chrono::seconds(60)));
  (void)h.Call("GET", "/api/v1/stacks/nope", kViewerToken);
  const http::Response r = h.Call("GET", "/metrics", "");
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.Header("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(r.body, HasSubstr("obsforge_http_requests_total{method=\"GET\",route=\"/api/v1/"
                                "stacks/{name}\",code=\"404\"} 1\n"));
  EXPECT_THAT(r.body,
              HasSubstr("obsforge_operations_total{kind=\"create\",outcome=\"succeeded\"} 2\n"));
  EXPECT_THAT(r.body, HasSubstr("obsforge_apply_duration_seconds_count 2\n"));
  EXPECT_THAT(r.body, HasSubstr("obsforge_stacks 1\n"));
  EXPECT_THAT(r.body, HasSubstr("obsforge_build_info{version=\"dev\"} 1\n"));
  const auto file = h.dir() / "metrics.txt";
  std::ofstream(file) << r.body;
  const std::string cmd = "promtool check metrics < " + file.string() + " > " +
                          (h.dir() / "promtool.out").string() + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << core::ReadFile(h.dir() / "promtool.out");
}

TEST(ServerApi, OpenApiDocumentsExactlyTheRegisteredRoutes) {
  ServerHarness h;
  const nlohmann::json doc = ServerHarness::Json(h.Call("GET", "/api/v1/openapi.json", ""));
  EXPECT_EQ(doc["openapi"], "3.0.3");
  std::set<std::string> documented;
  for (const auto& [path, methods] : doc["paths"].items()) {
    for (const auto& [method, op] : methods.items()) {
      std::string upper = method;
      std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
      std::string route = upper;
      route += " ";
      route += path;
      documented.insert(route);
      EXPECT_FALSE(op["summary"].get<std::string>().empty());
      EXPECT_FALSE(op["responses"].empty());
      // Every documented operation is served by the router.
      const RouteMatch match = h.server().router().Find(upper, path);
      EXPECT_NE(match.route, nullptr) << upper << " " << path;
    }
  }
  std::set<std::string> registered;
  for (const Route& route : h.server().router().routes()) {
    registered.insert(route.method + " " + route.path);
  }
  EXPECT_EQ(documented, registered);
  const std::set<std::string> expected = {
      "GET /healthz", "GET /readyz", "GET /metrics", "GET /api/v1/openapi.json",
      "POST /api/v1/stacks", "GET /api/v1/stacks", "GET /api/v1/stacks/{name}",
      "PUT /api/v1/stacks/{name}", "DELETE /api/v1/stacks/{name}",
      "POST /api/v1/stacks/{name}/environments/{env}/plan",
      "POST /api/v1/stacks/{name}/environments/{env}/apply",
      "GET /api/v1/stacks/{name}/environments/{env}/rendered",
      "GET /api/v1/stacks/{name}/revisions",
      "POST /api/v1/stacks/{name}/environments/{env}/rollback", "GET /api/v1/operations/{id}",
      "POST /api/v1/render", "POST /api/v1/import", "POST /api/v1/gitops/webhook",
      "GET /api/v1/gitops", "PUT /api/v1/stacks/{name}/secrets/{key}",
      "DELETE /api/v1/stacks/{name}/secrets/{key}", "GET /api/v1/stacks/{name}/secrets",
      // The console: its pages, files and data.
      "GET /", "GET /stacks/{name}", "GET /stacks/{name}/environments/{env}",
      "GET /operations/{id}", "GET /stacks/{name}/revisions", "GET /gitops", "GET /console/{file}",
      "GET /api/v1/overview", "GET /api/v1/events", "GET /api/v1/whoami",
      "GET /api/v1/stacks/{name}/revisions/{number}",
      "GET /api/v1/stacks/{name}/revisions/{number}/environments/{env}/rendered"};
  EXPECT_EQ(registered, expected);
  Router router;
  EXPECT_THROW(router.Add({.method = "GET", .path = "/x", .handler = {}}), std::logic_error);
}

// POST /api/v1/import: configuration files in, {spec, files} out that POST /api/v1/stacks takes
// as they are once the operator allows the config roots and the caller stores the secret the
// report names; no secret value in the answer.
TEST(ServerApi, ImportAnswersASpecThatCreatesTheStack) {
  ServerHarness h(true, [](ServerOptions& o) {
    o.trust.config_roots = {"/etc/prometheus", "/etc/alertmanager"};
    o.trust.keys.key = core::Secret(std::string(64, 'a'));
  });
  const std::string webhook = "https://hooks.slack.com/services/T1/B1/importsecretvalue0000";
  const nlohmann::json body = {
      {"name", "legacy"},
      {"prometheus_config", "/etc/prometheus/prometheus.yml"},
      {"alertmanager_config", "/etc/alertmanager/alertmanager.yml"},
      {"urls", {{"prometheus", "http://prom:9090"}}},
      {"files",
       {{"/etc/prometheus/prometheus.yml",
         "global: {scrape_interval: 20s}\nrule_files: [rules/*.yml]\n"
         "scrape_configs:\n  - job_name: node\n    static_configs: [{targets: ['n:9100']}]\n"},
        {"/etc/prometheus/rules/node.yml",
         "groups: [{name: node, rules: [{alert: Down, expr: up == 0}]}]\n"},
        {"/etc/alertmanager/alertmanager.yml",
         "route: {receiver: chat}\nreceivers:\n  - name: chat\n    slack_configs:\n"
         "      - {api_url: '" +
             webhook + "', channel: '#ops'}\n"}}}};
  const http::Response imported =
      h.Call("POST", "/api/v1/import", kEditorToken, body.dump(), "application/json");
  ASSERT_EQ(imported.status, 200) << imported.body;
  EXPECT_THAT(imported.body, Not(HasSubstr("importsecretvalue")));
  const nlohmann::json answer = ServerHarness::Json(imported);
  EXPECT_EQ(answer["spec"]["metadata"]["name"], "legacy");
  EXPECT_EQ(
      answer["spec"]["spec"]["environments"]["prod"]["runtime"]["prometheus"],
      nlohmann::json::parse(R"({"config_dir": "/etc/prometheus", "url": "http://prom:9090"})"));
  EXPECT_TRUE(answer["files"].contains("alerts/legacy/prometheus/node.yaml"));
  ASSERT_EQ(answer["report"]["secrets"].size(), 1U);
  EXPECT_THAT(answer["report"]["secrets"][0]["from"][0].get<std::string>(),
              HasSubstr("receivers[0].slack_configs[0].api_url"));
  EXPECT_TRUE(h.store().ListStacks()->empty());  // an import stores nothing

  const nlohmann::json wrapper = {{"spec", answer["spec"]}, {"files", answer["files"]}};
  const http::Response refused =
      h.Call("POST", "/api/v1/stacks", kEditorToken, wrapper.dump(), "application/json");
  ASSERT_EQ(refused.status, 400) << refused.body;
  const std::string key = answer["report"]["secrets"][0]["name"].get<std::string>();
  EXPECT_THAT(refused.body, HasSubstr("{secret: " + key + "} is neither a secret of stack legacy"));
  ASSERT_EQ(
      h.Call("PUT", "/api/v1/stacks/legacy/secrets/" + key, kEditorToken, webhook, "text/plain")
          .status,
      201);
  const http::Response created =
      h.Call("POST", "/api/v1/stacks", kEditorToken, wrapper.dump(), "application/json");
  ASSERT_EQ(created.status, 202) << created.body;
  EXPECT_EQ(h.WaitOperation(ServerHarness::Json(created)["operations"][0]["id"])["state"],
            "succeeded");
}

// The Grafana URL of an import over the API is the caller's: what a server there answers is not
// quoted back, or a token could read any HTTP resource the obsforge server reaches.
TEST(ServerApi, ImportDoesNotQuoteWhatTheGrafanaUrlAnswered) {
  fakes::FakeServer internal;
  internal.SetNotFound(
      [](fakes::FakeRequest&) { return fakes::FakeResponse::Text(404, "internal-only-page"); });
  internal.Start();
  ServerHarness h;
  const http::Response r =
      h.Call("POST", "/api/v1/import", kEditorToken,
             R"({"name": "s", "grafana": {"url": ")" + internal.url() + R"(/private?x="}})",
             "application/json");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_THAT(r.body, HasSubstr("HTTP 404 (the answer is not shown over the API)"));
  EXPECT_THAT(r.body, Not(HasSubstr("internal-only-page")));
}

// Whatever is posted, the answer is a 4xx naming the problem, never a 500.
TEST(ServerApi, ImportBadInputIsNeverA500) {
  ServerHarness h([] { return true; }(), [](ServerOptions& o) { o.body_limit = 1U << 20U; });
  const std::string digits(200000, '7');
  struct Case {
    std::string body;
    std::string content_type;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"{\"name\": ", "application/json", 400, "invalid JSON"},
      {"name: shop\n", "application/yaml", 415, "application/json"},
      {"[]", "application/json", 400, "must be a JSON object"},
      {R"({"name": "shop"})", "application/json", 400, "nothing to import"},
      {R"({"name": "Shop Inc"})", "application/json", 400, "not a valid stack name"},
      {R"({"name": "s", "prometheus_config": "p", "files": {"p": "a: [1"}})", "application/json",
       400, "p:1:"},
      {R"({"name": "s", "tempo_config": "t", "files": {"t": "a: )" + digits + R"("}})",
       "application/json", 200, ""},
      {R"({"name": "s", "loki_config": "l", "files": {"l": ")" + std::string(50000, '[') + R"("}})",
       "application/json", 400, "l"},
      {R"({"name": "s", "files": {"x": ")" + std::string(2U << 20U, 'x') + R"("}})",
       "application/json", 413, "exceeds"},
      {R"({"name": "s", "grafana": {"url": "http://127.0.0.1:1"}})", "application/json", 503,
       "reading Grafana http://127.0.0.1:1"},
  };
  for (const auto& c : cases) {
    const http::Response r = h.Call("POST", "/api/v1/import", kEditorToken, c.body, c.content_type);
    EXPECT_EQ(r.status, c.status) << c.body.substr(0, 80) << " -> " << r.body.substr(0, 400);
    EXPECT_THAT(r.body, HasSubstr(c.message)) << c.body.substr(0, 80);
  }
  EXPECT_EQ(
      h.Call("POST", "/api/v1/import", kViewerToken, R"({"name": "s"})", "application/json").status,
      403);
}

TEST(ServerApi, RollbackAppliesFormerRevision) {
  ServerHarness h;
  CreateShop(h);
  const nlohmann::json put = ServerHarness::Json(
      h.Call("PUT", "/api/v1/stacks/shop", kEditorToken, ShopSpec("{tier: 5}")));
  for (const auto& o : put["operations"]) {
    h.WaitOperation(o["id"]);
  }
  const http::Response r = h.Call("POST", "/api/v1/stacks/shop/environments/dev/rollback",
                                  kAdminToken, "{\"revision\": 1}", "application/json");
  ASSERT_EQ(r.status, 202) << r.body;
  const nlohmann::json op = h.WaitOperation(ServerHarness::Json(r)["operation"]["id"]);
  EXPECT_EQ(op["kind"], "rollback");
  EXPECT_EQ(op["revision"], 1);
  EXPECT_EQ(op["state"], "succeeded");
  EXPECT_EQ(h.backend.calls().back(), "apply shop/dev {\"tier\":1}");
  EXPECT_EQ(h.store().GetEnvironment("shop", "dev")->applied_revision, 1);
}

}  // namespace
}  // namespace obsforge::server::testing
