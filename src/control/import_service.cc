#include "control/import_service.h"

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "core/diagnostic.h"
#include "http/url.h"
#include "provision/grafana_client.h"

namespace obsforge::control {
namespace {

using nlohmann::json;

constexpr const char* kBody = "body";

[[noreturn]] void Invalid(const std::string& path, const std::string& message) {
  throw core::InputError(core::InputError::Kind::kInvalidSpec,
                         core::Diagnostic{.file = kBody, .path = path, .message = message});
}

std::string StringMember(const json& body, const std::string& key, bool required) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) {
      Invalid(key, "required");
    }
    return "";
  }
  if (!it->is_string()) {
    Invalid(key, "must be a string");
  }
  return it->get<std::string>();
}

// A posted path as the importer looks it up: without leading '/', normalised. ".." is refused:
// the files are a closed set, nothing may reach outside it.
std::string FileKey(const std::string& path, const std::string& where) {
  if (path.empty()) {
    Invalid(where, "an empty path");
  }
  const std::filesystem::path p(path);
  for (const auto& part : p) {
    if (part == "..") {
      Invalid(where, "\"" + path + "\": \"..\" is not allowed");
    }
  }
  std::string key = p.lexically_normal().generic_string();
  while (key.starts_with('/')) {
    key.erase(0, 1);
  }
  if (key.empty() || key == ".") {
    Invalid(where, "\"" + path + "\" is not a file");
  }
  return key;
}

std::optional<importer::ConfigFile> Config(const json& body,
                                           const std::string& member,
                                           const std::map<std::string, std::string>& files,
                                           const ImportLimits& limits) {
  const std::string path = StringMember(body, member, false);
  if (path.empty()) {
    return std::nullopt;
  }
  const auto it = files.find(FileKey(path, member));
  if (it == files.end()) {
    Invalid(member, "\"" + path + "\" is not among the posted files");
  }
  if (it->second.size() > limits.max_config_bytes) {
    Invalid(member, "\"" + path + "\" is larger than " + std::to_string(limits.max_config_bytes) +
                        " bytes");
  }
  // An absolute path is kept as it is: its folder becomes the runtime's config_dir.
  return importer::ConfigFile{.path = path.starts_with('/') ? path : FileKey(path, member),
                              .text = it->second};
}

GrafanaSource ParseGrafana(const json& g) {
  if (!g.is_object()) {
    Invalid("grafana", "must be an object {url, token} or {url, user, password}");
  }
  static const std::set<std::string> kKnown = {"url", "token", "user", "password", "org_id"};
  for (const auto& [key, value] : g.items()) {
    if (kKnown.count(key) == 0) {
      Invalid("grafana." + key, "unknown member (url, token, user, password, org_id)");
    }
  }
  GrafanaSource out{.url = StringMember(g, "url", true)};
  if (!out.url.starts_with("http://") && !out.url.starts_with("https://")) {
    Invalid("grafana.url", "must be an http:// or https:// URL");
  }
  if (const std::string token = StringMember(g, "token", false); !token.empty()) {
    out.token = core::Secret(token);
  }
  if (const std::string user = StringMember(g, "user", false); !user.empty()) {
    out.user = user;
  }
  out.password = core::Secret(StringMember(g, "password", false));
  if (g.contains("org_id")) {
    if (!g["org_id"].is_number_integer() || g["org_id"].get<std::int64_t>() < 1 ||
        g["org_id"].get<std::int64_t>() > 1000000) {
      Invalid("grafana.org_id", "must be a positive integer");
    }
    out.org_id = g["org_id"].get<int>();
  }
  return out;
}

}  // namespace

ImportService::ImportService(http::HttpClient* http, ImportLimits limits)
    : http_(http), limits_(limits) {
}

