// Real Prometheus 2.42 and Alertmanager 0.25 driven through the external runtime: the files go
// into the directories the processes read, the reloads and verifications are real.
#include <atomic>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "apply/external_runtime.h"
#include "apply/tx/tx_test_util.h"
#include "core/clock.h"
#include "core/fs.h"
#include "http/curl_http_client.h"
#include "support/real_upstreams.h"
#include <sys/stat.h>

namespace obsforge::apply {
namespace {

using testing::TempDir;

/// Counts POSTs on the way to a real client.
class CountingClient final : public http::HttpClient {
 public:
  explicit CountingClient(http::HttpClient& inner) : inner_(inner) {}
  core::Result<http::Response> Send(const http::Request& request) override {
    if (request.method == "POST") {
      ++posts;
    }
    return inner_.Send(request);
  }
  std::atomic<int> posts{0};

 private:
  http::HttpClient& inner_;
};

http::HttpClient& Curl() {
  static http::CurlGlobal global;
  static http::CurlHttpClient client;
  return client;
}

constexpr const char* kPromConfig =
    "global:\n  evaluation_interval: 1s\nrule_files:\n  - rules/*.yaml\n";
constexpr const char* kAmConfig =
    "route:\n  receiver: team\n  group_wait: 5s\nreceivers:\n- name: team\n";

std::string RuleFile(const std::vector<std::string>& alerts) {
  std::string out = "groups:\n- name: demo\n  rules:\n";
  for (const auto& a : alerts) {
    out += "  - alert: " + a + "\n    expr: vector(1) > 2\n";
  }
  return out;
}

render::Bundle Bundle(const std::string& rules, const std::string& am = kAmConfig) {
  render::Bundle b;
  b.Add("MANIFEST.json", "{}\n");
  b.Add("prometheus/prometheus.yml", kPromConfig);
  b.Add("prometheus/rules/demo.yaml", rules);
  b.Add("alertmanager/alertmanager.yml", am);
  return b;
}

std::vector<std::string> LoadedAlerts(const std::string& prom_url) {
  auto r = Curl().Send({.url = prom_url + "/api/v1/rules"});
  std::vector<std::string> out;
  if (!r || r->status != 200) {
    ADD_FAILURE() << "GET /api/v1/rules: "
                  << (r ? std::to_string(r->status) + " " + r->body : r.error().message);
    return out;
  }
  const auto json = nlohmann::json::parse(r->body);
  for (const auto& g : json["data"]["groups"]) {
    for (const auto& rule : g["rules"]) {
      out.push_back(g["name"].get<std::string>() + "/" + rule["name"].get<std::string>());
    }
  }
  return out;
}

TEST(RealUpstreams, ApplyChangeNoOpAndRollbackAgainstPrometheusAndAlertmanager) {
  REQUIRE_BINARY(prometheus, "prometheus");
  REQUIRE_BINARY(alertmanager, "prometheus-alertmanager");
  TempDir dir;
  const auto prom_dir = dir.path() / "etc/prometheus";
  const auto am_dir = dir.path() / "etc/alertmanager";
  core::WriteFileAtomic(prom_dir / "prometheus.yml", kPromConfig);
  core::WriteFileAtomic(am_dir / "alertmanager.yml", kAmConfig);
  const int prom_port = obsforge::testing::FreeLoopbackPort();
  const int am_port = obsforge::testing::FreeLoopbackPort();
  const auto prom_url = "http://127.0.0.1:" + std::to_string(prom_port);
  const auto am_url = "http://127.0.0.1:" + std::to_string(am_port);
  obsforge::testing::UpstreamProcess prom_process(
      *prometheus,
      {"--config.file=" + (prom_dir / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (dir.path() / "prom-data").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--web.enable-lifecycle"},
      dir.path() / "prometheus.log");
  obsforge::testing::UpstreamProcess am_process(
      *alertmanager,
      {"--config.file=" + (am_dir / "alertmanager.yml").string(),
       "--storage.path=" + (dir.path() / "am-data").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(am_port), "--cluster.listen-address="},
      dir.path() / "alertmanager.log");
  ASSERT_TRUE(obsforge::testing::WaitUntilReady(Curl(), prom_url + "/-/ready"))
      << core::ReadFile(dir.path() / "prometheus.log");
  ASSERT_TRUE(obsforge::testing::WaitUntilReady(Curl(), am_url + "/-/ready"))
      << core::ReadFile(dir.path() / "alertmanager.log");

  spec::EnvironmentSpec env;
  env.stack = "demo";
  env.env = "ext";
  env.runtime.type = spec::Runtime::Type::kExternal;
  env.runtime.components["prometheus"] = {.url = prom_url, .config_dir = prom_dir.string()};
  env.runtime.components["alertmanager"] = {.url = am_url, .config_dir = am_dir.string()};
  core::SystemClock clock;
  CountingClient client(Curl());
  ExternalRuntime runtime(env, dir.path() / "data", client, clock,
                          {.poll_interval = std::chrono::milliseconds(50),
                           .verify_timeout = std::chrono::milliseconds(5000)});
  Applier applier(dir.path() / "data", clock);
  const auto apply = [&](const render::Bundle& bundle) {
    return runtime.Apply(bundle, applier, {});
  };

  // 1. First apply: the rule group is loaded.
  auto first = apply(Bundle(RuleFile({"First"})));
  ASSERT_EQ(first.outcome, Outcome::kApplied) << (first.error ? first.error->message : "");
  EXPECT_EQ(LoadedAlerts(prom_url), std::vector<std::string>{"demo/First"});

  // 2. A changed rule is visible after the apply returns.
  auto second = apply(Bundle(RuleFile({"First", "Second"})));
  ASSERT_EQ(second.outcome, Outcome::kApplied) << (second.error ? second.error->message : "");
  EXPECT_EQ(second.components, std::vector<std::string>{"prometheus"});
  EXPECT_EQ(LoadedAlerts(prom_url), (std::vector<std::string>{"demo/First", "demo/Second"}));

  // 3. Unchanged: nothing written, nothing reloaded.
  struct stat before {};
  ASSERT_EQ(::stat((prom_dir / "rules/demo.yaml").c_str(), &before), 0);
  const int posts = client.posts.load();
  auto third = apply(Bundle(RuleFile({"First", "Second"})));
  EXPECT_EQ(third.outcome, Outcome::kUnchanged);
  EXPECT_EQ(client.posts.load(), posts);
  struct stat after {};
  ASSERT_EQ(::stat((prom_dir / "rules/demo.yaml").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
  EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);

  // 4. A rule Prometheus rejects (bad PromQL): rolled back with Prometheus's own words.
  const std::string bad = "groups:\n- name: demo\n  rules:\n  - alert: Broken\n    expr: sum(up\n";
  auto fourth = apply(Bundle(bad));
  ASSERT_EQ(fourth.outcome, Outcome::kRolledBack) << (fourth.error ? fourth.error->message : "");
  ASSERT_TRUE(fourth.error);
  EXPECT_EQ(fourth.error->message.rfind("failed to reload config: ", 0), 0U)
      << fourth.error->message;
  EXPECT_EQ(fourth.error->upstream_status, 500);
  EXPECT_EQ(fourth.failed_component, "prometheus");
  EXPECT_EQ(core::ReadFile(prom_dir / "rules/demo.yaml"), RuleFile({"First", "Second"}));
  EXPECT_EQ(LoadedAlerts(prom_url), (std::vector<std::string>{"demo/First", "demo/Second"}));
  EXPECT_EQ(fourth.revision, second.revision);

  // 5. An Alertmanager config it rejects: rolled back, old file back.
  auto fifth = apply(Bundle(RuleFile({"First", "Second"}),
                            "route:\n  receiver: nobody\nreceivers:\n- name: team\n"));
  ASSERT_EQ(fifth.outcome, Outcome::kRolledBack) << (fifth.error ? fifth.error->message : "");
  EXPECT_EQ(fifth.error->message,
            "failed to reload config: undefined receiver \"nobody\" used in route");
  EXPECT_EQ(core::ReadFile(am_dir / "alertmanager.yml"), kAmConfig);

  // 6. And a good Alertmanager change goes through, verified against /api/v2/status.
  auto sixth =
      apply(Bundle(RuleFile({"First", "Second"}),
                   "route:\n  receiver: ops\n  group_wait: 10s\nreceivers:\n- name: ops\n"));
  ASSERT_EQ(sixth.outcome, Outcome::kApplied) << (sixth.error ? sixth.error->message : "");
  EXPECT_EQ(sixth.components, std::vector<std::string>{"alertmanager"});
}

}  // namespace
}  // namespace obsforge::apply
