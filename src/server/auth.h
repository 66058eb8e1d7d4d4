#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/stack_scope.h"
#include "server/api.h"

namespace obsforge::server {

/// One entry of the tokens file: only the sha256 of the token is kept.
struct TokenEntry {
  std::string name;
  std::string token_sha256;  ///< lower-case hex
  Role role = Role::kViewer;
  control::StackScope stacks;  ///< `stacks: [name or glob, ...]`; absent: every stack
};

/// The outcome of Authorize(): who called, or why not (401 vs 403).
struct AuthResult {
  int status = 200;           ///< 200 allowed, 401 no or bad token, 403 role too weak
  std::string actor;          ///< token name when allowed with a token
  std::string message;        ///< why not, for the error envelope
  control::StackScope scope;  ///< the stacks the caller may see and change (all without tokens)
};

/// The API tokens and their roles. Immutable once loaded; safe to share between threads.
class TokenTable {
 public:
  /// Parses a tokens file: a YAML list of {name, token_sha256, role: viewer|editor|admin,
  /// stacks: [name or glob, ...] (optional: every stack when absent)}.
  /// Throws core::InputError (kInvalidSpec) with file:line:col for every bad entry.
  static TokenTable Parse(std::string_view text, const std::string& file);
  /// Reads and parses `path`. Throws core::InputError when unreadable or invalid.
  static TokenTable Load(const std::filesystem::path& path);

  /// True when no token is configured (the server then listens on loopback only, unauthenticated).
  bool empty() const { return entries_.empty(); }
  const std::vector<TokenEntry>& entries() const { return entries_; }

  /// Checks `authorization` (the raw header, "Bearer <token>" with the scheme in any case)
  /// against `required`. With no tokens configured,
  /// everything is allowed. The token is hashed and compared in constant time with EVERY entry,
  /// so timing tells nothing about which entry (if any) matched.
  AuthResult Authorize(std::string_view authorization, Role required) const;

 private:
  std::vector<TokenEntry> entries_;
};

}  // namespace obsforge::server
