#include "render/grafana_rules.h"

#include <map>

#include "core/diagnostic.h"
#include "core/duration.h"
#include "core/hash.h"
#include "render/check.h"

namespace obsforge::render {
namespace {

using core::Diagnostic;
using core::InputError;
using nlohmann::ordered_json;

[[noreturn]] void Fail(const std::string& file, const std::string& path, std::string message) {
  throw InputError(InputError::Kind::kRender,
                   Diagnostic{.file = file, .path = path, .message = std::move(message)});
}

ordered_json DatasourceObject(const std::string& type, const std::string& uid) {
  ordered_json o = ordered_json::object();
  o["type"] = type;
  o["uid"] = uid;
  return o;
}

ordered_json QueryData(const ordered_json& expr, const DatasourceRef& ds) {
  ordered_json model = ordered_json::object();
  model["refId"] = "A";
  model["datasource"] = DatasourceObject(ds.type, ds.uid);
  model["expr"] = expr.is_string() ? expr.get<std::string>() : expr.dump();
  if (ds.type == "loki") {
    model["queryType"] = "instant";
  } else {
    model["instant"] = true;
    model["range"] = false;
  }
  model["intervalMs"] = 1000;
  model["maxDataPoints"] = 43200;
  ordered_json data = ordered_json::object();
  data["refId"] = "A";
  data["datasourceUid"] = ds.uid;
  data["relativeTimeRange"] = {{"from", 600}, {"to", 0}};
  data["model"] = std::move(model);
  return data;
}

ordered_json ExpressionData(const std::string& ref, ordered_json model) {
  model["refId"] = ref;
  model["datasource"] = DatasourceObject("__expr__", "__expr__");
  ordered_json data = ordered_json::object();
  data["refId"] = ref;
  data["datasourceUid"] = "__expr__";
  data["relativeTimeRange"] = {{"from", 0}, {"to", 0}};
  data["model"] = std::move(model);
  return data;
}

// Grafana's labels and annotations are strings; YAML may have read `priority: 1` as a number.
ordered_json StringMap(const ordered_json& rule, const char* key) {
  ordered_json out = ordered_json::object();
  const auto it = rule.find(key);
  if (it == rule.end() || !it->is_object()) {
    return out;
  }
  for (const auto& [k, v] : it->items()) {
    out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

}  // namespace

ordered_json GrafanaRuleGroup(const ordered_json& group,
                              const GrafanaRuleContext& context,
                              const std::string& file,
                              const std::string& path) {
  const std::string title = group.value("name", "");
  long long interval = 60;
  if (const auto it = group.find("interval"); it != group.end() && !it->is_null()) {
    const auto d = it->is_string() ? core::ParseDuration(it->get<std::string>()) : std::nullopt;
    if (!d || d->count() <= 0 || d->count() % 10'000 != 0) {
      Fail(file, path + ".interval", "Grafana needs a positive multiple of 10s, got " + it->dump());
    }
    interval = std::chrono::duration_cast<std::chrono::seconds>(*d).count();
  }
  ordered_json rules = ordered_json::array();
  std::map<std::string, int> seen;
  const auto& list =
      group.contains("rules") && group["rules"].is_array() ? group["rules"] : ordered_json::array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& rule = list[i];
    const std::string rpath = path + ".rules[" + std::to_string(i) + "]";
    if (!rule.contains("alert")) {
      Fail(file, rpath, "Grafana-managed rules must be alert rules");
    }
    const std::string name = rule["alert"].get<std::string>();
    const bool native = rule.contains("data");
    const std::string ds_type = rule.value("datasource", "prometheus");
    const DatasourceRef* ds = nullptr;
    if (ds_type == "prometheus" && !context.prometheus.uid.empty()) {
      ds = &context.prometheus;
    } else if (ds_type == "loki" && !context.loki.uid.empty()) {
      ds = &context.loki;
    }
    if (ds == nullptr && !native) {
      Fail(file, rpath + ".datasource",
           "\"" + ds_type + "\" is not an enabled datasource of the stack (prometheus or loki)");
    }
    std::string uid = rule.value("uid", "");
    if (uid.empty()) {
      // Same folder, group and title give the same uid on every render, so updates stay updates.
      const int n = seen[name]++;
      uid = "obs-" + core::Sha256Hex(context.folder_uid + "\n" + title + "\n" + name + "\n" +
                                     std::to_string(n))
                         .substr(0, 24);
    } else if (!IsValidUid(uid)) {
      Fail(file, rpath + ".uid", "\"" + uid + "\" is not a valid uid (1-40 of A-Za-z0-9_-)");
    }
    ordered_json out = ordered_json::object();
    out["uid"] = uid;
    out["title"] = name;
    out["ruleGroup"] = title;
    out["folderUID"] = context.folder_uid;
    out["orgID"] = context.org_id;
    if (native) {
      out["condition"] = rule["condition"];
      out["data"] = rule["data"];
    } else {
      out["condition"] = "C";
      ordered_json data = ordered_json::array();
      data.push_back(QueryData(rule["expr"], *ds));
      data.push_back(
          ExpressionData("B", {{"type", "reduce"}, {"expression", "A"}, {"reducer", "last"}}));
      data.push_back(ExpressionData(
          "C", {{"type", "threshold"},
                {"expression", "B"},
                {"conditions", {{{"evaluator", {{"type", "gt"}, {"params", {0}}}}}}}}));
      out["data"] = std::move(data);
    }
    out["noDataState"] = rule.value("no_data_state", "NoData");
    out["execErrState"] = rule.value("exec_err_state", "Error");
    out["for"] =
        rule.contains("for") && rule["for"].is_string() ? rule["for"].get<std::string>() : "0s";
    out["labels"] = StringMap(rule, "labels");
    out["annotations"] = StringMap(rule, "annotations");
    out["isPaused"] = rule.contains("is_paused") && rule["is_paused"].is_boolean() &&
                      rule["is_paused"].get<bool>();
    if (const auto extra = rule.find("grafana"); extra != rule.end() && extra->is_object()) {
      for (const auto& [key, value] : extra->items()) {
        out[key] = value;
      }
    }
    rules.push_back(std::move(out));
  }
  ordered_json body = ordered_json::object();
  body["title"] = title;
  body["folderUid"] = context.folder_uid;
  body["interval"] = interval;
  body["rules"] = std::move(rules);
  return body;
}

}  // namespace obsforge::render
