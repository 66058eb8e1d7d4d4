#include "server/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <map>
#include <set>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "core/diagnostic.h"
#include "core/duration.h"
#include "core/fs.h"
#include "http/address_filter.h"
#include "render/yaml_json.h"
#include "store/location.h"

namespace obsforge::server {
namespace {

using core::Diagnostic;
using core::InputError;

std::optional<std::uint64_t> ParseNumber(std::string_view text, std::size_t* used) {
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr == text.data()) {
    return std::nullopt;
  }
  *used = static_cast<std::size_t>(ptr - text.data());
  return value;
}

std::optional<int> ParsePositiveInt(const std::string& text) {
  std::size_t used = 0;
  auto n = ParseNumber(text, &used);
  if (!n || used != text.size() || *n == 0 || *n > 100000) {
    return std::nullopt;
  }
  return static_cast<int>(*n);
}

// A section that maps each of `keys` to a list (`external:`, `outbound:`): calls
// `item(key, element, where)` for each element of each list, `where` its path
// ("outbound.allow[1]"); every other shape is an error naming it.
template <class At, class Item>
void ParseListSection(const YAML::Node& value,
                      const std::string& section,
                      const std::vector<std::string>& keys,
                      const std::string& lists,
                      const At& at,
                      std::vector<Diagnostic>& errors,
                      const Item& item) {
  if (!value.IsMap()) {
    std::string shape;
    for (const std::string& key : keys) {
      shape += (shape.empty() ? "" : ", ") + key + ": [...]";
    }
    errors.push_back(at(value, section, "must be a map {" + shape + "}"));
    return;
  }
  for (const auto& entry : value) {
    const auto key = entry.first.as<std::string>();
    const std::string path = std::string(section).append(".").append(key);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      errors.push_back(at(entry.first, path, "unknown setting"));
    } else if (!entry.second.IsSequence()) {
      errors.push_back(at(entry.second, path, "must be a list of " + lists));
    } else {
      for (std::size_t i = 0; i < entry.second.size(); ++i) {
        item(key, entry.second[i], path + "[" + std::to_string(i) + "]");
      }
    }
  }
}

// `external: {config_roots: [DIR, ...]}`.
template <class At, class Resolve>
void ParseExternal(const YAML::Node& value,
                   const At& at,
                   const Resolve& resolve,
                   control::TrustOptions& trust,
                   std::vector<Diagnostic>& errors) {
  ParseListSection(
      value, "external", {"config_roots"}, "directories", at, errors,
      [&](const std::string& /*key*/, const YAML::Node& dir, const std::string& where) {
        if (!dir.IsScalar() || dir.Scalar().empty()) {
          errors.push_back(at(dir, where, "must be a directory"));
        } else {
          trust.config_roots.push_back(resolve(dir.Scalar()));
        }
      });
}

// `outbound: {allow: [RANGE, ...], deny: [RANGE, ...]}`; `deny` absent keeps the default.
template <class At>
void ParseOutbound(const YAML::Node& value,
                   const At& at,
                   control::TrustOptions& trust,
                   std::vector<Diagnostic>& errors) {
  std::vector<http::IpRange> allow;
  // A deny list given, even empty, replaces the default.
  const bool deny_given = value.IsMap() && value["deny"].IsDefined() && value["deny"].IsSequence();
  std::vector<http::IpRange> deny =
      deny_given ? std::vector<http::IpRange>() : http::AddressFilter().deny();
  ParseListSection(
      value, "outbound", {"allow", "deny"}, "IP addresses or ranges", at, errors,
      [&](const std::string& key, const YAML::Node& range, const std::string& where) {
        std::vector<http::IpRange>& list = key == "allow" ? allow : deny;
        if (!range.IsScalar()) {
          errors.push_back(at(range, where, "must be an IP address or range, such as 10.0.0.0/8"));
        } else if (auto parsed = http::IpRange::Parse(range.Scalar()); !parsed.ok()) {
          errors.push_back(at(range, where, parsed.error().message));
        } else {
          list.push_back(std::move(*parsed));
        }
      });
  trust.outbound = http::AddressFilter(std::move(allow), std::move(deny));
}

// `stacks: [PATTERN, ...]` of a shared secret at `where`; nullopt when it is not a list.
template <class At>
std::optional<std::vector<std::string>> ParseStackPatterns(const YAML::Node& value,
                                                           const std::string& where,
                                                           const At& at,
                                                           std::vector<Diagnostic>& errors) {
  if (!value.IsSequence()) {
    errors.push_back(at(value, where, "must be a list of stack names or globs"));
    return std::nullopt;
  }
  std::vector<std::string> stacks;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const YAML::Node pattern = value[i];
    const std::string text = pattern.IsScalar() ? pattern.Scalar() : "";
    if (auto problem = control::ScopePatternProblem(text); !problem.empty()) {
      errors.push_back(at(pattern, where + "[" + std::to_string(i) + "]", problem));
    }
    stacks.push_back(text);
  }
  return stacks;
}

