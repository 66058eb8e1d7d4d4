#include <gtest/gtest.h>

#include "fakes/fake_grafana.h"
#include "fakes/test_client.h"

namespace obsforge::fakes {
namespace {

using nlohmann::json;
using testing::BasicAuth;
using testing::Call;
using testing::Reply;

class GrafanaTest : public ::testing::Test {
 protected:
  GrafanaTest() : grafana_(GrafanaOptions{.password = "s3cret", .token = "glsa_token"}) {}

  Reply Api(const std::string& method,
            const std::string& path,
            const json& body = nullptr,
            http::Headers headers = {}) {
    headers.emplace_back("Authorization", BasicAuth("admin", "s3cret"));
    headers.emplace_back("Content-Type", "application/json");
    return Call(grafana_.port(), method, path, body.is_null() ? "" : body.dump(), headers);
  }
  Reply SaveDashboard(const json& body) { return Api("POST", "/api/dashboards/db", body); }
  static json Dash(const std::string& uid, const std::string& title) {
    return {{"id", nullptr}, {"uid", uid}, {"title", title}};
  }

  FakeGrafana grafana_;
};

TEST_F(GrafanaTest, HealthNeedsNoAuthAndFailsOnDemand) {
  auto ok = Call(grafana_.port(), "GET", "/api/health");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.Json()["database"], "ok");
  EXPECT_EQ(ok.Json()["version"], "11.2.0");
  EXPECT_TRUE(ok.Json().contains("commit"));
  grafana_.SetDatabaseHealthy(false);
  auto failing = Call(grafana_.port(), "GET", "/api/health");
  EXPECT_EQ(failing.status, 503);
  EXPECT_EQ(failing.Json()["database"], "failing");
  auto healthz = Call(grafana_.port(), "GET", "/healthz");
  EXPECT_EQ(healthz.status, 200);
  EXPECT_EQ(healthz.body, "Ok");
}

TEST_F(GrafanaTest, ApiNeedsBasicAuthOrBearerToken) {
  for (const auto& header :
       {std::string(), BasicAuth("admin", "wrong"), std::string("Bearer nope")}) {
    http::Headers headers;
    if (!header.empty()) {
      headers.emplace_back("Authorization", header);
    }
    auto reply = Call(grafana_.port(), "GET", "/api/search", "", headers);
    EXPECT_EQ(reply.status, 401) << header;
    EXPECT_EQ(reply.body, R"({"message":"Unauthorized"})");
  }
  auto bearer =
      Call(grafana_.port(), "GET", "/api/search", "", {{"Authorization", "Bearer glsa_token"}});
  EXPECT_EQ(bearer.status, 200);
  EXPECT_EQ(Api("GET", "/api/search").status, 200);
}

TEST_F(GrafanaTest, DatasourceLifecycleHidesSecrets) {
  const json ds{{"name", "Prom"},
                {"type", "prometheus"},
                {"uid", "prom"},
                {"url", "http://p:9090"},
                {"secureJsonData", {{"httpHeaderValue1", "Bearer x"}}}};
  auto created = Api("POST", "/api/datasources", ds);
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.Json()["message"], "Datasource added");
  EXPECT_EQ(created.Json()["name"], "Prom");
  EXPECT_EQ(created.Json()["datasource"]["secureJsonFields"]["httpHeaderValue1"], true);
  EXPECT_EQ(created.body.find("Bearer x"), std::string::npos);

  auto dup_uid =
      Api("POST", "/api/datasources", json{{"name", "Other"}, {"type", "loki"}, {"uid", "prom"}});
  EXPECT_EQ(dup_uid.status, 409);
  EXPECT_EQ(dup_uid.Json()["message"], "data source with the same uid already exists");
  auto dup_name = Api("POST", "/api/datasources", json{{"name", "Prom"}, {"type", "loki"}});
  EXPECT_EQ(dup_name.status, 409);
  EXPECT_EQ(dup_name.Json()["message"], "data source with the same name already exists");

