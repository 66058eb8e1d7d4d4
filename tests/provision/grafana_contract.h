#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/http_client.h"

namespace obsforge::provision::testing {

/// One HTTP exchange with Grafana, as the fake received and answered it.
struct Exchange {
  std::string method;
  std::string path;  ///< with the "/api" prefix, decoded, no query
  std::vector<std::pair<std::string, std::string>> query;
  http::Headers headers;
  std::string body;
  int status = 0;
  std::string response_body;
};

/// Grafana's published HTTP API description (Swagger 2.0, `api-merged.json`) used as a checker of
/// requests and answers:
/// - the path (without the `basePath`) must match one of its path templates (`{x}` = one
///   segment; the template with the most literal segments wins) and the method one of its
///   operations;
/// - every required path, query and header parameter is present; every query parameter sent and
///   every `X-` header sent is documented for the operation (except the ones Grafana reads on
///   every route: X-Grafana-Org-Id);
/// - a body is sent exactly when the operation takes one, and it validates against the body
///   schema: `$ref`, `allOf`, `type` (integer vs number), `required`, `enum`, `pattern`,
///   `minLength`/`maxLength` and `items`, recursively. Extra properties are never refused (the
///   description has no `additionalProperties: false`). JSON null is refused where a type is
///   given (Swagger 2 has no nullable);
/// - the answer's status is one of the operation's responses (or `default`), and a non-empty
///   answer validates against that response's schema, where null is accepted for properties that
///   are not required (Go writes nil slices, maps and pointers as null, which Swagger 2 cannot
///   express).
class GrafanaContract {
 public:
  /// `spec` is the parsed api-merged.json. `waived` lists required properties not to insist on
  /// in answers, as "<definition>.<property>" (differences between the Grafana version the
  /// description is from and the one the fakes answer as; each with its reason at the caller).
  explicit GrafanaContract(nlohmann::json spec, std::set<std::string> waived = {});

  /// Every way `exchange` departs from the description, each as "<METHOD> <path>: <what>"; empty
  /// when it conforms.
  std::vector<std::string> Check(const Exchange& exchange) const;

  /// The number of (template, method) operations the description has.
  std::size_t Operations() const;

 private:
  enum class Side { kRequest, kResponse };
  const nlohmann::json* FindOperation(const std::string& method,
                                      const std::string& path,
                                      std::string& template_out) const;
  const nlohmann::json& Resolve(const nlohmann::json& node) const;
  void Validate(const nlohmann::json& value,
                const nlohmann::json& schema,
                const std::string& where,
                Side side,
                std::vector<std::string>& out,
                int depth = 0,
                const std::string& name = "") const;

  nlohmann::json spec_;
  std::set<std::string> waived_;
  std::string base_path_;
};

}  // namespace obsforge::provision::testing
