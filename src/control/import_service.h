#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/secret.h"
#include "importer/import.h"
#include "spec/stack.h"

namespace obsforge::http {
class HttpClient;
}  // namespace obsforge::http

namespace obsforge::control {

/// A Grafana to read while importing, and the credential to read it with (never stored, never
/// written to the spec: the spec refers to GRAFANA_TOKEN or GRAFANA_PASSWORD instead).
struct GrafanaSource {
  std::string url;                    ///< "http://grafana:3000"
  std::optional<core::Secret> token;  ///< service-account token; wins over basic auth
  std::string user = "admin";         ///< basic auth, when there is no token
  core::Secret password;
  int org_id = 0;  ///< X-Grafana-Org-Id when > 0
};

/// Everything one import reads: the request for importer::Import, the files it may look up
/// (configurations, rule files, templates), and the Grafana to read, if any.
struct ImportInput {
  importer::ImportRequest request;  ///< request.files is set by ImportService::Import
  std::unique_ptr<spec::ContentSource> files;
  std::optional<GrafanaSource> grafana;
};

/// Limits that keep an import bounded whatever it is given (an aggregate).
struct ImportLimits {
  std::size_t max_config_bytes = 4U << 20U;     ///< one configuration file
  std::size_t max_files = 10000;                ///< files posted with a request
  std::size_t max_dashboards = 10000;           ///< dashboards read from a Grafana
  std::size_t max_grafana_bytes = 256U << 20U;  ///< dashboards' JSON read from a Grafana
  /// Whether an error reading Grafana quotes what the server answered. Off for imports over the
  /// API: the URL is the caller's, so a quoted answer would let a token read any HTTP resource
  /// the obsforge server can reach; the error then names the URL and the status only.
  bool quote_answers = true;
};

/// `obsforge import` and `POST /api/v1/import`, free of any transport: turns configuration files
/// and, optionally, a live Grafana into a stack spec with its files and a report
/// (importer::Import). Thread-safe.
class ImportService {
 public:
  /// `http` reads Grafanas; null: an import that names a Grafana fails with kUnavailable. Not
  /// owned; must outlive the service.
  explicit ImportService(http::HttpClient* http, ImportLimits limits = {});

  /// Parses the body of POST /api/v1/import, a JSON object:
  ///   {"name": NAME, "env"?: ENV, "adopt"?: bool,
  ///    "prometheus_config"?, "alertmanager_config"?, "loki_config"?, "tempo_config"?: PATH,
  ///    "files": {PATH: text, ...},        // the configurations and every file they name
  ///    "urls"?: {component: URL},         // runtime URLs (reload and health)
  ///    "grafana"?: {"url", "token"? | "user"?, "password"?, "org_id"?}}
  /// Each *_config names a key of `files`; a key may be absolute ("/etc/prometheus/prometheus.yml":
  /// its folder becomes the runtime's config_dir) and rule_files globs resolve against it.
  /// Throws core::InputError (kInvalidSpec) naming the member for anything else: unknown
  /// members, wrong types, a *_config missing from `files`, a file or configuration over the
  /// limits, a path with "..".
  ImportInput ParseBody(const nlohmann::json& body) const;

  /// Reads the Grafana (when there is one) and imports. Runtime failures reading Grafana are
  /// errors naming the request (kUpstream, kNotFound, kTimeout, kUnavailable; kUnavailable also
  /// when this service has no HTTP client; kInvalidSpec when Grafana holds more than the
  /// limits allow). Throws core::InputError for invalid input (importer::Import).
  core::Result<importer::ImportResult> Import(ImportInput input) const;

  /// The limits in force.
  const ImportLimits& limits() const { return limits_; }

 private:
  http::HttpClient* http_;
  ImportLimits limits_;
};

}  // namespace obsforge::control
