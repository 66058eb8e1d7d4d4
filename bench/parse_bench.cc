// What reading a request body costs: time and peak RSS of the spec readers on large and hostile
// bodies, each case in a child process of its own so its peak RSS is its own. The baseline rows
// run the bare libraries (nlohmann_json, yaml-cpp's YAML::Load) on the same text.
// Usage: parse_bench [CASE...]   (bench/README.md "Parsing request bodies")
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "control/spec_body.h"
#include "core/diagnostic.h"
#include "spec/document.h"
#include "support/hostile_text.h"
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using obsforge::control::ParseSpecBody;
using obsforge::testing::AliasBomb;
using obsforge::testing::Repeat;

constexpr std::size_t kMiB = 1U << 20U;

// Keeps the baseline parses from being optimised away.
volatile std::size_t benchmark_sink = 0;

// A Grafana-like dashboard of about `bytes` bytes, as text.
std::string Dashboard(std::size_t bytes, int seed) {
  nlohmann::ordered_json d = {{"title", "dashboard " + std::to_string(seed)},
                              {"uid", "d" + std::to_string(seed)},
                              {"panels", nlohmann::json::array()}};
  int i = 0;
  while (d.dump().size() < bytes) {
    for (int k = 0; k < 50; ++k, ++i) {
      d["panels"].push_back(
          {{"id", i},
           {"type", "timeseries"},
           {"title", "panel " + std::to_string(i)},
           {"datasource", {{"type", "prometheus"}, {"uid", "${DS_PROM}"}}},
           {"gridPos", {{"x", 0}, {"y", i * 8}, {"w", 24}, {"h", 8}}},
           {"targets",
            {{{"refId", "A"},
              {"expr", "sum by (job) (rate(http_requests_total{job=~\"$job\"}[5m]))"}}}}});
    }
  }
  return d.dump();
}

nlohmann::json Spec() {
  return {{"apiVersion", "obsforge/v1"},
          {"kind", "Stack"},
          {"metadata", {{"name", "big"}}},
          {"spec",
           {{"components", {{"grafana", {{"enabled", true}}}}},
            {"dashboards", {{{"path", "dashboards/*.json"}}}},
            {"environments", {{"dev", {{"runtime", {{"type", "local"}}}}}}}}}};
}

// {spec, files} with 1 MB dashboards up to ~16 MB.
std::string WrapperBody() {
  nlohmann::json files = nlohmann::json::object();
  for (int i = 0; i < 15; ++i) {
    files["dashboards/d" + std::to_string(i) + ".json"] = Dashboard(kMiB, i);
  }
  return nlohmann::json{{"spec", Spec()}, {"files", files}}.dump();
}

struct Case {
  std::string name;
  std::function<std::string()> make;                   // the body (built before the clock starts)
  std::function<std::string(const std::string&)> run;  // parses it; returns the outcome
};

std::string Outcome(const std::function<void()>& parse) {
  try {
    parse();
    return "accepted";
  } catch (const obsforge::core::InputError& e) {
    return "400: " + e.diagnostics().front().message.substr(0, 70);
  } catch (const std::exception& e) {
    return std::string("EXCEPTION: ") + e.what();
  }
}

std::string Body(const std::string& body) {
  return Outcome([&] { (void)ParseSpecBody(body, "body", "/nonexistent"); });
}

