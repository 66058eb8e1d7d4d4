#include "server/auth.h"

#include <algorithm>
#include <cctype>

#include <yaml-cpp/yaml.h>

#include "core/diagnostic.h"
#include "core/fs.h"
#include "core/hash.h"

namespace obsforge::server {
namespace {

using core::Diagnostic;
using core::InputError;

Diagnostic At(const std::string& file, const YAML::Node& node, std::string path, std::string msg) {
  const YAML::Mark mark = node.Mark();
  return Diagnostic{.file = file,
                    .line = mark.is_null() ? 0 : mark.line + 1,
                    .column = mark.is_null() ? 0 : mark.column + 1,
                    .path = std::move(path),
                    .message = std::move(msg)};
}

std::optional<Role> ParseRole(const std::string& s) {
  if (s == "viewer") {
    return Role::kViewer;
  }
  if (s == "editor") {
    return Role::kEditor;
  }
  if (s == "admin") {
    return Role::kAdmin;
  }
  return std::nullopt;
}

bool IsHex64(const std::string& s) {
  if (s.size() != 64) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string ScalarAt(const YAML::Node& entry,
                     const char* key,
                     const std::string& file,
                     const std::string& path,
                     std::vector<Diagnostic>* errors) {
  const YAML::Node value = entry[key];
  if (!value || !value.IsScalar() || value.Scalar().empty()) {
    errors->push_back(At(file, value ? value : entry, path + "." + key, "required string"));
    return "";
  }
  return value.Scalar();
}

// `stacks: [name or glob, ...]`: the stacks a token is limited to.
control::StackScope ParseStacks(const YAML::Node& node,
                                const std::string& file,
                                const std::string& path,
                                std::vector<Diagnostic>* errors) {
  if (!node.IsSequence()) {
    errors->push_back(At(file, node, path, "must be a list of stack names or globs"));
    return control::StackScope(std::vector<std::string>{});
  }
  std::vector<std::string> patterns;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string text = node[i].IsScalar() ? node[i].Scalar() : "";
    if (auto problem = control::ScopePatternProblem(text); !problem.empty()) {
      errors->push_back(At(file, node[i], path + "[" + std::to_string(i) + "]", problem));
    }
    patterns.push_back(text);
  }
  return control::StackScope(std::move(patterns));
}

bool IsBlank(char c) {
  return c == ' ' || c == '\t';
}

// The credentials of "Bearer <token>" (RFC 6750 / RFC 7235: the scheme is case-insensitive and
// one or more spaces separate it from the token; surrounding blanks are not part of the value).
std::optional<std::string_view> BearerToken(std::string_view header) {
  while (!header.empty() && IsBlank(header.front())) {
    header.remove_prefix(1);
  }
  while (!header.empty() && IsBlank(header.back())) {
    header.remove_suffix(1);
  }
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size() || !IsBlank(header[kScheme.size()])) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && IsBlank(token.front())) {
    token.remove_prefix(1);
  }
  if (token.empty() || std::any_of(token.begin(), token.end(), IsBlank)) {
    return std::nullopt;
  }
  return token;
}

}  // namespace

TokenTable TokenTable::Parse(std::string_view text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    throw InputError(
        InputError::Kind::kInvalidSpec,
        Diagnostic{
            .file = file, .line = e.mark.line + 1, .column = e.mark.column + 1, .message = e.msg});
  }
  TokenTable table;
  if (!root || root.IsNull()) {
    return table;
  }
  if (!root.IsSequence()) {
    throw InputError(InputError::Kind::kInvalidSpec,
                     At(file, root, "", "expected a list of {name, token_sha256, role}"));
  }
  std::vector<Diagnostic> errors;
  for (std::size_t i = 0; i < root.size(); ++i) {
    const YAML::Node entry = root[i];
    const std::string path = "[" + std::to_string(i) + "]";
    if (!entry.IsMap()) {
      errors.push_back(At(file, entry, path, "expected a map {name, token_sha256, role}"));
      continue;
    }
    TokenEntry token;
    token.name = ScalarAt(entry, "name", file, path, &errors);
    token.token_sha256 = ScalarAt(entry, "token_sha256", file, path, &errors);
    const std::string role = ScalarAt(entry, "role", file, path, &errors);
    if (!token.token_sha256.empty() && !IsHex64(token.token_sha256)) {
      errors.push_back(At(file, entry["token_sha256"], path + ".token_sha256",
                          "must be 64 lower-case hex characters (sha256 of the token)"));
    }
    if (const YAML::Node stacks = entry["stacks"]) {
      token.stacks = ParseStacks(stacks, file, path + ".stacks", &errors);
    }
    if (!role.empty()) {
      if (auto parsed = ParseRole(role)) {
        token.role = *parsed;
      } else {
        errors.push_back(At(file, entry["role"], path + ".role",
                            "must be one of viewer, editor, admin (got \"" + role + "\")"));
      }
    }
    table.entries_.push_back(std::move(token));
  }
  if (!errors.empty()) {
    throw InputError(InputError::Kind::kInvalidSpec, std::move(errors));
  }
  return table;
}

TokenTable TokenTable::Load(const std::filesystem::path& path) {
  std::string text;
  try {
    text = core::ReadFile(path);
  } catch (const std::exception& e) {
    throw InputError(InputError::Kind::kInvalidSpec,
                     Diagnostic{.file = path.string(), .message = e.what()});
  }
  return Parse(text, path.string());
}

AuthResult TokenTable::Authorize(std::string_view authorization, Role required) const {
  if (required == Role::kNone || entries_.empty()) {
    return {};
  }
  const auto token = BearerToken(authorization);
  if (!token) {
    return {.status = 401, .message = "missing bearer token"};
  }
  const std::string hash = core::Sha256Hex(*token);
  const TokenEntry* found = nullptr;
  for (const TokenEntry& entry : entries_) {
    // No early exit: every entry is compared.
    if (core::ConstantTimeEquals(hash, entry.token_sha256) && found == nullptr) {
      found = &entry;
    }
  }
  if (found == nullptr) {
    return {.status = 401, .message = "invalid token"};
  }
  if (static_cast<int>(found->role) < static_cast<int>(required)) {
    return {.status = 403,
            .actor = found->name,
            .message = std::string("token \"") + found->name + "\" has role " +
                       RoleName(found->role) + "; this needs " + RoleName(required)};
  }
  return {.actor = found->name, .scope = found->stacks};
}

}  // namespace obsforge::server