ImportInput ImportService::ParseBody(const json& doc) const {
  if (!doc.is_object()) {
    Invalid("", "must be a JSON object {name, files, prometheus_config, ...}");
  }
  static const std::set<std::string> kKnown = {"name",
                                               "env",
                                               "adopt",
                                               "prometheus_config",
                                               "alertmanager_config",
                                               "loki_config",
                                               "tempo_config",
                                               "files",
                                               "urls",
                                               "grafana"};
  for (const auto& [key, value] : doc.items()) {
    if (kKnown.count(key) == 0) {
      Invalid(key, "unknown member");
    }
  }
  ImportInput input;
  auto& request = input.request;
  request.name = StringMember(doc, "name", true);
  if (const std::string env = StringMember(doc, "env", false); !env.empty()) {
    request.env = env;
  }
  if (doc.contains("adopt")) {
    if (!doc["adopt"].is_boolean()) {
      Invalid("adopt", "must be true or false");
    }
    request.adopt = doc["adopt"].get<bool>();
  }

  std::map<std::string, std::string> files;
  if (doc.contains("files")) {
    const json& posted = doc["files"];
    if (!posted.is_object()) {
      Invalid("files", "must map paths to file contents");
    }
    if (posted.size() > limits_.max_files) {
      Invalid("files", "more than " + std::to_string(limits_.max_files) + " files");
    }
    for (const auto& [path, text] : posted.items()) {
      const std::string where = "files[\"" + path + "\"]";
      if (!text.is_string()) {
        Invalid(where, "must be the file's content as a string");
      }
      if (!files.emplace(FileKey(path, where), text.get<std::string>()).second) {
        Invalid(where, "posted twice (under another spelling)");
      }
    }
  }
  request.prometheus = Config(doc, "prometheus_config", files, limits_);
  request.alertmanager = Config(doc, "alertmanager_config", files, limits_);
  request.loki = Config(doc, "loki_config", files, limits_);
  request.tempo = Config(doc, "tempo_config", files, limits_);

  if (doc.contains("urls")) {
    const json& urls = doc["urls"];
    if (!urls.is_object()) {
      Invalid("urls", "must map components to URLs");
    }
    for (const auto& [component, url] : urls.items()) {
      const std::string where = "urls." + component;
      if (component != "prometheus" && component != "alertmanager" && component != "loki" &&
          component != "tempo") {
        Invalid(where, "unknown component (prometheus, alertmanager, loki, tempo)");
      }
      if (!url.is_string() || !(url.get<std::string>().starts_with("http://") ||
                                url.get<std::string>().starts_with("https://"))) {
        Invalid(where, "must be an http:// or https:// URL");
      }
      request.urls[component] = url.get<std::string>();
    }
  }
  if (doc.contains("grafana") && !doc["grafana"].is_null()) {
    input.grafana = ParseGrafana(doc["grafana"]);
  }
  input.files = spec::MakeMemorySource(std::move(files));
  return input;
}

core::Result<importer::ImportResult> ImportService::Import(ImportInput input) const {
  if (input.grafana) {
    if (http_ == nullptr) {
      return core::MakeError(core::ErrorCode::kUnavailable,
                             "reading a Grafana is not available here");
    }
    const GrafanaSource& g = *input.grafana;
    provision::GrafanaClient client(provision::GrafanaOptions{.base_url = g.url,
                                                              .token = g.token,
                                                              .basic_user = g.user,
                                                              .basic_password = g.password,
                                                              .org_id = g.org_id},
                                    *http_);
    auto snapshot = importer::ReadGrafana(
        client, g.url, g.token ? "token" : "basic", g.user,
        {.max_dashboards = limits_.max_dashboards, .max_bytes = limits_.max_grafana_bytes});
    if (!snapshot.ok()) {
      auto error = snapshot.error();
      if (!limits_.quote_answers && error.upstream_status != 0) {
        error.message = "HTTP " + std::to_string(error.upstream_status) +
                        " (the answer is not shown over the API)";
        error.upstream_body.clear();
      }
      error.message = "reading Grafana " + http::RedactUrl(g.url) + ": " + error.message;
      return error;
    }
    input.request.grafana = std::move(*snapshot);
  }
  input.request.files = input.files.get();
  return importer::Import(input.request);
}

}  // namespace obsforge::control
