#include "server/config.h"

#include <charconv>
#include <set>

#include <yaml-cpp/yaml.h>

#include "core/diagnostic.h"
#include "core/duration.h"
#include "core/fs.h"
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

// `external: {config_roots: [DIR, ...]}`.
template <class At, class Resolve>
void ParseExternal(const YAML::Node& value,
                   const At& at,
                   const Resolve& resolve,
                   control::TrustOptions& trust,
                   std::vector<Diagnostic>& errors) {
  if (!value.IsMap()) {
    errors.push_back(at(value, "external", "must be a map {config_roots: [DIR, ...]}"));
    return;
  }
  for (const auto& item : value) {
    const std::string key = item.first.as<std::string>();
    const std::string path = "external." + key;
    if (key != "config_roots") {
      errors.push_back(at(item.first, path, "unknown setting"));
      continue;
    }
    if (!item.second.IsSequence()) {
      errors.push_back(at(item.second, path, "must be a list of directories"));
      continue;
    }
    for (std::size_t i = 0; i < item.second.size(); ++i) {
      const YAML::Node dir = item.second[i];
      if (!dir.IsScalar() || dir.Scalar().empty()) {
        errors.push_back(at(dir, path + "[" + std::to_string(i) + "]", "must be a directory"));
        continue;
      }
      trust.config_roots.push_back(resolve(dir.Scalar()));
    }
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
    const std::string key = item.first.as<std::string>();
    const std::string where = path + "." + key;
    if (key == "stacks") {
      if (!item.second.IsSequence()) {
        errors.push_back(at(item.second, where, "must be a list of stack names or globs"));
        continue;
      }
      stacks.emplace();
      for (std::size_t i = 0; i < item.second.size(); ++i) {
        const YAML::Node pattern = item.second[i];
        const std::string text = pattern.IsScalar() ? pattern.Scalar() : "";
        if (auto problem = control::ScopePatternProblem(text); !problem.empty()) {
          errors.push_back(at(pattern, where + "[" + std::to_string(i) + "]", problem));
        }
        stacks->push_back(text);
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
  if (errors.size() != before) {
    return std::nullopt;
  }
  return shared;
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
    const std::string key = item.first.as<std::string>();
    const std::string path = "secrets." + key;
    const YAML::Node& node = item.second;
    if (key == "key_file") {
      if (!node.IsScalar() || node.Scalar().empty()) {
        errors.push_back(at(node, path, "must be a file"));
      } else {
        trust.keys.key_file = resolve(node.Scalar());
      }
    } else if (key == "previous_key_files" || key == "shared") {
      if (!node.IsSequence()) {
        errors.push_back(at(node, path, "must be a list"));
        continue;
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
    } else {
      errors.push_back(at(item.first, path, "unknown setting"));
    }
  }
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
    const std::string key = item.first.as<std::string>();
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
    if (!value.IsScalar()) {
      errors.push_back(at(value, key, "must be a scalar"));
      continue;
    }
    const std::string s = value.Scalar();
    if (key == "listen") {
      if (auto parsed = ParseListen(s); !parsed.ok()) {
        errors.push_back(at(value, key, parsed.error().message));
      }
      o.listen = s;
    } else if (key == "data_dir") {
      o.data_dir = resolve(s);
    } else if (key == "content_dir") {
      o.content_dir = resolve(s);
    } else if (key == "tokens_file") {
      o.tokens_file = resolve(s);
    } else if (key == "store") {
      auto location = store::ParseStoreUrl(s, o.data_dir);
      if (!location.ok()) {
        errors.push_back(at(value, key, location.error().message));
      }
      config.store = s;
      // A SQLite path, like every path here, is relative to this file's folder.
      const bool prefixed = s.rfind("sqlite:", 0) == 0;
      if (location.ok() && location->kind == store::StoreLocation::Kind::kSqlite && s != "sqlite" &&
          !s.empty()) {
        config.store = "sqlite:" + resolve(prefixed ? s.substr(7) : s).string();
      }
    } else if (key == "replicas") {
      auto n = ParsePositiveInt(s);
      if (!n) {
        errors.push_back(at(value, key, "must be a positive integer"));
      } else {
        config.replicas = *n;
      }
    } else if (key == "max_threads" || key == "max_queued" || key == "operation_workers" ||
               key == "max_keep_alive_requests") {
      auto n = ParsePositiveInt(s);
      if (!n) {
        errors.push_back(at(value, key, "must be a positive integer"));
      } else {
        (key == "max_threads"         ? o.max_threads
         : key == "max_queued"        ? o.max_queued
         : key == "operation_workers" ? o.operation_workers
                                      : o.max_keep_alive_requests) = *n;
      }
    } else if (key == "body_limit") {
      auto n = ParseByteSize(s);
      if (!n || *n == 0) {
        errors.push_back(at(value, key, "must be a size such as 16MiB"));
      } else {
        o.body_limit = *n;
      }
    } else if (key == "read_timeout" || key == "write_timeout" || key == "drain_timeout" ||
               key == "keep_alive_timeout" || key == "max_queue_wait") {
      auto d = core::ParseDuration(s);
      if (!d) {
        errors.push_back(at(value, key, "must be a duration such as 30s"));
      } else {
        (key == "read_timeout"         ? o.read_timeout
         : key == "write_timeout"      ? o.write_timeout
         : key == "drain_timeout"      ? o.drain_timeout
         : key == "keep_alive_timeout" ? o.keep_alive_timeout
                                       : o.max_queue_wait) = *d;
      }
    } else {
      errors.push_back(at(item.first, key, "unknown setting"));
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

void ApplyEnvironment(ServerOptions& options, const core::EnvLookup& env) {
  std::vector<Diagnostic> errors;
  auto bad = [&](const std::string& var, const std::string& msg) {
    errors.push_back(Diagnostic{.file = var, .message = msg});
  };
  if (auto v = env("OBSFORGE_LISTEN")) {
    if (auto parsed = ParseListen(*v); !parsed.ok()) {
      bad("OBSFORGE_LISTEN", parsed.error().message);
    }
    options.listen = *v;
  }
  if (auto v = env("OBSFORGE_DATA_DIR")) {
    options.data_dir = *v;
  }
  if (auto v = env("OBSFORGE_CONTENT_DIR")) {
    options.content_dir = *v;
  }
  if (auto v = env("OBSFORGE_TOKENS_FILE")) {
    options.tokens_file = *v;
  }
  if (auto v = env("OBSFORGE_MAX_THREADS")) {
    auto n = ParsePositiveInt(*v);
    n ? void(options.max_threads = *n) : bad("OBSFORGE_MAX_THREADS", "must be a positive integer");
  }
  if (auto v = env("OBSFORGE_MAX_QUEUED")) {
    auto n = ParsePositiveInt(*v);
    n ? void(options.max_queued = *n) : bad("OBSFORGE_MAX_QUEUED", "must be a positive integer");
  }
  if (auto v = env("OBSFORGE_MAX_QUEUE_WAIT")) {
    auto d = core::ParseDuration(*v);
    d ? void(options.max_queue_wait = *d)
      : bad("OBSFORGE_MAX_QUEUE_WAIT", "must be a duration such as 5s");
  }
  if (auto v = env("OBSFORGE_BODY_LIMIT")) {
    auto n = ParseByteSize(*v);
    n&&* n > 0 ? void(options.body_limit = *n)
               : bad("OBSFORGE_BODY_LIMIT", "must be a size such as 16MiB");
  }
  if (auto v = env("OBSFORGE_SECRETS_KEY")) {
    options.trust.keys.key = core::Secret(*v);
  }
  if (auto v = env("OBSFORGE_DRAIN_TIMEOUT")) {
    auto d = core::ParseDuration(*v);
    d ? void(options.drain_timeout = *d)
      : bad("OBSFORGE_DRAIN_TIMEOUT", "must be a duration such as 30s");
  }
  if (!errors.empty()) {
    throw InputError(InputError::Kind::kInvalidSpec, std::move(errors));
  }
}

}  // namespace obsforge::server
