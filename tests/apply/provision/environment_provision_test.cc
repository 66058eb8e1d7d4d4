// The provision step of EnvironmentController: an external-runtime environment whose Grafana and
// Loki are FakeGrafana / FakeLoki on loopback. Apply provisions, a second apply writes nothing,
// hand edits show as drift in the plan and are fixed by apply, unowned objects are reported,
// teardown removes only what obsforge owns.
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apply/environment_controller.h"
#include "core/fs.h"
#include "fakes/fake_grafana.h"
#include "fakes/fake_loki.h"
#include "http/curl_http_client.h"
#include "provision/file_ledger.h"
#include "provision/store_ledger.h"
#include "spec/stack.h"
#include "store/sqlite_store.h"
#include <unistd.h>

namespace obsforge::apply {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

const http::CurlGlobal kCurlGlobal;

constexpr const char* kDashboard = R"({
  "uid": "prov-api",
  "title": "Prov API",
  "schemaVersion": 39,
  "tags": ["api"],
  "panels": [{"id": 1, "type": "timeseries", "title": "Requests",
              "datasource": {"type": "prometheus", "uid": "prov-prometheus"},
              "targets": [{"refId": "A", "expr": "up"}]}]
})";

constexpr const char* kLokiRules = R"(groups:
  - name: errors
    rules:
      - alert: ManyErrors
        expr: sum(rate({app="api"} |= "error" [5m])) > 1
        for: 5m
)";