std::vector<Case> Cases() {
  return {
      {"wrapper_16mb", WrapperBody, Body},
      {"wrapper_16mb_nlohmann_baseline", WrapperBody,
       [](const std::string& b) {
         return Outcome([&] { benchmark_sink = nlohmann::json::parse(b).size(); });
       }},
      {"yaml_block_scalars_16mb",
       [] {
         std::string text =
             "apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: big}\nspec:\n"
             "  values:\n";
         for (int i = 0; text.size() < 16 * kMiB - 100; ++i) {
           text += "    k" + std::to_string(i) + ": |\n" +
                   Repeat("      " + std::string(90, 'x') + "\n", 100);
         }
         return text;
       },
       Body},
      {"yaml_block_scalars_16mb_yamlcpp_baseline",
       [] {
         std::string text = "values:\n";
         for (int i = 0; text.size() < 16 * kMiB - 100; ++i) {
           text += "  k" + std::to_string(i) + ": |\n" +
                   Repeat("    " + std::string(92, 'x') + "\n", 100);
         }
         return text;
       },
       [](const std::string& b) {
         return Outcome([&] { benchmark_sink = YAML::Load(b).size(); });
       }},
      {"small_values_16mb_json", [] { return "[" + Repeat("1,", 8 * kMiB) + "1]"; }, Body},
      {"small_values_16mb_json_nlohmann_baseline",
       [] { return "[" + Repeat("1,", 8 * kMiB) + "1]"; },
       [](const std::string& b) {
         return Outcome([&] { benchmark_sink = nlohmann::json::parse(b).size(); });
       }},
      {"small_values_16mb_yaml", [] { return Repeat("- 1\n", 4 * kMiB); }, Body},
      {"nested_brackets_206kb",
       [] { return "{\"a\": " + std::string(103'000, '[') + std::string(103'000, ']') + "}"; },
       Body},
      {"nested_brackets_16mb",
       [] { return "{\"a\": " + std::string(8 * kMiB, '[') + std::string(8 * kMiB, ']') + "}"; },
       Body},
      {"yaml_nested_flow_16mb",
       [] { return "a: " + std::string(8 * kMiB, '[') + std::string(8 * kMiB, ']') + "\n"; }, Body},
      {"yaml_anchored_flow_16mb", [] { return "&a [" + Repeat("1,", 8 * kMiB) + "1]\n"; }, Body},
      {"yaml_flow_after_comment_16mb",
       [] { return "x: 1\n#- \"\n[" + Repeat("1,", 8 * kMiB) + "1]\n"; }, Body},
      {"yaml_flow_of_empty_maps_16mb", [] { return "[" + Repeat("{}", 8 * kMiB) + "]\n"; }, Body},
      {"nested_objects_20000",
       [] { return Repeat("{\"a\":", 20'000) + "1" + std::string(20'000, '}'); }, Body},
      {"alias_bomb_390b", [] { return AliasBomb(); }, Body},
      {"wrapper_with_200000_files",
       [] {
         nlohmann::json files = nlohmann::json::object();
         for (int i = 0; i < 200'000; ++i) {
           files["dashboards/d" + std::to_string(i) + ".json"] = "{}";
         }
         return nlohmann::json{{"spec", Spec()}, {"files", files}}.dump();
       },
       Body},
  };
}

double CpuSeconds(const rusage& usage) {
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> only(argv + 1, argv + argc);
  std::printf("%-42s %10s %10s %10s %12s  %s\n", "case", "body", "wall", "cpu", "peak RSS",
              "outcome");
  for (const auto& c : Cases()) {
    if (!only.empty() && std::find(only.begin(), only.end(), c.name) == only.end()) {
      continue;
    }
    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) {
      return 1;
    }
    const pid_t child = ::fork();
    if (child == 0) {
      ::close(pipe_fds[0]);
      const std::string body = c.make();
      rusage before{};
      ::getrusage(RUSAGE_SELF, &before);
      const auto start = std::chrono::steady_clock::now();
      const std::string outcome = c.run(body);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      rusage after{};
      ::getrusage(RUSAGE_SELF, &after);
      const double cpu = CpuSeconds(after) - CpuSeconds(before);
      const std::string line = std::to_string(body.size()) + " " + std::to_string(seconds) + " " +
                               std::to_string(cpu) + " " + std::to_string(before.ru_maxrss) + " " +
                               outcome;
      (void)::write(pipe_fds[1], line.data(), line.size());
      ::_exit(0);
    }
    ::close(pipe_fds[1]);
    std::string line;
    char buffer[512];
    ssize_t n = 0;
    while ((n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0) {
      line.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]);
    int status = 0;
    rusage usage{};
    ::wait4(child, &status, 0, &usage);
    std::size_t size = 0;
    double seconds = 0;
    double cpu = 0;
    long body_rss_kb = 0;
    int used = 0;
    if (std::sscanf(line.c_str(), "%zu %lf %lf %ld %n", &size, &seconds, &cpu, &body_rss_kb,
                    &used) < 4) {
      std::printf("%-42s child failed (status %d)\n", c.name.c_str(), status);
      continue;
    }
    std::printf("%-42s %8.1fMB %8.3f s %8.3f s %9.1f MiB  %s\n", c.name.c_str(),
                static_cast<double>(size) / 1e6, seconds, cpu,
                static_cast<double>(usage.ru_maxrss) / 1024.0, line.c_str() + used);
    std::printf("%-42s %10s %10s %10s %9.1f MiB  (of which the body, built before the clock)\n", "",
                "", "", "", static_cast<double>(body_rss_kb) / 1024.0);
  }
  return 0;
}
