#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "importer/report.h"

namespace obsforge::importer {

/// Whether a configuration key names a secret: passwords, tokens, `*_key`, `*_secret`,
/// credentials, Slack `api_url` (under `slack_configs`) and `slack_api_url`, webhook URLs of
/// chat services. `*_file` keys (paths) never do. `parents` are the keys above it, outermost
/// first (e.g. {"receivers", "slack_configs"}).
bool IsSecretKey(const std::string& key, const std::vector<std::string>& parents);

/// Replaces secret values with `{secret: NAME}` references and remembers where each came from,
/// never the value (one instance per import). Names are upper case, start with the stack name
/// and describe the place (`SHOP_ALERTMANAGER_ONCALL_SLACK_API_URL`); the same value found twice
/// gets one name.
class SecretLifter {
 public:
  explicit SecretLifter(const std::string& stack);

  /// Walks the main file of `component`, read from `origin`: every string under a secret key
  /// (IsSecretKey) and every string that evidently is a credential (a Slack webhook, a token, a
  /// URL with a password) becomes a reference. `${VAR}` placeholders and empty strings are left
  /// as they are.
  void LiftConfig(nlohmann::ordered_json& config,
                  const std::string& component,
                  const std::string& file,
                  const std::string& origin);

  /// Walks a Grafana object part (contact point settings, datasource fields): like LiftConfig,
  /// and a value Grafana masked ("[REDACTED]") is a secret too. `words` start the names;
  /// `from` prefixes each origin.
  void LiftObject(nlohmann::ordered_json& value,
                  const std::vector<std::string>& words,
                  const std::string& from);

  /// A reference for a secret that the source does not reveal (a datasource's secureJsonData).
  nlohmann::ordered_json Unrevealed(const std::vector<std::string>& words, const std::string& from);

  /// Strings that evidently are credentials anywhere in `value` (dashboards, rule files), which
  /// cannot take a reference: each becomes "<redacted>"; returns their paths.
  static std::vector<std::string> RedactCredentials(nlohmann::ordered_json& value);

  /// Whether any word of `text` (split at blanks and quotes) evidently is a credential.
  static bool TextHasCredential(const std::string& text);

  /// Every secret lifted so far, in the order found.
  const std::vector<LiftedSecret>& secrets() const { return secrets_; }

 private:
  void Walk(nlohmann::ordered_json& node,
            std::vector<std::string>& keys,
            std::vector<std::string>& words,
            const std::string& pointer,
            const std::string& path,
            bool grafana);
  void WalkObject(nlohmann::ordered_json& node,
                  std::vector<std::string>& keys,
                  std::vector<std::string>& words,
                  const std::string& pointer,
                  const std::string& path,
                  bool grafana);
  void WalkArray(nlohmann::ordered_json& node,
                 std::vector<std::string>& keys,
                 std::vector<std::string>& words,
                 const std::string& pointer,
                 const std::string& path,
                 bool grafana);
  nlohmann::ordered_json Lift(const std::string& value,
                              const std::vector<std::string>& words,
                              const std::string& from,
                              const std::string& pointer);
  std::string UniqueName(const std::vector<std::string>& words);

  std::string stack_;
  std::string component_;  // of the configuration being walked ("" for Grafana objects)
  std::string from_;       // origin prefix of the current walk
  std::vector<LiftedSecret> secrets_;
  std::map<std::string, std::size_t> by_value_;  // value -> index in secrets_ (memory only)
  std::map<std::string, int> names_;
};

}  // namespace obsforge::importer
