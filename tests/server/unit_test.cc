#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/retention.h"
#include "core/diagnostic.h"
#include "core/fs.h"
#include "core/hash.h"
#include "gitops/config.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/errors.h"
#include "server/harness.h"
#include "server/json_views.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/tar.h"
#include "store/sqlite_store.h"
#include "support/fake_clock.h"
#include "support/poll_until.h"

namespace obsforge::server::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Router, MatchesTemplatesAndTellsMethodMismatch) {
  Router router;
  router.Add({.method = "GET",
              .path = "/api/v1/stacks/{name}",
              .summary = "s",
              .responses = {{200, "ok"}},
              .handler = {}});
  router.Add({.method = "GET",
              .path = "/api/v1/stacks/{name}/environments/{env}/rendered",
              .summary = "s",
              .responses = {{200, "ok"}},
              .handler = {}});
  RouteMatch m = router.Find("GET", "/api/v1/stacks/shop/environments/dev/rendered");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("name"), "shop");
  EXPECT_EQ(m.params.at("env"), "dev");
  EXPECT_EQ(router.Find("GET", "/api/v1/stacks/").route, nullptr);
  m = router.Find("PUT", "/api/v1/stacks/shop");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);
  EXPECT_FALSE(router.Find("GET", "/api/v1/other").path_known);
  EXPECT_THROW(router.Add({.method = "GET",
                           .path = "/api/v1/stacks/{name}",
                           .summary = "s",
                           .responses = {{200, "ok"}},
                           .handler = {}}),
               std::logic_error);
}

TEST(Errors, OneMappingFromCodeToStatus) {
  EXPECT_EQ(ErrorToStatus(core::ErrorCode::kInvalidSpec), 400);
  EXPECT_EQ(ErrorToStatus(core::ErrorCode::kRender), 422);
  EXPECT_EQ(ErrorToStatus(core::ErrorCode::kNotFound), 404);
  EXPECT_EQ(ErrorToStatus(core::ErrorCode::kConflict), 409);
  EXPECT_EQ(ErrorToStatus(core::ErrorCode::kPrecondition), 412);
  EXPECT_EQ(ErrorToStatus(core::ErrorCode::kUpstream), 502);
  EXPECT_EQ(ErrorToStatus(core::ErrorCode::kTimeout), 504);
  EXPECT_EQ(ErrorToStatus(core::ErrorCode::kUnavailable), 503);
  EXPECT_EQ(ErrorToStatus(core::ErrorCode::kInternal), 500);
  const core::InputError render(
      core::InputError::Kind::kRender,
      core::Diagnostic{.file = "t.jsonnet", .line = 2, .column = 5, .message = "boom"});
  EXPECT_EQ(InputErrorStatus(render), 422);
  EXPECT_EQ(ErrorBody(render).dump(),
            R"({"error":{"code":"render_error","details":[{"column":5,"file":"t.jsonnet","line":2,)"
            R"("message":"boom","path":""}],"message":"render failed: t.jsonnet:2:5: boom"}})");
}

TEST(Auth, ParsesTokensAndChecksRoles) {
  const std::string viewer_hash = core::Sha256Hex("v-token");
  const std::string admin_hash = core::Sha256Hex("a-token");
  const TokenTable table = TokenTable::Parse(
      "- {name: v, token_sha256: " + viewer_hash +
          ", role: viewer}\n- {name: a, token_sha256: " + admin_hash + ", role: admin}\n",
      "tokens.yaml");
  ASSERT_EQ(table.entries().size(), 2U);
  EXPECT_EQ(table.Authorize("Bearer v-token", Role::kViewer).status, 200);
  EXPECT_EQ(table.Authorize("Bearer v-token", Role::kViewer).actor, "v");
  EXPECT_EQ(table.Authorize("Bearer v-token", Role::kEditor).status, 403);
  EXPECT_EQ(table.Authorize("Bearer a-token", Role::kAdmin).status, 200);
  EXPECT_EQ(table.Authorize("Bearer nope", Role::kViewer).status, 401);
  EXPECT_EQ(table.Authorize("Basic dXNlcjpwYXNz", Role::kViewer).status, 401);
  EXPECT_EQ(table.Authorize("", Role::kNone).status, 200);
}

