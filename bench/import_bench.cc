// Import benchmark: a FakeGrafana holding N dashboards (the project's content fixtures, copied
// with new uids) in a folder tree of 4 × 5 folders, two datasources, a rule group and a contact
// point. Measures, in one run:
//   read    ReadGrafana: every object over HTTP (the dashboards one GET each),
//           next to the naive baseline: one `curl` process per dashboard from a shell loop;
//   import  importer::Import of what was read (pure: no I/O), next to one render of the spec it
//           wrote (what every later `obsforge render` of the stack costs);
//   peak RSS of the process at the end.
// Usage: import_bench [count=1000]
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

#include "core/fs.h"
#include "fakes/fake_grafana.h"
#include "http/curl_http_client.h"
#include "importer/import.h"
#include "provision/grafana_client.h"
#include "render/render.h"
#include "spec/stack.h"
#include <sys/resource.h>
#include <unistd.h>

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// CPU seconds (user + system) of this process, or of its finished children.
double CpuSeconds(int who) {
  rusage usage{};
  ::getrusage(who, &usage);
  const auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

// Wall and CPU time of one phase.
struct Timer {
  explicit Timer(int who = RUSAGE_SELF) : who_(who), cpu_(CpuSeconds(who)) {}
  std::string Text() const {
    char out[64];
    std::snprintf(out, sizeof out, "%.2f s wall, %.2f s CPU", Seconds(start_),
                  CpuSeconds(who_) - cpu_);
    return out;
  }

 private:
  int who_;
  Clock::time_point start_ = Clock::now();
  double cpu_;
};

std::vector<json> Models() {
  const std::filesystem::path dir =
      std::filesystem::path(OBS_SOURCE_DIR) / "tests/content/dashboards";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<json> models;
  for (const auto& file : files) {
    models.push_back(json::parse(obsforge::core::ReadFile(file)));
  }
  return models;
}

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 1000;
  obsforge::http::CurlGlobal curl_global;
  obsforge::fakes::FakeGrafana grafana;

  grafana.SeedDatasource({{"uid", "prom"},
                          {"name", "Prometheus"},
                          {"type", "prometheus"},
                          {"url", "http://prometheus:9090"},
                          {"isDefault", true}});
  grafana.SeedDatasource(
      {{"uid", "loki"}, {"name", "Loki"}, {"type", "loki"}, {"url", "http://loki:3100"}});
  std::vector<std::string> folders;
  for (int t = 0; t < 4; ++t) {
    const std::string team = "team-" + std::to_string(t);
    grafana.SeedFolder({{"uid", team}, {"title", "Team " + std::to_string(t)}});
    for (int s = 0; s < 5; ++s) {
      const std::string uid = team + "-" + std::to_string(s);
      grafana.SeedFolder(
          {{"uid", uid}, {"title", "Service " + std::to_string(s)}, {"parentUid", team}});
      folders.push_back(uid);
    }
  }
  const std::vector<json> models = Models();
  std::size_t bytes = 0;
  for (int i = 0; i < count; ++i) {
    json model = models[static_cast<std::size_t>(i) % models.size()];
    model["uid"] = "dash-" + std::to_string(i);
    model["title"] = model.value("title", std::string("Dashboard")) + " #" + std::to_string(i);
    bytes += model.dump().size();
    grafana.SeedDashboard(model, folders[static_cast<std::size_t>(i) % folders.size()]);
  }

  obsforge::http::CurlHttpClient curl({.max_per_host = 8});
  obsforge::provision::GrafanaClient client({.base_url = grafana.url(),
                                             .basic_user = "admin",
                                             .basic_password = obsforge::core::Secret("admin")},
                                            curl);
  const Timer read_timer;
  auto snapshot = obsforge::importer::ReadGrafana(client, grafana.url(), "basic", "admin");
  const std::string read_t = read_timer.Text();
  if (!snapshot.ok()) {
    std::cerr << "read failed: " << snapshot.error().message << "\n";
    return 1;
  }

  // Baseline: what an export script does, one curl per dashboard.
  const std::string loop = "for i in $(seq 0 " + std::to_string(count - 1) +
                           "); do curl -sf -o /dev/null -u admin:admin " + grafana.url() +
                           "/api/dashboards/uid/dash-$i || exit 1; done";
  const Timer curl_timer(RUSAGE_CHILDREN);
  const int rc = std::system(loop.c_str());
  const std::string curl_t = curl_timer.Text();

  const Timer import_timer;
  const auto imported =
      obsforge::importer::Import({.name = "bench", .grafana = std::move(*snapshot), .adopt = true});
  const std::string import_t = import_timer.Text();

  std::map<std::string, std::string> files = imported.files;
  files[imported.spec_path] = imported.spec_yaml;
  const Timer render_timer;
  const auto content = obsforge::spec::MakeMemorySource(files);
  const auto stack = obsforge::spec::ParseStack(imported.spec_yaml, imported.spec_path, *content);
  const auto bundle = obsforge::render::RenderEnvironment(
      obsforge::spec::ForEnvironment(stack, "prod"), *content, obsforge::render::RenderOptions{});
  const std::string render_t = render_timer.Text();

  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  std::printf("dashboards: %d (%.1f MiB of JSON) in %zu folders; files written: %zu\n", count,
              static_cast<double>(bytes) / (1024.0 * 1024.0), folders.size() + 4,
              imported.files.size());
  std::printf("read from Grafana (ReadGrafana):       %s\n", read_t.c_str());
  std::printf("  baseline, one curl per dashboard:    %s (curl processes)%s\n", curl_t.c_str(),
              rc == 0 ? "" : " FAILED");
  std::printf("import (pure, after the read):         %s\n", import_t.c_str());
  std::printf("  baseline, one render of the result:  %s (%zu files)\n", render_t.c_str(),
              bundle.files().size());
  std::printf("peak RSS:                              %.0f MiB\n",
              static_cast<double>(usage.ru_maxrss) / 1024.0);
  return rc == 0 ? 0 : 1;
}
