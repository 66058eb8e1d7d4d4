// The dashboard rewriter over any JSON: every datasource reference of a dashboard export,
// whatever its shape, is rewritten or left alone; the result serialises and has a valid uid.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string_view>

#include "core/diagnostic.h"
#include "fuzz_check.h"
#include "render/dashboards.h"
#include "spec/document.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::ordered_json dashboard;
  try {
    // As a dashboard file reaches the rewriter.
    dashboard =
        obsforge::spec::ParseOrderedJson(text, "dashboards/fuzz.json", obsforge::fuzz::kLimits);
  } catch (const obsforge::core::InputError&) {
    return 0;
  }
  static const std::map<std::string, obsforge::render::DatasourceRef> kDatasources = {
      {"prometheus", {.uid = "prom", .name = "Prometheus", .type = "prometheus"}},
      {"loki", {.uid = "loki", .name = "Loki", .type = "loki"}},
      {"tempo", {.uid = "tempo", .name = "Tempo", .type = "tempo"}}};
  try {
    const auto out = obsforge::render::RewriteDashboard(dashboard, kDatasources, "prometheus",
                                                        "dashboards/fuzz.json");
    (void)out.dump();
    if (out.is_object() && out.contains("uid") && out["uid"].is_string()) {
      FUZZ_CHECK(obsforge::render::IsValidUid(out["uid"].get<std::string>()));
    }
    FUZZ_CHECK(obsforge::render::IsValidUid(
        obsforge::render::DashboardUid(dashboard, std::string(text.substr(0, 200)))));
  } catch (const obsforge::core::InputError&) {
  }
  return 0;
}