TEST(Auth, BadTokensFileListsEveryProblem) {
  try {
    (void)TokenTable::Parse("- {name: x, token_sha256: abc, role: boss}\n- {role: viewer}\n",
                            "tokens.yaml");
    FAIL() << "no exception";
  } catch (const core::InputError& e) {
    std::vector<std::string> lines;
    for (const auto& d : e.diagnostics()) {
      lines.push_back(d.ToString());
    }
    EXPECT_THAT(lines,
                ElementsAre("tokens.yaml:1:27: [0].token_sha256: must be 64 lower-case hex "
                            "characters (sha256 of the token)",
                            "tokens.yaml:1:38: [0].role: must be one of viewer, editor, admin (got "
                            "\"boss\")",
                            "tokens.yaml:2:3: [1].name: required string",
                            "tokens.yaml:2:3: [1].token_sha256: required string"));
  }
}

TEST(Retention, PrunesOnlyWhatOutlivedItsRetention) {
  TempDir dir;
  obsforge::testing::FakeClock clock;
  auto opened = store::SqliteStore::Open({.path = (dir.path() / "db").string()}, clock);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  store::Store& db = **opened;
  const auto day = std::chrono::hours(24);
  const store::TimeMs t0 = store::ToTimeMs(clock.Now());
  const store::TimeMs day_ms = 24LL * 3600 * 1000;
  ASSERT_TRUE(
      db.AppendHealthEvent({.stack = "s", .env = "e", .check = "old", .at = t0 - 31 * day_ms})
          .ok());
  ASSERT_TRUE(db.AppendHealthEvent({.stack = "s", .env = "e", .check = "recent", .at = t0}).ok());
  const auto delivered = db.EnqueueOutbox("k", "{}", 0);
  ASSERT_TRUE(delivered.ok());
  ASSERT_TRUE(db.MarkOutboxDelivered(*delivered).ok());
  const auto pending = db.EnqueueOutbox("k", "{}", 0);  // never sent: never pruned
  ASSERT_TRUE(db.RecordWebhookDelivery("d-old").ok());
  clock.Advance(8 * day);
  ASSERT_TRUE(db.RecordWebhookDelivery("d-new").ok());

  std::ostringstream log;
  core::Logger logger(log, core::LogLevel::kDebug);
  control::Retention retention({}, db, clock, logger);  // 30 days, 7 days, 7 days
  const auto pruned = retention.RunOnce();
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(pruned->health_events, 1);
  EXPECT_EQ(pruned->outbox, 1);
  EXPECT_EQ(pruned->webhook_deliveries, 1);
  const auto events = db.ListHealthEvents({.stack = "s"});
  ASSERT_EQ(events->size(), 1U);
  EXPECT_EQ((*events)[0].check, "recent");
  EXPECT_EQ(db.ListPendingOutbox(0)->size(), 1U);
  EXPECT_EQ(db.ListPendingOutbox(0)->front().id, *pending);
  EXPECT_TRUE(db.RecordWebhookDelivery("d-old").ok());  // forgotten: no longer a repeat
  EXPECT_FALSE(db.RecordWebhookDelivery("d-new").ok());
  const auto again = retention.RunOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->health_events + again->outbox + again->webhook_deliveries, 0);

  // The background loop runs a pass at once and stops promptly.
  clock.Advance(31 * day);
  retention.Start();
  EXPECT_TRUE(obsforge::testing::PollUntil(
      [&] { return db.ListHealthEvents({.stack = "s"})->empty(); }, std::chrono::seconds(30)));
  retention.Stop();
  EXPECT_THAT(log.str(), HasSubstr("retention: pruned the store"));
}

TEST(Tar, ArchiveExtractsWithTar) {
  TempDir dir;
  std::map<std::string, std::string> files = {
      {"a.txt", "hello\n"},
      {"prometheus/rules/x.yaml", std::string(1000, 'x')},
      {std::string(60, 'd') + "/" + std::string(60, 'e') + "/f.json", "{}"},
  };
  const auto archive = dir.path() / "b.tar";
  std::ofstream(archive, std::ios::binary) << WriteUstar(files);
  const std::string cmd = "cd " + dir.path().string() + " && mkdir out && tar -xf b.tar -C out";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  for (const auto& [path, content] : files) {
    EXPECT_EQ(core::ReadFile(dir.path() / "out" / path), content) << path;
  }
  EXPECT_EQ(WriteUstar(files), WriteUstar(files));
  EXPECT_EQ(WriteUstar({}).size(), 1024U);
  EXPECT_THROW(WriteUstar({{std::string(300, 'a'), ""}}), std::invalid_argument);
}

