// Provisioning benchmark: N dashboards built from the corpus against the in-process FakeGrafana.
//   first sync (everything created), no-op resync (must write nothing), and the naive baseline:
//   one `curl` process per dashboard POSTing sequentially from a shell loop.
// Usage: provision_bench [count=1000] [corpus dir] ; exits 1 when a target is missed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/fs.h"
#include "fakes/fake_grafana.h"
#include "http/curl_http_client.h"
#include "http/retrying_http_client.h"
#include "provision/desired.h"
#include "provision/grafana_client.h"
#include "provision/grafana_provisioner.h"
#include "provision/ownership.h"
#include "render/bundle.h"
#include "render/dashboards.h"
#include <unistd.h>

namespace {

using nlohmann::json;
using obsforge::provision::GrafanaProvisioner;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::vector<json> CorpusModels(const std::string& dir) {
  const std::map<std::string, obsforge::render::DatasourceRef> refs = {
      {"prometheus", {.uid = "bench-prometheus", .name = "Prometheus", .type = "prometheus"}},
      {"loki", {.uid = "bench-loki", .name = "Loki", .type = "loki"}}};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<json> models;
  for (const auto& file : files) {
    models.emplace_back(obsforge::render::RewriteDashboard(
        nlohmann::ordered_json::parse(obsforge::core::ReadFile(file)), refs, "prometheus",
        file.filename().string()));
  }
  return models;
}

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 1000;
  const std::string corpus =
      argc > 2 ? argv[2] : std::string(OBS_SHARED_DIR) + "/corpus/dashboards";
  obsforge::http::CurlGlobal curl_global;
  obsforge::fakes::FakeGrafana grafana;

  const std::vector<json> models = CorpusModels(corpus);
  json objects = {{"datasources",
                   {{{"uid", "bench-prometheus"},
                     {"name", "Prometheus"},
                     {"type", "prometheus"},
                     {"url", "http://127.0.0.1:9090"}}}},
                  {"folders", {{{"uid", "bench"}, {"title", "Bench"}}}},
                  {"dashboards", json::array()}};
  obsforge::render::Bundle bundle;
  std::size_t bytes = 0;
  for (int i = 0; i < count; ++i) {
    json model = models[static_cast<std::size_t>(i) % models.size()];
    const std::string uid = "bench-" + std::to_string(i);
    model["uid"] = uid;
    model["title"] = model.value("title", std::string("Dashboard")) + " #" + std::to_string(i);
    const std::string file = "grafana/dashboards/bench/" + uid + ".json";
    std::string text = model.dump();
    bytes += text.size();
    bundle.Add(file, std::move(text));
    objects["dashboards"].push_back({{"uid", uid}, {"folderUid", "bench"}, {"file", file}});
  }
  bundle.Add("grafana/objects.json", objects.dump());

  const obsforge::provision::Owner owner{.stack = "bench", .env = "dev"};
  const auto desired = obsforge::provision::LoadDesiredGrafana(bundle, owner);
  obsforge::http::CurlHttpClient curl({.max_per_host = 8});
  obsforge::core::SystemClock clock;
  obsforge::http::RetryingHttpClient retrying(curl, clock);
  obsforge::provision::GrafanaClient client({.base_url = grafana.url(),
                                             .basic_user = "admin",
                                             .basic_password = obsforge::core::Secret("admin")},
                                            retrying);
  obsforge::provision::InMemoryLedger ledger;
  GrafanaProvisioner provisioner({.owner = owner, .revision = "1"}, client, ledger);

  auto start = Clock::now();
  auto first = provisioner.Apply(desired);
  const double first_s = Seconds(start);
  if (!first.ok()) {
    std::cerr << "first sync failed: " << first.error().message << "\n";
    return 1;
  }
  const int first_writes = grafana.TotalWrites();
  grafana.ResetCounters();
  start = Clock::now();
  auto again = provisioner.Apply(desired);
  const double resync_s = Seconds(start);
  if (!again.ok()) {
    std::cerr << "resync failed: " << again.error().message << "\n";
    return 1;
  }
  const int resync_writes = grafana.TotalWrites();

  // Baseline: the same dashboards (other uids, so they are created too) from a shell loop.
  const std::string dir = "/tmp/provision_bench_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  for (int i = 0; i < count; ++i) {
    json model = json::parse(
        bundle.files().at("grafana/dashboards/bench/bench-" + std::to_string(i) + ".json"));
    model["uid"] = "curl-" + std::to_string(i);
    model["title"] = "curl " + model.value("title", std::string());
    model["id"] = nullptr;
    const json body = {{"dashboard", model}, {"folderUid", "bench"}, {"overwrite", true}};
    obsforge::core::WriteFileAtomic(dir + "/" + std::to_string(i) + ".json", body.dump(), 0600);
  }
  const std::string loop = "for f in " + dir +
                           "/*.json; do curl -sf -o /dev/null -u admin:admin -H "
                           "'Content-Type: application/json' -X POST --data-binary @\"$f\" " +
                           grafana.url() + "/api/dashboards/db || exit 1; done";
  start = Clock::now();
  const int rc = std::system(loop.c_str());
  const double curl_s = Seconds(start);
  std::filesystem::remove_all(dir);

  std::printf("dashboards            %d (%.1f MB of JSON, %zu corpus models)\n", count,
              static_cast<double>(bytes) / 1e6, models.size());
  std::printf("first sync            %.2f s  (%d writes; target <= 5 s)\n", first_s, first_writes);
  std::printf("no-op resync          %.2f s  (%d writes; target <= 1 s, 0 writes)\n", resync_s,
              resync_writes);
  std::printf("naive curl loop       %.2f s  (exit %d)\n", curl_s, rc);
  std::printf("speed-up vs curl loop %.1fx\n", curl_s / first_s);
  const bool ok = first_s <= 5.0 && resync_s <= 1.0 && resync_writes == 0 && rc == 0;
  std::printf("%s\n", ok ? "PASS" : "MISSED A TARGET");
  return ok ? 0 : 1;
}
