// The plan of one large file, as the plan route computes it: ComputePlan() and Plan::ToJson().
//
//   diff_bench FILE added [RUNS]      FILE is new: planned against nothing applied
//   diff_bench FILE one-panel [RUNS]  FILE is applied; the desired copy has one panel title changed
//
// One case per process, so that the peak RSS it prints (getrusage) belongs to that case alone.
// Prints on one line: the median and slowest wall time of RUNS plans (default 5: ComputePlan and
// ToJson as the route answers), the median of ComputePlan alone (the diff), CPU time per plan,
// the peak RSS, the RSS before the first plan (FILE loaded), the size of the whole diff and of
// the plan's JSON.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "apply/plan.h"
#include "core/fs.h"
#include <sys/resource.h>

namespace {

using obsforge::apply::ComputePlan;
using obsforge::render::Bundle;

constexpr const char* kPath = "grafana/dashboards/bench/node-exporter-full.json";

double PeakRssMib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// User + system CPU time of this process so far, in milliseconds.
double CpuMs() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3;
  };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

// `text` with the first panel title after `"panels"` changed: one line differs.
std::optional<std::string> ChangeOnePanel(std::string text) {
  const auto panels = text.find("\"panels\"");
  const std::string key = "\"title\": \"";
  const auto title = panels == std::string::npos ? panels : text.find(key, panels);
  if (title == std::string::npos) {
    return std::nullopt;
  }
  text.insert(title + key.size(), "Changed ");
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FILE added|one-panel [RUNS]\n", argv[0]);
    return 2;
  }
  const std::string file = argv[1];
  const std::string which = argv[2];
  const int runs = argc > 3 ? std::max(1, std::atoi(argv[3])) : 5;
  const std::string text = obsforge::core::ReadFile(file);

  Bundle desired;
  std::optional<Bundle> applied;
  if (which == "added") {
    desired.Add(kPath, text);
  } else if (which == "one-panel") {
    const auto changed = ChangeOnePanel(text);
    if (!changed) {
      std::fprintf(stderr, "%s has no panel title to change\n", file.c_str());
      return 2;
    }
    desired.Add(kPath, *changed);
    applied.emplace();
    applied->Add(kPath, text);
  } else {
    std::fprintf(stderr, "unknown case \"%s\" (added or one-panel)\n", which.c_str());
    return 2;
  }

  const double rss_before = PeakRssMib();
  const double cpu_before = CpuMs();
  std::vector<double> totals;
  std::vector<double> diffs;
  std::size_t diff_bytes = 0;
  std::size_t json_bytes = 0;
  const auto since = [](std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
  };
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto plan = ComputePlan(desired, applied);
    diffs.push_back(since(start));
    json_bytes = plan.ToJson().dump().size();
    totals.push_back(since(start));
    diff_bytes = plan.files.empty() ? 0 : plan.files.front().diff.size();
  }
  std::sort(totals.begin(), totals.end());
  std::sort(diffs.begin(), diffs.end());
  const double cpu_per_run = (CpuMs() - cpu_before) / runs;
  std::printf(
      "case=%s lines=%zu runs=%d median_ms=%.1f max_ms=%.1f diff_median_ms=%.1f "
      "cpu_ms_per_run=%.1f peak_rss_mib=%.1f rss_before_mib=%.1f diff_bytes=%zu "
      "plan_json_bytes=%zu\n",
      which.c_str(), static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')), runs,
      totals[totals.size() / 2], totals.back(), diffs[diffs.size() / 2], cpu_per_run, PeakRssMib(),
      rss_before, diff_bytes, json_bytes);
  return 0;
}