// The checks of a whole `secrets.shared` entry at `path`, once its fields are read.
template <class At>
void CheckShared(const YAML::Node& entry,
                 const std::string& path,
                 const At& at,
                 control::SharedSecret& shared,
                 std::optional<std::vector<std::string>> stacks,
                 std::vector<Diagnostic>& errors) {
  if (shared.env.empty() == shared.file.empty()) {
    errors.push_back(at(entry, path, "needs exactly one of env (a variable) and file"));
  }
  if (shared.name.empty()) {
    shared.name = shared.env;
  }
  if (shared.name.empty()) {
    errors.push_back(at(entry, path + ".name", "required with file: the NAME of {secret: NAME}"));
  } else if (auto problem = control::SecretKeyProblem(shared.name); !problem.empty()) {
    errors.push_back(at(entry, path + ".name", problem));
  }
  if (!stacks) {
    errors.push_back(
        at(entry, path + ".stacks", "required: the stacks it is shared with (\"*\" for all)"));
  } else {
    shared.stacks = control::StackScope(std::move(*stacks));
  }
}

// One entry of `secrets.shared`: {env: VAR | file: PATH, name: NAME, stacks: [...]}.
template <class At, class Resolve>
std::optional<control::SharedSecret> ParseShared(const YAML::Node& entry,
                                                 const std::string& path,
                                                 const At& at,
                                                 const Resolve& resolve,
                                                 std::vector<Diagnostic>& errors) {
  const std::size_t before = errors.size();
  if (!entry.IsMap()) {
    errors.push_back(at(entry, path, "must be a map {env: VAR or file: PATH, stacks: [...]}"));
    return std::nullopt;
  }
  control::SharedSecret shared;
  std::optional<std::vector<std::string>> stacks;
  for (const auto& item : entry) {
    const auto key = item.first.as<std::string>();
    std::string where = path;
    where.append(".").append(key);
    if (key == "stacks") {
      if (auto patterns = ParseStackPatterns(item.second, where, at, errors)) {
        stacks = std::move(patterns);
      }
      continue;
    }
    if (!item.second.IsScalar() || item.second.Scalar().empty()) {
      errors.push_back(at(item.second, where, "must be a non-empty string"));
      continue;
    }
    const std::string value = item.second.Scalar();
    if (key == "name") {
      shared.name = value;
    } else if (key == "env") {
      shared.env = value;
    } else if (key == "file") {
      shared.file = resolve(value);
    } else {
      errors.push_back(at(item.first, where, "unknown setting"));
    }
  }
  CheckShared(entry, path, at, shared, std::move(stacks), errors);
  if (errors.size() != before) {
    return std::nullopt;
  }
  return shared;
}

// `secrets.previous_key_files` or `secrets.shared` (`key`), a list, at `path`.
template <class At, class Resolve>
void ParseSecretList(const std::string& key,
                     const YAML::Node& node,
                     const std::string& path,
                     const At& at,
                     const Resolve& resolve,
                     control::TrustOptions& trust,
                     std::vector<Diagnostic>& errors) {
  if (!node.IsSequence()) {
    errors.push_back(at(node, path, "must be a list"));
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string where = path + "[" + std::to_string(i) + "]";
    if (key == "shared") {
      if (auto shared = ParseShared(node[i], where, at, resolve, errors)) {
        trust.shared.push_back(std::move(*shared));
      }
    } else if (!node[i].IsScalar() || node[i].Scalar().empty()) {
      errors.push_back(at(node[i], where, "must be a file"));
    } else {
      trust.keys.previous_key_files.push_back(resolve(node[i].Scalar()));
    }
  }
}

// `secrets: {key_file, previous_key_files, shared}`.
template <class At, class Resolve>
void ParseSecrets(const YAML::Node& value,
                  const At& at,
                  const Resolve& resolve,
                  control::TrustOptions& trust,
                  std::vector<Diagnostic>& errors) {
  if (!value.IsMap()) {
    errors.push_back(at(value, "secrets", "must be a map {key_file, previous_key_files, shared}"));
    return;
  }
  for (const auto& item : value) {
    const auto key = item.first.as<std::string>();
    const std::string path = "secrets." + key;
    const YAML::Node& node = item.second;
    if (key == "key_file") {
      if (!node.IsScalar() || node.Scalar().empty()) {
        errors.push_back(at(node, path, "must be a file"));
      } else {
        trust.keys.key_file = resolve(node.Scalar());
      }
    } else if (key == "previous_key_files" || key == "shared") {
      ParseSecretList(key, node, path, at, resolve, trust, errors);
    } else {
      errors.push_back(at(item.first, path, "unknown setting"));
    }
  }
}