std::string Spec(const std::string& grafana_url,
                 const std::string& loki_url,
                 const std::string& loki = "{}",
                 const std::string& prometheus_runtime = R"({url: "http://127.0.0.1:9"})") {
  return R"(apiVersion: obsforge/v1
kind: Stack
metadata: {name: prov}
spec:
  components:
    prometheus: {}
    loki: )" +
         loki + R"(
    grafana: {}
  dashboards:
    - {path: dashboards/*.json, folder: {uid: prov, title: Prov}}
  alerts:
    - {path: alerts/logs/*.yaml, type: loki}
  environments:
    prod:
      runtime:
        type: external
        prometheus: )" +
         prometheus_runtime + R"(
        grafana: {url: ")" +
         grafana_url + R"(", user: admin, password: {secret: PROV_GRAFANA_PASSWORD}}
        loki: {url: ")" +
         loki_url + R"(", tenant: prov}
)";
}

class EnvironmentProvisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("obs-prov-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    files_["dashboards/api.json"] = kDashboard;
    files_["alerts/logs/errors.yaml"] = kLokiRules;
    env_["PROV_GRAFANA_PASSWORD"] = "s3cret-admin";
  }
  void TearDown() override {
    controller_.reset();
    fs::remove_all(dir_);
  }

  EnvironmentController& Controller(LedgerFactory ledgers = {}) {
    ControllerOptions options;
    options.data_dir = dir_ / "var";
    options.env_lookup = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      return it == env_.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    options.ledgers = std::move(ledgers);
    options.provision_attempts = 2;
    controller_ = std::make_unique<EnvironmentController>(options, http_, clock_, log_);
    return *controller_;
  }

  spec::StackSpec Stack(const std::string& grafana_url = "") {
    content_ = spec::MakeMemorySource(files_);
    return spec::ParseStack(Spec(grafana_url.empty() ? grafana_.url() : grafana_url, loki_.url(),
                                 loki_component_, prometheus_runtime_),
                            "prov.yaml", *content_);
  }

  ApplyResult Apply(const std::string& grafana_url = "") {
    const auto stack = Stack(grafana_url);
    steps_.clear();
    return controller_->Apply(stack, "prod", *content_,
                              [this](const Step& s) { steps_.push_back(s); });
  }

  Plan PlanNow(const std::string& grafana_url = "") {
    const auto stack = Stack(grafana_url);
    auto plan = controller_->PlanFor(stack, "prod", *content_);
    EXPECT_TRUE(plan.ok()) << plan.error().message;
    return plan.ok() ? std::move(plan.value()) : Plan{};
  }

  const Step* FinishedStep(const std::string& name) const {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
      if (it->name == name && it->state != StepState::kRunning) {
        return &*it;
      }
    }
    return nullptr;
  }

  int LokiWrites() const { return loki_.TotalWrites(); }

  fs::path dir_;
  std::string loki_component_ = "{}";
  std::string prometheus_runtime_ = R"({url: "http://127.0.0.1:9"})";
  std::map<std::string, std::string> files_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<spec::ContentSource> content_;
  std::vector<Step> steps_;
  fakes::FakeGrafana grafana_{{.password = "s3cret-admin"}};
  fakes::FakeLoki loki_;
  core::SystemClock clock_;
  std::ostringstream log_stream_;
  core::Logger log_{log_stream_, core::LogLevel::kDebug};
  http::CurlHttpClient http_;
  std::unique_ptr<EnvironmentController> controller_;
};

TEST_F(EnvironmentProvisionTest, ApplyProvisionsAndASecondApplyWritesNothing) {
  Controller();
  const auto first = Apply();
  ASSERT_EQ(first.outcome, Outcome::kApplied) << (first.error ? first.error->message : "");
  const auto* step = FinishedStep("provision");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->state, StepState::kSucceeded);
  EXPECT_THAT(step->message, HasSubstr("objects changed"));

  const auto dashboard = grafana_.Dashboard("prov-api");
  ASSERT_TRUE(dashboard.has_value());
  EXPECT_THAT((*dashboard)["tags"].dump(), HasSubstr("obsforge:prov/prod"));
  EXPECT_TRUE(grafana_.Datasource("prov-prometheus").has_value());
  EXPECT_EQ(loki_.RuleGroups("prov").at("prov").count("errors"), 1U);
  EXPECT_FALSE(first.plan.objects.grafana.empty());
  ASSERT_EQ(first.plan.objects.loki.size(), 1U);
  EXPECT_EQ(first.plan.objects.loki[0].action, provision::ChangeAction::kCreate);

  // Ownership is recorded in the CLI's ledger file.
  auto ledger = provision::FileLedger::Open(dir_ / "var/stacks/prov/prod/provisioned.json").value();
  const auto owned = ledger->List(provision::ObjectKind::kDashboard);
  ASSERT_TRUE(owned.ok());
  ASSERT_EQ(owned->size(), 1U);
  EXPECT_EQ((*owned)[0].uid, "prov-api");
  // With Grafana's version of it, so the next resync need not compare it.
  EXPECT_EQ((*owned)[0].remote_version, (*grafana_.Dashboard("prov-api"))["version"]);
  EXPECT_EQ((*owned)[0].remote_id, (*grafana_.Dashboard("prov-api"))["id"]);

  grafana_.ResetCounters();
  const int loki_before = LokiWrites();
  const auto second = Apply();
  EXPECT_EQ(second.outcome, Outcome::kUnchanged) << (second.error ? second.error->message : "");
  EXPECT_EQ(grafana_.TotalWrites(), 0);
  EXPECT_EQ(LokiWrites(), loki_before);
  EXPECT_TRUE(second.plan.objects.empty());
  ASSERT_NE(FinishedStep("provision"), nullptr);
  EXPECT_EQ(FinishedStep("provision")->message, "no changes (0 writes)");
  EXPECT_TRUE(PlanNow().empty());
}

TEST_F(EnvironmentProvisionTest, HandEditIsDriftInThePlanAndApplyFixesIt) {
  Controller();
  ASSERT_EQ(Apply().outcome, Outcome::kApplied);
  grafana_.EditDashboard("prov-api", [](json& d) { d["title"] = "Edited by hand"; });

  const auto plan = PlanNow();
  EXPECT_TRUE(plan.files.empty());
  ASSERT_EQ(plan.objects.grafana.size(), 1U);
  const auto& change = plan.objects.grafana[0];
  EXPECT_EQ(change.kind, provision::ObjectKind::kDashboard);
  EXPECT_EQ(change.action, provision::ChangeAction::kUpdate);
  EXPECT_EQ(change.uid, "prov-api");
  EXPECT_EQ(plan.ToText(),
            "No changes.\n"
            "grafana: update dashboard \"prov-api\" (Prov API): 1 field\n"
            "    /title: \"Edited by hand\" -> \"Prov API\"\n"
            "Objects: 0 to create, 1 to update, 0 to delete.\n");
  const auto j = plan.ToJson();
  EXPECT_EQ(j["summary"]["objects"], (json{{"create", 0}, {"update", 1}, {"delete", 0}}));
  EXPECT_EQ(j["objects"][0],
            (json{{"target", "grafana"},
                  {"kind", "dashboard"},
                  {"uid", "prov-api"},
                  {"title", "Prov API"},
                  {"action", "update"},
                  {"diffs",
                   {{{"path", "/title"}, {"before", "Edited by hand"}, {"after", "Prov API"}}}}}));

  grafana_.ResetCounters();
  const auto fixed = Apply();
  ASSERT_EQ(fixed.outcome, Outcome::kUnchanged) << (fixed.error ? fixed.error->message : "");
  EXPECT_EQ(grafana_.Writes("POST /api/dashboards/db"), 1);
  EXPECT_EQ(grafana_.TotalWrites(), 1);
  EXPECT_EQ((*grafana_.Dashboard("prov-api"))["title"], "Prov API");
  EXPECT_TRUE(PlanNow().objects.empty());
}

TEST_F(EnvironmentProvisionTest, UnownedDashboardWithTheSameUidFailsTheApplyAndIsLeftAlone) {
  Controller();
  grafana_.SeedDashboard({{"uid", "prov-api"}, {"title", "Hand made"}}, "");

  const auto plan = PlanNow();
  ASSERT_EQ(plan.objects.conflicts.size(), 1U);
  EXPECT_THAT(plan.ToText(), HasSubstr("grafana: CONFLICT dashboard \"prov-api\": "));

  const auto result = Apply();
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  ASSERT_TRUE(result.error.has_value());
  EXPECT_EQ(result.error->code, core::ErrorCode::kConflict);
  EXPECT_EQ(result.error->message,
            "dashboard \"prov-api\": a dashboard with this uid exists; not owned by obsforge "
            "(prov/prod), left untouched");
  EXPECT_EQ(result.failed_component, "grafana");
  EXPECT_EQ((*grafana_.Dashboard("prov-api"))["title"], "Hand made");
  // The files stay applied: the revision was written and is current.
  EXPECT_EQ(result.revision, std::optional<int>(1));
  EXPECT_TRUE(controller_->Applied("prov", "prod").has_value());
  const auto* step = FinishedStep("provision");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->state, StepState::kFailed);
  EXPECT_THAT(step->message, HasSubstr("the files of revision 1 stay applied (not rolled back)"));
}

TEST_F(EnvironmentProvisionTest, UpstreamFailureFailsTheApplyWithStatusAndObject) {
  Controller();
  grafana_.faults().FailNext(10, 500, "database is locked", "/api/dashboards/db");
  const auto result = Apply();
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  ASSERT_TRUE(result.error.has_value());
  EXPECT_EQ(result.error->upstream_status, 500);
  EXPECT_THAT(result.error->message, HasSubstr("dashboard \"prov-api\" in folder \"prov\": POST "));
  EXPECT_THAT(result.error->message, HasSubstr("500 database is locked"));

  // The next apply retries what is left: the files are unchanged, the dashboard gets written.
  grafana_.faults().Clear();
  const auto retried = Apply();
  EXPECT_EQ(retried.outcome, Outcome::kUnchanged) << (retried.error ? retried.error->message : "");
  EXPECT_TRUE(grafana_.Dashboard("prov-api").has_value());
}

TEST_F(EnvironmentProvisionTest, LokiRulerFailureNamesLokiAndTheGroup) {
  Controller();
  loki_.faults().FailNext(10, 500, "ruler store unavailable", "/loki/api/v1/rules");
  const auto result = Apply();
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  EXPECT_EQ(result.failed_component, "loki");
  ASSERT_TRUE(result.error.has_value());
  EXPECT_EQ(result.error->upstream_status, 500);
  EXPECT_THAT(result.error->message, HasSubstr("ruler store unavailable"));
  // Grafana was provisioned before the ruler failed.
  EXPECT_TRUE(grafana_.Dashboard("prov-api").has_value());
}

TEST_F(EnvironmentProvisionTest, ARunningVersionOtherThanTheDeclaredOneIsANoteInThePlan) {
  Controller();
  loki_component_ = "{version: \"3.0\"}";  // the fake answers as Loki 2.9.9
  const auto plan = PlanNow();
  EXPECT_THAT(plan.objects.notes,
              ::testing::Contains("loki: running 2.9.9, the spec declares 3.0 (the configuration "
                                  "is written for 3.0)"));
  loki_component_ = "{version: \"2.9\"}";
  EXPECT_THAT(PlanNow().objects.notes, ::testing::Each(::testing::Not(HasSubstr("running"))));
}

// The runtime's notes (a file obsforge would overwrite but did not write) and the provisioning
// plan's objects are both in one plan: planning the objects does not drop the runtime's notes.
TEST_F(EnvironmentProvisionTest, ThePlanKeepsTheRuntimesNotesBesideTheObjects) {
  Controller();
  const fs::path etc = dir_ / "etc" / "prometheus";
  fs::create_directories(etc);
  std::ofstream(etc / "prometheus.yml") << "# written by hand\n";
  prometheus_runtime_ = R"({url: "http://127.0.0.1:9", config_dir: ")" + etc.string() + R"("})";
  const auto plan = PlanNow();
  EXPECT_THAT(plan.objects.notes, ::testing::Contains(HasSubstr((etc / "prometheus.yml").string() +
                                                                " was not written by obsforge")));
  EXPECT_FALSE(plan.objects.grafana.empty());
}

TEST_F(EnvironmentProvisionTest, UnreachableGrafanaIsANoteInThePlan) {
  Controller();
  const auto plan = PlanNow("http://127.0.0.1:1");
  ASSERT_FALSE(plan.objects.notes.empty());
  EXPECT_THAT(plan.objects.notes[0], HasSubstr("grafana: cannot plan objects: "));
  EXPECT_THAT(plan.ToText(), HasSubstr("note: grafana: cannot plan objects: "));
  EXPECT_EQ(plan.ToJson()["notes"].size(), plan.objects.notes.size());
  // Loki was still planned.
  ASSERT_EQ(plan.objects.loki.size(), 1U);
}

TEST_F(EnvironmentProvisionTest, MissingCredentialSecretFailsTheProvisionStep) {
  Controller();
  env_.erase("PROV_GRAFANA_PASSWORD");
  const auto result = Apply();
  EXPECT_EQ(result.outcome, Outcome::kFailed);
  ASSERT_TRUE(result.error.has_value());
  EXPECT_THAT(result.error->message, HasSubstr("grafana password: "));
  EXPECT_THAT(result.error->message, HasSubstr("PROV_GRAFANA_PASSWORD"));
  EXPECT_EQ(grafana_.TotalWrites(), 0);
}

TEST_F(EnvironmentProvisionTest, TeardownRemovesOnlyOwnedObjects) {
  Controller();
  grafana_.SeedDashboard({{"uid", "someone-elses"}, {"title", "Not ours"}}, "");
  ASSERT_EQ(Apply().outcome, Outcome::kApplied);
  ASSERT_TRUE(grafana_.Dashboard("prov-api").has_value());
  // The external runtime names itself and its components; it runs none of them.
  auto status = controller_->Status("prov", "prod");
  EXPECT_EQ(std::string(status.runtime), "external");
  EXPECT_EQ(status.revision, 1);
  ASSERT_EQ(status.components.size(), 3U);
  EXPECT_EQ(status.components[0].name, "prometheus");
  EXPECT_EQ(status.components[0].Describe(), "external");
  EXPECT_EQ(status.components[0].url, "http://127.0.0.1:9");
  EXPECT_FALSE(status.components[0].process.has_value());

  steps_.clear();
  auto down = controller_->Teardown("prov", "prod", [this](const Step& s) { steps_.push_back(s); });
  ASSERT_TRUE(down.ok()) << down.error().message;
  ASSERT_NE(FinishedStep("stop"), nullptr);
  EXPECT_EQ(FinishedStep("stop")->message, "nothing running");
  status = controller_->Status("prov", "prod");
  EXPECT_EQ(std::string(status.runtime), "") << "no runtime after a teardown";
  EXPECT_TRUE(status.components.empty());
  EXPECT_FALSE(grafana_.Dashboard("prov-api").has_value());
  EXPECT_FALSE(grafana_.Datasource("prov-prometheus").has_value());
  EXPECT_TRUE(grafana_.Dashboard("someone-elses").has_value());
  EXPECT_TRUE(loki_.RuleGroups("prov")["prov"].empty());
  const auto* step = FinishedStep("deprovision");
  ASSERT_NE(step, nullptr);
  EXPECT_EQ(step->state, StepState::kSucceeded);
  EXPECT_THAT(step->message, HasSubstr("owned objects deleted"));

  // A second teardown has nothing left to do.
  steps_.clear();
  ASSERT_TRUE(controller_->Teardown("prov", "prod", {}).ok());
}

TEST_F(EnvironmentProvisionTest, StoreBackedLedgerRecordsOwnership) {
  core::SystemClock clock;
  fs::create_directories(dir_);
  auto opened = store::SqliteStore::Open({.path = (dir_ / "obsforge.db").string()}, clock);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto& db = **opened;
  ASSERT_TRUE(db.CreateStack("prov", {.spec_json = "{}", .spec_hash = "h"}).ok());
  Controller(
      [&db](const std::string& stack,
            const std::string& env) -> core::Result<std::unique_ptr<provision::OwnershipLedger>> {
        return std::unique_ptr<provision::OwnershipLedger>(
            std::make_unique<provision::StoreLedger>(db, stack, env));
      });
  ASSERT_EQ(Apply().outcome, Outcome::kApplied);
  const auto rows = db.ListProvisionedObjects("prov", "prod", store::ObjectKind::kDashboard);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1U);
  EXPECT_EQ((*rows)[0].uid, "prov-api");
  EXPECT_FALSE((*rows)[0].content_hash.empty());
  EXPECT_FALSE(fs::exists(dir_ / "var/stacks/prov/prod/provisioned.json"));

  grafana_.ResetCounters();
  ASSERT_EQ(Apply().outcome, Outcome::kUnchanged);
  EXPECT_EQ(grafana_.TotalWrites(), 0);

  ASSERT_TRUE(controller_->Teardown("prov", "prod", {}).ok());
  const auto after = db.ListProvisionedObjects("prov", "prod", std::nullopt);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
}

}  // namespace
}  // namespace obsforge::apply
