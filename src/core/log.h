#pragma once

#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace obsforge::core {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// Structured logger writing one JSON object per line:
/// {"ts":"…","level":"info","msg":"…",<fields>}. Thread-safe.
///
/// Every value registered with AddRedaction() is replaced by `<secret>` wherever it appears in a
/// message or field, so a secret that slips into an upstream error body still never reaches a log.
class Logger {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;

  /// Logs to `out` (not owned; must outlive the logger).
  explicit Logger(std::ostream& out, LogLevel min_level = LogLevel::kInfo);

  void Log(LogLevel level, std::string_view msg, const Fields& fields = {});
  void Debug(std::string_view msg, const Fields& fields = {}) {
    Log(LogLevel::kDebug, msg, fields);
  }
  void Info(std::string_view msg, const Fields& fields = {}) { Log(LogLevel::kInfo, msg, fields); }
  void Warn(std::string_view msg, const Fields& fields = {}) { Log(LogLevel::kWarn, msg, fields); }
  void Error(std::string_view msg, const Fields& fields = {}) {
    Log(LogLevel::kError, msg, fields);
  }

  /// Never print `value` again (values shorter than 4 characters are ignored: too common).
  void AddRedaction(const std::string& value);
  void SetLevel(LogLevel level);

  /// Replaces every registered secret value in `text` with `<secret>`.
  std::string Redact(std::string text) const;

 private:
  std::ostream& out_;
  LogLevel min_level_;
  mutable std::mutex mu_;
  std::vector<std::string> redactions_;
};

/// A logger that discards everything (for tests and tools).
Logger& NullLogger();

/// Escapes `s` as the inside of a JSON string.
std::string JsonEscape(std::string_view s);

}  // namespace obsforge::core
