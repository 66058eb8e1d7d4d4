// End to end: the server over the real EnvironmentController, with Debian's prometheus and
// alertmanager started as local components.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apply/environment_controller.h"
#include "control/controller_backend.h"
#include "core/fs.h"
#include "server/harness.h"
#include "support/poll_until.h"

namespace obsforge::server::testing {
namespace {

bool OnPath(const char* binary) {
  return std::system((std::string("command -v ") + binary + " >/dev/null 2>&1").c_str()) == 0;
}

class EndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!OnPath("prometheus") || (!OnPath("alertmanager") && !OnPath("prometheus-alertmanager"))) {
      GTEST_SKIP() << "prometheus or alertmanager not installed";
    }
    controller_ = std::make_unique<apply::EnvironmentController>(
        apply::ControllerOptions{.data_dir = dir_.path() / "var"}, http_, clock_, logger_);
    backend_ = std::make_unique<control::ControllerBackend>(*controller_);
    auto store = store::SqliteStore::Open({.path = (dir_.path() / "obsforge.db").string()}, clock_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    // External environments write under etc/ only: the operator lists it as a config root.
    const ServerOptions options{.listen = "127.0.0.1:0",
                                .data_dir = dir_.path() / "var",
                                .content_dir = OBS_SOURCE_DIR,
                                .trust = {.config_roots = {dir_.path() / "etc"}}};
    app_ = std::make_unique<control::Application>(ApplicationOptionsFrom(options), *store_,
                                                  *backend_, clock_, logger_);
    server_ = std::make_unique<Server>(options, *app_, logger_);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.error().message;
    base_ = "http://127.0.0.1:" + std::to_string(*port);
  }
  void TearDown() override {
    server_.reset();
    app_.reset();
    if (controller_) {
      controller_->StopAll();
    }
  }

  http::Response Call(const std::string& method,
                      const std::string& url,
                      const std::string& body = "",
                      http::Headers headers = {}) {
    if (!body.empty()) {
      headers.emplace_back("Content-Type", "application/yaml");
    }
    auto r = http_.Send({.method = method,
                         .url = url.rfind("http", 0) == 0 ? url : base_ + url,
                         .headers = headers,
                         .body = body});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : http::Response{};
  }
  nlohmann::json Wait(const std::string& id) {
    nlohmann::json op;
    const bool finished = obsforge::testing::PollUntil(
        [&] {
          op = nlohmann::json::parse(Call("GET", "/api/v1/operations/" + id).body);
          const std::string state = op["state"];
          return state != "queued" && state != "running";
        },
        std::chrono::seconds(90));
    if (!finished) {
      ADD_FAILURE() << "operation did not finish: " << op.dump();
    }
    return op;
  }
  nlohmann::json Component(const std::string& name) {
    const auto stack = nlohmann::json::parse(Call("GET", "/api/v1/stacks/demo").body);
    for (const auto& c : stack["environments"]["dev"]["runtime"]["components"]) {
      if (c["name"] == name) {
        return c;
      }
    }
    return nullptr;
  }

  TempDir dir_;
  core::SystemClock clock_;
  core::Logger& logger_ = core::NullLogger();
  http::CurlHttpClient http_{http::CurlOptions{}};
  std::unique_ptr<apply::EnvironmentController> controller_;
  std::unique_ptr<control::ControllerBackend> backend_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<control::Application> app_;
  std::unique_ptr<Server> server_;
  std::string base_;
};