  auto got = Api("GET", "/api/datasources/uid/prom");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.Json()["version"], 1);
  EXPECT_FALSE(got.Json().contains("secureJsonData"));
  EXPECT_EQ(got.Json()["readOnly"], false);

  json update = ds;
  update.erase("secureJsonData");
  update["url"] = "http://q:9090";
  update["version"] = 7;  // newer than the stored 1: no conflict (only an older one is)
  auto updated = Api("PUT", "/api/datasources/uid/prom", update);
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.Json()["message"], "Datasource updated");
  EXPECT_EQ(updated.Json()["datasource"]["version"], 2);
  update["version"] = 1;  // the stored one is 2 now
  auto stale = Api("PUT", "/api/datasources/uid/prom", update);
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.Json()["message"],
            "Datasource has already been updated by someone else. Please reload and try again");
  update.erase("version");  // no version: no check
  EXPECT_EQ(Api("PUT", "/api/datasources/uid/prom", update).status, 200);
  EXPECT_EQ(grafana_.Datasource("prom")->at("secureJsonData")["httpHeaderValue1"], "Bearer x");

  auto deleted = Api("DELETE", "/api/datasources/uid/prom");
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.Json()["message"], "Data source deleted");
  EXPECT_EQ(Api("GET", "/api/datasources/uid/prom").status, 404);
}

TEST_F(GrafanaTest, ReadOnlyDatasourceCannotBeChanged) {
  grafana_.SeedDatasource(
      {{"uid", "file-ds"}, {"name", "File"}, {"type", "loki"}, {"readOnly", true}});
  auto del = Api("DELETE", "/api/datasources/uid/file-ds");
  EXPECT_EQ(del.status, 403);
  EXPECT_EQ(del.Json()["message"], "Cannot delete read-only data source");
  EXPECT_EQ(
      Api("PUT", "/api/datasources/uid/file-ds", json{{"name", "File"}, {"type", "loki"}}).status,
      403);
}

TEST_F(GrafanaTest, DatasourceHealthAsConfigured) {
  grafana_.SeedDatasource({{"uid", "a"}, {"name", "A"}, {"type", "prometheus"}});
  grafana_.SeedDatasource({{"uid", "b"}, {"name", "B"}, {"type", "loki"}});
  grafana_.SetDatasourceHealth("b", false, "connection refused");
  auto ok = Api("GET", "/api/datasources/uid/a/health");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.Json()["status"], "OK");
  auto bad = Api("GET", "/api/datasources/uid/b/health");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json(), json({{"status", "ERROR"}, {"message", "connection refused"}}));
  EXPECT_EQ(Api("GET", "/api/datasources/uid/zzz/health").status, 404);
}

TEST_F(GrafanaTest, ObjectsArePerOrg) {
  ASSERT_EQ(
      Api("POST", "/api/folders", json{{"uid", "f"}, {"title", "F"}}, {{"X-Grafana-Org-Id", "2"}})
          .status,
      200);
  EXPECT_EQ(Api("GET", "/api/folders/f", nullptr, {{"X-Grafana-Org-Id", "2"}}).status, 200);
  EXPECT_EQ(Api("GET", "/api/folders/f").status, 404);
  EXPECT_EQ(grafana_.State(2)["folders"].size(), 1U);
  EXPECT_EQ(Api("GET", "/api/folders", nullptr, {{"X-Grafana-Org-Id", "x"}}).status, 400);
}

TEST_F(GrafanaTest, FolderValidation) {
  auto created = Api("POST", "/api/folders", json{{"uid", "ops"}, {"title", "Ops"}});
  ASSERT_EQ(created.status, 200);
  EXPECT_EQ(created.Json()["version"], 1);
  EXPECT_EQ(created.Json()["url"], "/dashboards/f/ops/ops");
  auto dup = Api("POST", "/api/folders", json{{"uid", "ops"}, {"title", "Other"}});
  EXPECT_EQ(dup.status, 409);
  auto empty = Api("POST", "/api/folders", json{{"uid", "x"}, {"title", ""}});
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.Json()["message"], "folder title cannot be empty");
  auto longuid = Api("POST", "/api/folders", json{{"uid", std::string(41, 'a')}, {"title", "T"}});
  EXPECT_EQ(longuid.status, 400);
  EXPECT_EQ(longuid.Json()["message"], "uid too long, max 40 characters");
  auto badchars = Api("POST", "/api/folders", json{{"uid", "a/b"}, {"title", "T"}});
  EXPECT_EQ(badchars.status, 400);
  EXPECT_EQ(badchars.Json()["message"], "uid contains illegal characters");
  auto orphan =
      Api("POST", "/api/folders", json{{"uid", "c"}, {"title", "C"}, {"parentUid", "nope"}});
  EXPECT_EQ(orphan.status, 400);
  EXPECT_EQ(orphan.Json()["message"], "parent folder not found");
}