// The settings of ServerOptions that obsforge.yaml gives as counts, durations and paths.
const std::map<std::string_view, int ServerOptions::*>& CountSettings() {
  static const std::map<std::string_view, int ServerOptions::*> kSettings = {
      {"max_threads", &ServerOptions::max_threads},
      {"max_queued", &ServerOptions::max_queued},
      {"operation_workers", &ServerOptions::operation_workers},
      {"max_keep_alive_requests", &ServerOptions::max_keep_alive_requests}};
  return kSettings;
}

const std::map<std::string_view, std::chrono::milliseconds ServerOptions::*>& DurationSettings() {
  static const std::map<std::string_view, std::chrono::milliseconds ServerOptions::*> kSettings = {
      {"read_timeout", &ServerOptions::read_timeout},
      {"write_timeout", &ServerOptions::write_timeout},
      {"drain_timeout", &ServerOptions::drain_timeout},
      {"keep_alive_timeout", &ServerOptions::keep_alive_timeout},
      {"max_queue_wait", &ServerOptions::max_queue_wait}};
  return kSettings;
}

const std::map<std::string_view, std::filesystem::path ServerOptions::*>& PathSettings() {
  static const std::map<std::string_view, std::filesystem::path ServerOptions::*> kSettings = {
      {"data_dir", &ServerOptions::data_dir},
      {"content_dir", &ServerOptions::content_dir},
      {"tokens_file", &ServerOptions::tokens_file}};
  return kSettings;
}

// `store: URL`. A SQLite path, like every path of the file, is relative to the file's folder.
template <class Resolve>
std::string ParseStoreSetting(const std::string& s, ServerConfig& config, const Resolve& resolve) {
  auto location = store::ParseStoreUrl(s, config.server.data_dir);
  config.store = s;
  if (!location.ok()) {
    return location.error().message;
  }
  const bool prefixed = s.rfind("sqlite:", 0) == 0;
  if (location->kind == store::StoreLocation::Kind::kSqlite && s != "sqlite" && !s.empty()) {
    config.store = "sqlite:" + resolve(prefixed ? s.substr(7) : s).string();
  }
  return "";
}

// The setting `key` of ServerOptions set to `s` in `o`: "" when it is good, what is wrong with
// it otherwise, nullopt when ServerOptions has no such setting. obsforge.yaml and the OBSFORGE_*
// variables both read through it, so a value means the same, and is refused in the same words,
// whichever of the two gives it.
template <class Resolve>
std::optional<std::string> ParseOptionSetting(const std::string& key,
                                              const std::string& s,
                                              ServerOptions& o,
                                              const Resolve& resolve) {
  if (const auto it = CountSettings().find(key); it != CountSettings().end()) {
    const auto n = ParsePositiveInt(s);
    if (!n) {
      return "must be a positive integer";
    }
    o.*(it->second) = *n;
    return "";
  }
  if (const auto it = DurationSettings().find(key); it != DurationSettings().end()) {
    const auto d = core::ParseDuration(s);
    if (!d) {
      return "must be a duration such as 30s";
    }
    o.*(it->second) = *d;
    return "";
  }
  if (const auto it = PathSettings().find(key); it != PathSettings().end()) {
    o.*(it->second) = resolve(s);
    return "";
  }
  if (key == "listen") {
    o.listen = s;
    auto parsed = ParseListen(s);
    return parsed.ok() ? "" : parsed.error().message;
  }
  if (key == "body_limit") {
    const auto n = ParseByteSize(s);
    if (!n || *n == 0) {
      return "must be a size such as 16MiB";
    }
    o.body_limit = *n;
    return "";
  }
  return std::nullopt;
}

// The keys ParseOptionSetting knows, each read from the variable OBSFORGE_<KEY> too.
std::vector<std::string> OptionSettingKeys() {
  std::vector<std::string> keys = {"listen", "body_limit"};
  for (const auto& [key, member] : CountSettings()) {
    keys.emplace_back(key);
  }
  for (const auto& [key, member] : DurationSettings()) {
    keys.emplace_back(key);
  }
  for (const auto& [key, member] : PathSettings()) {
    keys.emplace_back(key);
  }
  return keys;
}