TEST_F(EndToEnd, DemoStackComesUpUpdatesAndIsTornDown) {
  const std::string spec =
      core::ReadFile(std::filesystem::path(OBS_SOURCE_DIR) / "stacks/demo.yaml");
  const http::Response created = Call("POST", "/api/v1/stacks", spec);
  ASSERT_EQ(created.status, 202) << created.body;
  const auto op = Wait(nlohmann::json::parse(created.body)["operations"][0]["id"]);
  ASSERT_EQ(op["state"], "succeeded") << op.dump(2);

  const nlohmann::json prometheus = Component("prometheus");
  const nlohmann::json alertmanager = Component("alertmanager");
  ASSERT_TRUE(prometheus.is_object()) << prometheus;
  ASSERT_TRUE(alertmanager.is_object());
  const std::string prom_url = prometheus["url"];
  EXPECT_EQ(Call("GET", prom_url + "/-/ready").status, 200);
  EXPECT_EQ(Call("GET", alertmanager["url"].get<std::string>() + "/-/ready").status, 200);

  // A change is applied and visible in the running Prometheus.
  std::string changed = spec;
  const std::string from = "scrape_interval: 15s";
  changed.replace(changed.find(from), from.size(), "scrape_interval: 37s");
  EXPECT_EQ(Call("PUT", "/api/v1/stacks/demo", changed, {{"If-Match", "\"7\""}}).status, 412);
  const http::Response put = Call("PUT", "/api/v1/stacks/demo", changed, {{"If-Match", "\"1\""}});
  ASSERT_EQ(put.status, 202) << put.body;
  const auto update = Wait(nlohmann::json::parse(put.body)["operations"][0]["id"]);
  ASSERT_EQ(update["state"], "succeeded") << update.dump(2);
  EXPECT_THAT(Call("GET", prom_url + "/api/v1/status/config").body, ::testing::HasSubstr("37s"));

  const int pid = Component("prometheus")["pid"];
  const http::Response del = Call("DELETE", "/api/v1/stacks/demo");
  ASSERT_EQ(del.status, 202);
  EXPECT_EQ(Wait(nlohmann::json::parse(del.body)["operation"]["id"])["state"], "succeeded");
  EXPECT_EQ(Call("GET", "/api/v1/stacks/demo").status, 404);
  EXPECT_NE(::kill(pid, 0), 0) << "prometheus still running";
}

// A plan cuts each file's diff after apply::kDefaultDiffLines lines; `?full=true` gives all.
TEST_F(EndToEnd, PlanCutsLongDiffsUnlessFullIsAsked) {
  std::string rules = "groups:\n- name: many\n  rules:\n";
  for (int i = 0; i < 800; ++i) {
    rules += "  - record: r" + std::to_string(i) + "\n    expr: vector(1)\n";
  }
  const auto runtime = [&](const std::string& env) {
    return nlohmann::json{
        {"runtime",
         {{"type", "external"},
          {"prometheus", {{"config_dir", (dir_.path() / "etc" / env).string()}}}}}};
  };
  const nlohmann::json spec = {
      {"apiVersion", "obsforge/v1"},
      {"kind", "Stack"},
      {"metadata", {{"name", "big"}}},
      {"spec",
       {{"components", {{"prometheus", {{"enabled", true}}}}},
        {"alerts", {{{"path", "alerts/*.yaml"}, {"type", "prometheus"}}}},
        {"environments", {{"dev", runtime("dev")}, {"staging", runtime("staging")}}}}}};
  // Only dev is applied, so staging's plan adds every file.
  auto created = http_.Send(
      {.method = "POST",
       .url = base_ + "/api/v1/stacks?environments=dev",
       .headers = {{"Content-Type", "application/json"}},
       .body = nlohmann::json{{"spec", spec}, {"files", {{"alerts/many.yaml", rules}}}}.dump()});
  ASSERT_TRUE(created.ok()) << created.error().message;
  ASSERT_EQ(created->status, 202) << created->body;
  EXPECT_EQ(Wait(nlohmann::json::parse(created->body)["operations"][0]["id"])["state"],
            "succeeded");

  const auto rule_file = [&](const std::string& query) {
    const auto r = Call("POST", "/api/v1/stacks/big/environments/staging/plan" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    const auto plan = nlohmann::json::parse(r.body);
    for (const auto& f : plan["files"]) {
      if (f["path"] == "prometheus/rules/many.yaml") {
        return f;
      }
    }
    ADD_FAILURE() << "no rule file in " << r.body.substr(0, 1000);
    return nlohmann::json::object();
  };
  const auto cut = rule_file("");
  EXPECT_EQ(cut["diff_cut"], true);
  const std::size_t total = cut.value("diff_lines", 0U);
  EXPECT_GT(total, 1600U);
  const std::string cut_diff = cut["diff"];
  EXPECT_THAT(cut_diff, ::testing::HasSubstr("\n... diff cut after 1000 of " +
                                             std::to_string(total) + " lines"));
  EXPECT_EQ(std::count(cut_diff.begin(), cut_diff.end(), '\n'), 1001);

  const auto full = rule_file("?full=true");
  EXPECT_FALSE(full.contains("diff_cut"));
  const std::string diff = full["diff"];
  EXPECT_EQ(static_cast<std::size_t>(std::count(diff.begin(), diff.end(), '\n')), total);
  EXPECT_THAT(diff, ::testing::HasSubstr("- record: r799\n"));
}

}  // namespace
}  // namespace obsforge::server::testing
