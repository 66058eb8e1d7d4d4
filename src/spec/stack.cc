#include "spec/stack.h"

#include <algorithm>
#include <stdexcept>

#include "core/diagnostic.h"
#include "core/fs.h"
#include "core/hash.h"
#include "spec/checks.h"
#include "spec/document.h"
#include "spec/validate.h"

namespace obsforge::spec {
namespace {

using core::Diagnostic;
using core::InputError;
using nlohmann::json;

constexpr const char* kDefaultEnvironment = "default";

// nlohmann objects iterate in key order; users expect environments in the order they wrote them.
std::vector<std::string> EnvironmentsInDocumentOrder(const json& document,
                                                     const SourceMap& positions) {
  const auto& spec = document["spec"];
  if (!spec.contains("environments") || spec["environments"].empty()) {
    return {kDefaultEnvironment};
  }
  std::vector<std::pair<Position, std::string>> envs;
  for (const auto& [name, unused] : spec["environments"].items()) {
    const auto pos = positions.Key(ChildPath("spec.environments", name));
    envs.emplace_back(pos, name);
  }
  std::sort(envs.begin(), envs.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.line, a.first.column, a.second) <
           std::tie(b.first.line, b.first.column, b.second);
  });
  std::vector<std::string> out;
  out.reserve(envs.size());
  for (auto& [pos, name] : envs) {
    out.push_back(std::move(name));
  }
  return out;
}

std::string StringOr(const json& map, const char* key) {
  return map.contains(key) && map[key].is_string() ? map[key].get<std::string>() : "";
}

Runtime ParseRuntime(const json& runtime) {
  Runtime out;
  if (!runtime.is_object()) {
    return out;
  }
  out.type =
      StringOr(runtime, "type") == "external" ? Runtime::Type::kExternal : Runtime::Type::kLocal;
  for (const auto& name : ComponentNames()) {
    if (!runtime.contains(name) || !runtime[name].is_object()) {
      continue;
    }
    const auto& c = runtime[name];
    ComponentRuntime component{.url = StringOr(c, "url"),
                               .config_dir = StringOr(c, "config_dir"),
                               .tenant = StringOr(c, "tenant"),
                               .user = StringOr(c, "user"),
                               .otlp_http_url = StringOr(c, "otlp_http_url"),
                               .otlp_grpc_url = StringOr(c, "otlp_grpc_url")};
    if (c.contains("token")) {
      component.token = AsSecretRef(c["token"]);
    }
    if (c.contains("password")) {
      component.password = AsSecretRef(c["password"]);
    }
    if (c.contains("port") && c["port"].is_number_integer()) {
      component.port = c["port"].get<int>();
    }
    out.components[name] = std::move(component);
  }
  return out;
}

// Every known component gets a boolean `enabled`, so templates never guess.
void FillEnabled(json& spec) {
  if (!spec.contains("components") || !spec["components"].is_object()) {
    spec["components"] = json::object();
  }
  auto& components = spec["components"];
  for (const auto& name : ComponentNames()) {
    if (!components.contains(name)) {
      components[name] = json::object({{"enabled", false}});
      continue;
    }
    auto& c = components[name];
    if (!c.is_object()) {
      c = json::object();  // `loki:` alone: enabled with defaults
    }
    c["enabled"] = !(c.contains("enabled") && c["enabled"] == false);
  }
}

}  // namespace

std::string StackSpec::Hash() const {
  return core::Sha256Hex(document.dump());
}

StackSpec ParseStack(std::string_view text,
                     const std::string& file,
                     const ContentSource& content,
                     const DocumentLimits& limits) {
  auto parsed = ParseDocument(text, file, limits);
  auto diagnostics = ValidateStack(parsed.document, parsed.positions, file, content);
  if (!diagnostics.empty()) {
    throw InputError(InputError::Kind::kInvalidSpec, std::move(diagnostics));
  }
  StackSpec stack;
  stack.name = parsed.document["metadata"]["name"].get<std::string>();
  stack.file = file;
  stack.environments = EnvironmentsInDocumentOrder(parsed.document, parsed.positions);
  stack.document = std::move(parsed.document);
  return stack;
}

StackSpec LoadStackFile(const std::filesystem::path& file, const ContentSource& content) {
  std::string text;
  try {
    text = core::ReadFile(file);
  } catch (const std::exception& e) {
    throw InputError(InputError::Kind::kInvalidSpec,
                     Diagnostic{.file = file.generic_string(),
                                .message = "cannot read the spec: " + std::string(e.what())});
  }
  return ParseStack(text, file.generic_string(), content);
}

std::filesystem::path StackRoot(const std::filesystem::path& spec_file,
                                const std::optional<std::filesystem::path>& root_flag) {
  if (root_flag) {
    return *root_flag;
  }
  auto dir = spec_file.lexically_normal().parent_path();
  if (dir.filename() == "stacks") {
    dir = dir.parent_path();
  }
  return dir.empty() ? std::filesystem::path(".") : dir;
}

EnvironmentSpec ForEnvironment(const StackSpec& stack, const std::string& env) {
  if (std::find(stack.environments.begin(), stack.environments.end(), env) ==
      stack.environments.end()) {
    std::string message = "unknown environment \"" + env + "\"";
    if (auto hint = Suggest(env, stack.environments)) {
      message += "; did you mean \"" + *hint + "\"?";
    }
    throw InputError(InputError::Kind::kInvalidSpec,
                     Diagnostic{.file = stack.file, .message = std::move(message)});
  }
  EnvironmentSpec out;
  out.stack = stack.name;
  out.env = env;
  out.merged = MergedDocument(stack.document, env);
  FillEnabled(out.merged["spec"]);
  const auto& spec = stack.document["spec"];
  if (spec.contains("environments") && spec["environments"].contains(env)) {
    out.runtime = ParseRuntime(spec["environments"][env].value("runtime", json::object()));
  }
  return out;
}

std::map<std::string, std::string> DeclaredVersions(const EnvironmentSpec& env) {
  std::map<std::string, std::string> out;
  const json components = env.merged.value(json::json_pointer("/spec/components"), json::object());
  if (!components.is_object()) {
    return out;
  }
  for (const auto& name : ComponentNames()) {
    const auto it = components.find(name);
    if (it == components.end() || !it->is_object() || !it->value("enabled", false)) {
      continue;
    }
    if (const auto v = it->find("version"); v != it->end() && v->is_string() && !v->empty()) {
      out[name] = v->get<std::string>();
    }
  }
  return out;
}

std::string LokiTenant(const EnvironmentSpec& env) {
  const json* loki = nullptr;
  if (const auto it = env.merged.find("spec"); it != env.merged.end() && it->is_object()) {
    if (const auto c = it->find("components"); c != it->end() && c->is_object()) {
      if (const auto l = c->find("loki"); l != c->end() && l->is_object()) {
        loki = &*l;
      }
    }
  }
  if (loki != nullptr) {
    if (const auto auth = loki->find("auth_enabled"); auth != loki->end() && *auth == false) {
      return "fake";
    }
  }
  if (const auto it = env.runtime.components.find("loki");
      it != env.runtime.components.end() && !it->second.tenant.empty()) {
    return it->second.tenant;
  }
  return env.stack;
}

}  // namespace obsforge::spec