// OBSFORGE_<KEY>: the variable of the setting `key`.
std::string VariableOf(std::string_view key) {
  std::string var = "OBSFORGE_";
  for (const char c : key) {
    var += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return var;
}

// The scalar setting `key` set to `s` in `config`: as ParseOptionSetting, and the settings of
// the whole configuration (the store, the replicas) besides.
template <class Resolve>
std::optional<std::string> ParseScalarSetting(const std::string& key,
                                              const std::string& s,
                                              ServerConfig& config,
                                              const Resolve& resolve) {
  if (auto problem = ParseOptionSetting(key, s, config.server, resolve)) {
    return problem;
  }
  if (key == "store") {
    return ParseStoreSetting(s, config, resolve);
  }
  if (key == "replicas") {
    const auto n = ParsePositiveInt(s);
    if (!n) {
      return "must be a positive integer";
    }
    config.replicas = *n;
    return "";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::size_t> ParseByteSize(std::string_view text) {
  std::size_t used = 0;
  auto n = ParseNumber(text, &used);
  if (!n) {
    return std::nullopt;
  }
  const std::string_view unit = text.substr(used);
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "B") {
    factor = 1;
  } else if (unit == "KiB") {
    factor = 1ULL << 10U;
  } else if (unit == "MiB") {
    factor = 1ULL << 20U;
  } else if (unit == "GiB") {
    factor = 1ULL << 30U;
  } else {
    return std::nullopt;
  }
  return static_cast<std::size_t>(*n * factor);
}

std::string StoreProblem(std::string_view store) {
  auto location = store::ParseStoreUrl(store, ".");
  return location.ok() ? std::string() : location.error().message;
}

ServerConfig ParseServerConfig(std::string_view text, const std::filesystem::path& file) {
  const std::string name = file.string();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    throw InputError(
        InputError::Kind::kInvalidSpec,
        Diagnostic{
            .file = name, .line = e.mark.line + 1, .column = e.mark.column + 1, .message = e.msg});
  }
  ServerConfig config;
  if (!root || root.IsNull()) {
    return config;
  }
  auto at = [&](const YAML::Node& node, const std::string& path, std::string msg) {
    return Diagnostic{.file = name,
                      .line = node.Mark().line + 1,
                      .column = node.Mark().column + 1,
                      .path = path,
                      .message = std::move(msg)};
  };
  if (!root.IsMap()) {
    throw InputError(InputError::Kind::kInvalidSpec, at(root, "", "expected a map"));
  }
  const std::filesystem::path base = file.parent_path();
  auto resolve = [&](const std::string& p) {
    const std::filesystem::path path(p);
    return path.is_absolute() || base.empty() ? path : base / path;
  };
  std::vector<Diagnostic> errors;
  ServerOptions& o = config.server;
  for (const auto& item : root) {
    const auto key = item.first.as<std::string>();
    const YAML::Node& value = item.second;
    if (key == "gitops") {
      config.gitops_json = render::ParseYaml(YAML::Dump(value), name).dump();
      continue;
    }
    if (key == "external") {
      ParseExternal(value, at, resolve, o.trust, errors);
      continue;
    }
    if (key == "secrets") {
      ParseSecrets(value, at, resolve, o.trust, errors);
      continue;
    }
    if (key == "outbound") {
      ParseOutbound(value, at, o.trust, errors);
      continue;
    }
    if (!value.IsScalar()) {
      errors.push_back(at(value, key, "must be a scalar"));
      continue;
    }
    const auto problem = ParseScalarSetting(key, value.Scalar(), config, resolve);
    if (!problem) {
      errors.push_back(at(item.first, key, "unknown setting"));
    } else if (!problem->empty()) {
      errors.push_back(at(value, key, *problem));
    }
  }
  if (!errors.empty()) {
    throw InputError(InputError::Kind::kInvalidSpec, std::move(errors));
  }
  return config;
}

ServerConfig LoadServerConfig(const std::filesystem::path& file) {
  std::string text;
  try {
    text = core::ReadFile(file);
  } catch (const std::exception& e) {
    throw InputError(InputError::Kind::kInvalidSpec,
                     Diagnostic{.file = file.string(), .message = e.what()});
  }
  return ParseServerConfig(text, file);
}

std::vector<std::string> EnvironmentVariables() {
  std::vector<std::string> vars;
  for (const auto& key : OptionSettingKeys()) {
    vars.push_back(VariableOf(key));
  }
  vars.emplace_back("OBSFORGE_SECRETS_KEY");
  return vars;
}

void ApplyEnvironment(ServerOptions& options, const core::EnvLookup& env) {
  std::vector<Diagnostic> errors;
  const auto as_given = [](const std::string& p) { return std::filesystem::path(p); };
  for (const auto& key : OptionSettingKeys()) {
    const std::string var = VariableOf(key);
    if (auto v = env(var)) {
      if (auto problem = ParseOptionSetting(key, *v, options, as_given);
          problem && !problem->empty()) {
        errors.push_back(Diagnostic{.file = var, .message = *problem});
      }
    }
  }
  if (auto v = env("OBSFORGE_SECRETS_KEY")) {
    options.trust.keys.key = core::Secret(*v);
  }
  if (!errors.empty()) {
    throw InputError(InputError::Kind::kInvalidSpec, std::move(errors));
  }
}

}  // namespace obsforge::server