TEST(Metrics, ExpositionFormat) {
  Metrics metrics("1.2.3");
  metrics.ObserveRequest("GET", "/a\"b", 200, 0.002);
  metrics.SetStacksSource([] { return 3.0; });
  const std::string text = metrics.Render();
  EXPECT_THAT(
      text, ::testing::HasSubstr(
                "obsforge_http_requests_total{method=\"GET\",route=\"/a\\\"b\",code=\"200\"} 1\n"));
  EXPECT_THAT(text,
              ::testing::HasSubstr(
                  "obsforge_http_request_duration_seconds_bucket{method=\"GET\",route=\"/a\\\"b\","
                  "le=\"0.0025000000000000001\"} 1\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("obsforge_stacks 3\n"));
}

TEST(Config, ParsesFileAndEnvironment) {
  const ServerConfig config = ParseServerConfig(
      "listen: 0.0.0.0:9000\ndata_dir: var\ntokens_file: /etc/t.yaml\nbody_limit: 1MiB\n"
      "drain_timeout: 5s\nmax_threads: 8\ngitops:\n  - {repo: file:///x, branch: main}\n",
      "/etc/obsforge/obsforge.yaml");
  EXPECT_EQ(config.server.listen, "0.0.0.0:9000");
  EXPECT_EQ(config.server.data_dir, "/etc/obsforge/var");
  EXPECT_EQ(config.server.tokens_file, "/etc/t.yaml");
  EXPECT_EQ(config.server.body_limit, 1U << 20U);
  EXPECT_EQ(config.server.drain_timeout, std::chrono::seconds(5));
  EXPECT_EQ(config.server.max_threads, 8);
  EXPECT_EQ(config.gitops_json, R"([{"repo":"file:///x","branch":"main"}])");

  ServerOptions options = config.server;
  ApplyEnvironment(options, [](const std::string& name) -> std::optional<std::string> {
    if (name == "OBSFORGE_LISTEN") {
      return "127.0.0.1:7000";
    }
    return std::nullopt;
  });
  EXPECT_EQ(options.listen, "127.0.0.1:7000");
  EXPECT_EQ(options.data_dir, "/etc/obsforge/var");
}

TEST(Config, BadSettingsAreListedWithPositions) {
  try {
    (void)ParseServerConfig("listen: nowhere\nbody_limit: lots\nfoo: 1\n", "o.yaml");
    FAIL() << "no exception";
  } catch (const core::InputError& e) {
    std::vector<std::string> lines;
    for (const auto& d : e.diagnostics()) {
      lines.push_back(d.ToString());
    }
    EXPECT_THAT(lines, ElementsAre("o.yaml:1:9: listen: listen \"nowhere\" must be host:port",
                                   "o.yaml:2:13: body_limit: must be a size such as 16MiB",
                                   "o.yaml:3:1: foo: unknown setting"));
  }
  EXPECT_EQ(ParseByteSize("16MiB"), 16U << 20U);
  EXPECT_EQ(ParseByteSize("16MB"), std::nullopt);
}

TEST(Config, TimeoutsTakePrometheusDurations) {
  // One grammar for every duration of obsforge.yaml (core::ParseDuration).
  const ServerConfig config = ParseServerConfig(
      "drain_timeout: 1m30s\nread_timeout: 500ms\nwrite_timeout: 1h\n"
      "gitops:\n  - {repo: file:///x, poll: 1m30s}\n",
      "o.yaml");
  EXPECT_EQ(config.server.drain_timeout, std::chrono::seconds(90));
  EXPECT_EQ(config.server.read_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(config.server.write_timeout, std::chrono::hours(1));
  EXPECT_EQ(gitops::ParseSources(nlohmann::json::parse(config.gitops_json), "o.yaml").at(0).poll,
            std::chrono::seconds(90));
  ServerOptions options = config.server;
  ApplyEnvironment(options, [](const std::string& name) -> std::optional<std::string> {
    return name == "OBSFORGE_DRAIN_TIMEOUT" ? std::optional<std::string>("2m15s") : std::nullopt;
  });
  EXPECT_EQ(options.drain_timeout, std::chrono::seconds(135));
  for (const char* bad : {"2", "1m1h", "-5s", "1.5s"}) {
    EXPECT_THROW((void)ParseServerConfig(std::string("drain_timeout: ") + bad + "\n", "o.yaml"),
                 core::InputError)
        << bad;
  }
}

// Each scalar setting of ServerOptions has its OBSFORGE_<KEY> variable, read with the file's
// grammar: the same value from either, and the same words for a bad one.
TEST(Config, EveryServerSettingHasItsVariableWithTheFilesGrammar) {
  struct Case {
    std::string key;
    std::string good;
    std::string bad;
  };
  const std::vector<Case> cases = {{"listen", "127.0.0.1:7001", "nowhere"},
                                   {"data_dir", "/srv/var", ""},
                                   {"content_dir", "/srv/content", ""},
                                   {"tokens_file", "/srv/tokens.yaml", ""},
                                   {"max_threads", "9", "0"},
                                   {"max_queued", "17", "-1"},
                                   {"operation_workers", "3", "three"},
                                   {"max_keep_alive_requests", "5", "1.5"},
                                   {"read_timeout", "1m30s", "90"},
                                   {"write_timeout", "250ms", "1m1h"},
                                   {"drain_timeout", "2m15s", "-5s"},
                                   {"keep_alive_timeout", "3s", "soon"},
                                   {"max_queue_wait", "1500ms", "later"},
                                   {"body_limit", "512KiB", "16MB"}};
  const auto settings = [](const ServerOptions& o) {
    return nlohmann::json{{"listen", o.listen},
                          {"data_dir", o.data_dir.string()},
                          {"content_dir", o.content_dir.string()},
                          {"tokens_file", o.tokens_file.string()},
                          {"max_threads", o.max_threads},
                          {"max_queued", o.max_queued},
                          {"operation_workers", o.operation_workers},
                          {"max_keep_alive_requests", o.max_keep_alive_requests},
                          {"read_timeout", o.read_timeout.count()},
                          {"write_timeout", o.write_timeout.count()},
                          {"drain_timeout", o.drain_timeout.count()},
                          {"keep_alive_timeout", o.keep_alive_timeout.count()},
                          {"max_queue_wait", o.max_queue_wait.count()},
                          {"body_limit", o.body_limit}};
  };
  for (const auto& c : cases) {
    std::string var = "OBSFORGE_";
    for (const char ch : c.key) {
      var += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    const auto env = [&](const std::string& value) {
      return [var, value](const std::string& name) -> std::optional<std::string> {
        return name == var ? std::optional<std::string>(value) : std::nullopt;
      };
    };
    const ServerOptions from_file =
        ParseServerConfig(c.key + ": " + c.good + "\n", "/o.yaml").server;
    ServerOptions from_env;
    ApplyEnvironment(from_env, env(c.good));
    EXPECT_NE(settings(from_env), settings(ServerOptions{})) << var;
    EXPECT_EQ(settings(from_env), settings(from_file)) << var;
    if (c.bad.empty()) {
      continue;
    }
    std::string file_error;
    try {
      (void)ParseServerConfig(c.key + ": '" + c.bad + "'\n", "o.yaml");
    } catch (const core::InputError& e) {
      file_error = e.diagnostics().at(0).message;
    }
    std::string env_error;
    try {
      ServerOptions options;
      ApplyEnvironment(options, env(c.bad));
    } catch (const core::InputError& e) {
      EXPECT_EQ(e.diagnostics().at(0).file, var);
      env_error = e.diagnostics().at(0).message;
    }
    EXPECT_FALSE(file_error.empty()) << c.key;
    EXPECT_EQ(env_error, file_error) << var;
  }
}

TEST(RuntimeStatusJson, KeepsTheWireFormatAndNamesTheRuntime) {
  const control::RuntimeStatus local{
      .runtime = "local",
      .revisions = control::RuntimeStatus::Revisions{.current = 3, .last_good = std::nullopt},
      .components = {{.name = "prometheus",
                      .state = "running",
                      .pid = 42,
                      .restarts = 1,
                      .url = "http://127.0.0.1:9090",
                      .last_exit = "exited with status 1"},
                     {.name = "loki",
                      .state = "unavailable: loki not found on PATH",
                      .url = "http://127.0.0.1:3100"}}};
  EXPECT_EQ(ToJson(local), nlohmann::json::parse(R"({
      "runtime": "local", "revision": 3, "last_good": null,
      "components": [
        {"name": "prometheus", "state": "running", "url": "http://127.0.0.1:9090", "pid": 42,
         "restarts": 1, "last_exit": "exited with status 1"},
        {"name": "loki", "state": "unavailable: loki not found on PATH",
         "url": "http://127.0.0.1:3100", "pid": 0, "restarts": 0}]})"));
  EXPECT_EQ(ToJson(control::RuntimeStatus{}),
            nlohmann::json::parse(R"({"runtime": null, "components": []})"));
}

}  // namespace
}  // namespace obsforge::server::testing
