// Grafana's contract: the provisioning tests (grafana_fakes_test.cc, compiled into this binary as
// well) run again, and every request obsforge sends to the FakeGrafana and every answer the fake
// gives is checked against Grafana's own published API description, api-merged.json (Swagger
// 2.0), from the optional corpus (`<OBS_SHARED_DIR>/corpus/grafana-openapi/`, or
// $OBS_CORPUS_DIR). Without it every test of this binary is reported as skipped.
#include "provision/grafana_contract.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "fakes/fake_grafana.h"

namespace obsforge::provision::testing {
namespace {

using nlohmann::json;

std::filesystem::path SpecPath() {
  return obs_test::CorpusDir() / "grafana-openapi" / "api-merged.json";
}

// The description is of a Grafana 12.x main branch; the fakes answer as Grafana 10/11, which the
// stacks declare. What differs between those versions is waived here, one line each.
const std::set<std::string> kWaived = {
    // POST /api/dashboards/db: 12.x added `title` to the answer; 10.x and 11.x answer
    // {status, slug, version, id, uid, url} (pkg/api/dashboard.go).
    "postDashboardResponse.title",
};

GrafanaContract* g_contract = nullptr;

Exchange ExchangeOf(const fakes::FakeRequest& request, const fakes::FakeResponse& response) {
  return Exchange{.method = request.method,
                  .path = request.path,
                  .query = request.query,
                  .headers = request.headers,
                  .body = request.body,
                  .status = response.status,
                  .response_body = response.body};
}

// Loads the description once per process and checks every exchange of every FakeGrafana.
class ContractEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    OBS_SKIP_UNLESS_PRESENT(SpecPath());
    std::ifstream in(SpecPath());
    json spec = json::parse(in, nullptr, false);
    ASSERT_FALSE(spec.is_discarded()) << SpecPath() << " is not JSON";
    contract_ = std::make_unique<GrafanaContract>(std::move(spec), kWaived);
    g_contract = contract_.get();
    fakes::FakeGrafana::ObserveEveryExchange(
        [](const fakes::FakeRequest& request, const fakes::FakeResponse& response) {
          if (!request.path.starts_with("/api/")) {
            return;  // /healthz and the UI are not in the API description
          }
          for (const auto& problem : g_contract->Check(ExchangeOf(request, response))) {
            // Attributed to the running test (gtest records failures from any thread).
            ADD_FAILURE() << "Grafana contract: " << problem;
          }
        });
  }
  void TearDown() override {
    fakes::FakeGrafana::ObserveEveryExchange({});
    g_contract = nullptr;
  }

 private:
  std::unique_ptr<GrafanaContract> contract_;
};

const ::testing::Environment* const kContract =
    ::testing::AddGlobalTestEnvironment(new ContractEnvironment);

// The checker itself, on exchanges whose verdict is known.
TEST(GrafanaContractChecker, KnowsRightFromWrong) {
  ASSERT_NE(g_contract, nullptr);
  EXPECT_GT(g_contract->Operations(), 300U);
  const auto check = [](Exchange e) { return g_contract->Check(e); };
  // A contact point deleted: 202 is documented, 204 is not; the provenance header is not
  // documented on this operation.
  EXPECT_TRUE(
      check({.method = "DELETE", .path = "/api/v1/provisioning/contact-points/abc", .status = 202})
          .empty());
  EXPECT_EQ(check({.method = "DELETE",
                   .path = "/api/v1/provisioning/contact-points/abc",
                   .headers = {{"X-Disable-Provenance", "true"}},
                   .status = 204})
                .size(),
            2U);
  // A rule without its required fields, an unknown path.
  const auto rule = check({.method = "POST",
                           .path = "/api/v1/provisioning/alert-rules",
                           .body = R"({"title":"t","uid":"bad uid!"})",
                           .status = 201,
                           .response_body = "{}"});
  EXPECT_NE(std::find_if(rule.begin(), rule.end(),
                         [](const std::string& p) {
                           return p.find("\"bad uid!\" does not match") != std::string::npos;
                         }),
            rule.end())
      << ::testing::PrintToString(rule);
  EXPECT_NE(std::find_if(rule.begin(), rule.end(),
                         [](const std::string& p) {
                           return p.find("required \"folderUID\" is missing") != std::string::npos;
                         }),
            rule.end());
  EXPECT_EQ(check({.method = "GET", .path = "/api/nope", .status = 200}).size(), 1U);
  // Null is no string in a request; an undocumented query parameter is reported.
  EXPECT_EQ(check({.method = "POST",
                   .path = "/api/folders/f/move",
                   .body = R"({"parentUid":null})",
                   .status = 200})
                .size(),
            1U);
  EXPECT_EQ(check({.method = "GET",
                   .path = "/api/search",
                   .query = {{"type", "dash-db"}, {"color", "red"}},
                   .status = 200,
                   .response_body = "[]"})
                .size(),
            1U);
}

}  // namespace
}  // namespace obsforge::provision::testing