TEST_F(GrafanaTest, NestedFoldersStopAtMaxDepth) {
  std::string parent;
  for (int depth = 1; depth <= 4; ++depth) {
    json body{{"uid", "l" + std::to_string(depth)}, {"title", "L" + std::to_string(depth)}};
    if (!parent.empty()) {
      body["parentUid"] = parent;
    }
    auto reply = Api("POST", "/api/folders", body);
    ASSERT_EQ(reply.status, 200) << depth << reply.body;
    parent = body["uid"];
  }
  auto deep = Api("GET", "/api/folders/l4");
  EXPECT_EQ(deep.Json()["parentUid"], "l3");
  EXPECT_EQ(deep.Json()["parents"].size(), 3U);
  auto too_deep =
      Api("POST", "/api/folders", json{{"uid", "l5"}, {"title", "L5"}, {"parentUid", "l4"}});
  EXPECT_EQ(too_deep.status, 400);
  EXPECT_EQ(too_deep.Json()["message"], "Maximum nested folder depth reached");
  auto children = Api("GET", "/api/folders?parentUid=l1");
  ASSERT_EQ(children.Json().size(), 1U);
  EXPECT_EQ(children.Json()[0]["uid"], "l2");
}

TEST_F(GrafanaTest, FolderUpdateNeedsCurrentVersionUnlessOverwrite) {
  grafana_.SeedFolder({{"uid", "f"}, {"title", "F"}});
  auto stale = Api("PUT", "/api/folders/f", json{{"title", "G"}, {"version", 0}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(stale.Json()["status"], "version-mismatch");
  auto ok = Api("PUT", "/api/folders/f", json{{"title", "G"}, {"version", 1}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.Json()["version"], 2);
  EXPECT_EQ(Api("PUT", "/api/folders/f", json{{"title", "H"}, {"overwrite", true}}).status, 200);
}

TEST_F(GrafanaTest, FolderDeleteRemovesDashboardsAndGuardsRules) {
  grafana_.SeedFolder({{"uid", "f"}, {"title", "F"}});
  grafana_.SeedDashboard({{"uid", "d"}, {"title", "D"}}, "f");
  auto deleted = Api("DELETE", "/api/folders/f");
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(Api("GET", "/api/dashboards/uid/d").status, 404);

  grafana_.SeedFolder({{"uid", "g"}, {"title", "G"}});
  grafana_.SeedAlertRule({{"uid", "r"}, {"title", "R"}, {"folderUID", "g"}, {"ruleGroup", "grp"}},
                         "api");
  auto guarded = Api("DELETE", "/api/folders/g");
  EXPECT_EQ(guarded.status, 400);
  EXPECT_EQ(guarded.Json()["message"], "folder cannot be deleted: folder contains alert rules");
  EXPECT_EQ(Api("DELETE", "/api/folders/g?forceDeleteRules=false").status, 400);
  EXPECT_EQ(Api("DELETE", "/api/folders/g?forceDeleteRules=true").status, 200);
  EXPECT_FALSE(grafana_.AlertRule("r").has_value());
}

TEST_F(GrafanaTest, DashboardCreateAndUpdate) {
  grafana_.SeedFolder({{"uid", "f"}, {"title", "F"}});
  auto created = SaveDashboard(
      {{"dashboard", Dash("d1", "My Board!")}, {"folderUid", "f"}, {"overwrite", false}});
  ASSERT_EQ(created.status, 200) << created.body;
  const json c = created.Json();
  EXPECT_EQ(c["uid"], "d1");
  EXPECT_EQ(c["url"], "/d/d1/my-board");
  EXPECT_EQ(c["slug"], "my-board");
  EXPECT_EQ(c["status"], "success");
  EXPECT_EQ(c["version"], 1);
  EXPECT_TRUE(c["id"].is_number());

  json stale = Dash("d1", "My Board!");
  stale["version"] = 0;
  auto mismatch = SaveDashboard({{"dashboard", stale}, {"folderUid", "f"}, {"overwrite", false}});
  EXPECT_EQ(mismatch.status, 412);
  EXPECT_EQ(
      mismatch.body,
      R"({"message":"The dashboard has been changed by someone else","status":"version-mismatch"})");
  stale["version"] = 1;
  EXPECT_EQ(SaveDashboard({{"dashboard", stale}, {"folderUid", "f"}, {"overwrite", false}})
                .Json()["version"],
            2);
  auto forced = SaveDashboard(
      {{"dashboard", Dash("d1", "My Board!")}, {"folderUid", "f"}, {"overwrite", true}});
  EXPECT_EQ(forced.Json()["version"], 3);

  auto got = Api("GET", "/api/dashboards/uid/d1");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.Json()["meta"]["folderUid"], "f");
  EXPECT_EQ(got.Json()["meta"]["folderTitle"], "F");
  EXPECT_EQ(got.Json()["meta"]["provisioned"], false);
  EXPECT_EQ(got.Json()["meta"]["version"], 3);
  EXPECT_EQ(got.Json()["dashboard"]["version"], 3);

  // An update without folderUid moves the dashboard to the root.
  ASSERT_EQ(SaveDashboard({{"dashboard", Dash("d1", "My Board!")}, {"overwrite", true}}).status,
            200);
  EXPECT_EQ(Api("GET", "/api/dashboards/uid/d1").Json()["meta"]["folderUid"], "");
}

TEST_F(GrafanaTest, DashboardRejections) {
  json with_id = Dash("d", "D");
  with_id["id"] = 12;
  auto not_found = SaveDashboard({{"dashboard", with_id}});
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(not_found.Json()["status"], "not-found");
  auto long_uid = SaveDashboard({{"dashboard", Dash(std::string(41, 'u'), "D")}});
  EXPECT_EQ(long_uid.status, 400);
  EXPECT_EQ(long_uid.Json()["message"], "uid too long, max 40 characters");
  auto no_folder = SaveDashboard({{"dashboard", Dash("d", "D")}, {"folderUid", "missing"}});
  EXPECT_EQ(no_folder.status, 400);
  EXPECT_EQ(no_folder.Json()["message"], "folder not found");
  auto long_message =
      SaveDashboard({{"dashboard", Dash("d", "D")}, {"message", std::string(501, 'm')}});
  EXPECT_EQ(long_message.status, 400);
  EXPECT_EQ(
      SaveDashboard({{"dashboard", Dash("d", "D")}, {"message", std::string(500, 'm')}}).status,
      200);
  auto same_name = SaveDashboard({{"dashboard", Dash("other", "D")}});
  EXPECT_EQ(same_name.status, 412);
  EXPECT_EQ(same_name.Json()["status"], "name-exists");
  // With overwrite (what obsforge sends) Grafana up to 11.2 takes the other dashboard over: the
  // save lands on its uid and the posted uid is never used.
  auto taken_over = SaveDashboard({{"dashboard", Dash("other", "D")}, {"overwrite", true}});
  ASSERT_EQ(taken_over.status, 200) << taken_over.body;
  EXPECT_EQ(taken_over.Json()["uid"], "d");
  EXPECT_EQ(Api("GET", "/api/dashboards/uid/other").status, 404);

  grafana_.SeedDashboard({{"uid", "prov"}, {"title", "Prov"}}, "", true);
  auto provisioned = SaveDashboard({{"dashboard", Dash("prov", "Prov")}, {"overwrite", true}});
  EXPECT_EQ(provisioned.status, 400);
  EXPECT_EQ(provisioned.Json()["message"], "Cannot save provisioned dashboard");
  auto del = Api("DELETE", "/api/dashboards/uid/prov");
  EXPECT_EQ(del.status, 400);
  EXPECT_EQ(del.Json()["message"], "provisioned dashboard cannot be deleted");
  EXPECT_EQ(Api("DELETE", "/api/dashboards/uid/d").status, 200);
  EXPECT_EQ(Api("DELETE", "/api/dashboards/uid/d").status, 404);
}

TEST(GrafanaVersionTest, FromGrafana113TitlesNeedNotBeUnique) {
  FakeGrafana grafana(GrafanaOptions{.version = "11.3.0"});
  const http::Headers headers{{"Authorization", BasicAuth("admin", "admin")},
                              {"Content-Type", "application/json"}};
  const auto save = [&](const std::string& uid) {
    return Call(grafana.port(), "POST", "/api/dashboards/db",
                json{{"dashboard", {{"id", nullptr}, {"uid", uid}, {"title", "Same"}}}}.dump(),
                headers);
  };
  EXPECT_EQ(save("a").status, 200);
  EXPECT_EQ(save("b").status, 200);
  EXPECT_EQ(Call(grafana.port(), "GET", "/api/dashboards/uid/b", "", headers).status, 200);
}

TEST_F(GrafanaTest, SearchFilters) {
  grafana_.SeedFolder({{"uid", "a"}, {"title", "Alpha"}});
  grafana_.SeedFolder({{"uid", "b"}, {"title", "Beta"}});
  grafana_.SeedDashboard({{"uid", "d1"}, {"title", "CPU"}, {"tags", {"obsforge", "x"}}}, "a");
  grafana_.SeedDashboard({{"uid", "d2"}, {"title", "Memory"}, {"tags", {"obsforge"}}}, "b");
  grafana_.SeedDashboard({{"uid", "d3"}, {"title", "Disk"}}, "");
  auto uids = [&](const std::string& query) {
    std::vector<std::string> out;
    for (const auto& hit : Api("GET", "/api/search?" + query).Json()) {
      out.push_back(hit["uid"]);
    }
    return out;
  };
  EXPECT_EQ(uids("type=dash-folder"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(uids("type=dash-db"), (std::vector<std::string>{"d1", "d3", "d2"}));
  EXPECT_EQ(uids("type=dash-db&folderUIDs=a&folderUIDs=b"), (std::vector<std::string>{"d1", "d2"}));
  EXPECT_EQ(uids("type=dash-db&tag=obsforge&tag=x"), (std::vector<std::string>{"d1"}));
  EXPECT_EQ(uids("type=dash-db&query=mem"), (std::vector<std::string>{"d2"}));
  EXPECT_EQ(uids("dashboardUIDs=d3"), (std::vector<std::string>{"d3"}));
  EXPECT_EQ(uids("type=dash-db&limit=2&page=2"), (std::vector<std::string>{"d2"}));
  const auto hit = Api("GET", "/api/search?dashboardUIDs=d1").Json()[0];
  EXPECT_EQ(hit["folderUid"], "a");
  EXPECT_EQ(hit["folderTitle"], "Alpha");
  EXPECT_EQ(hit["type"], "dash-db");
}

TEST_F(GrafanaTest, WriteCountersAndHandEdits) {
  ASSERT_EQ(SaveDashboard({{"dashboard", Dash("d", "D")}}).status, 200);
  Api("GET", "/api/dashboards/uid/d");
  Api("POST", "/api/folders", json{{"uid", "f"}, {"title", "F"}});
  EXPECT_EQ(grafana_.Writes("POST /api/dashboards/db"), 1);
  EXPECT_EQ(grafana_.Writes("POST /api/folders"), 1);
  EXPECT_EQ(grafana_.TotalWrites(), 2);
  grafana_.ResetCounters();
  EXPECT_EQ(grafana_.TotalWrites(), 0);

  grafana_.EditDashboard("d", [](json& model) { model["title"] = "Edited"; });
  auto got = Api("GET", "/api/dashboards/uid/d").Json();
  EXPECT_EQ(got["dashboard"]["title"], "Edited");
  EXPECT_EQ(got["meta"]["version"], 2);
  EXPECT_EQ(grafana_.TotalWrites(), 0);
}

}  // namespace
}  // namespace obsforge::fakes
