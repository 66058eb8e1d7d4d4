#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include "core/error.h"

namespace obsforge::core {

/// A reference to a secret as written in a spec: `{secret: NAME}` (environment variable NAME)
/// or `{secret_file: /path}`. References are safe to store, log and render.
struct SecretRef {
  enum class Kind { kEnv, kFile };
  Kind kind = Kind::kEnv;
  std::string name;  ///< variable name (kEnv) or file path (kFile)

  /// The reference as written in a spec, e.g. `{secret: NAME}`.
  std::string ToString() const;
  bool operator==(const SecretRef&) const = default;
};

/// A secret value. It never prints: streaming or ToString() yields `<secret>`.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  /// The clear value, for the one place that must send or write it.
  const std::string& Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  static std::string ToString() { return "<secret>"; }

 private:
  std::string value_;
};

inline std::ostream& operator<<(std::ostream& os, const Secret& /*secret*/) {
  return os << "<secret>";
}

/// Looks up an environment variable; injectable so tests need not touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// The EnvLookup the `{secret: NAME}` references of one stack resolve through (the server: the
/// stack's own secrets and those the operator shares with it, never anything else).
using StackEnvLookup = std::function<EnvLookup(const std::string& stack)>;

/// The process environment.
EnvLookup ProcessEnv();

/// Resolves `ref`; a missing variable or unreadable file is kNotFound naming the reference
/// (never a value). A trailing newline in a secret file is dropped.
Result<Secret> ResolveSecret(const SecretRef& ref, const EnvLookup& env);

}  // namespace obsforge::core
