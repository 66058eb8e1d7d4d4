#include "core/secret.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace obsforge::core {

std::string SecretRef::ToString() const {
  return kind == Kind::kEnv ? "{secret: " + name + "}" : "{secret_file: " + name + "}";
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    // getenv is only read here, never written concurrently by obsforge.
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

Result<Secret> ResolveSecret(const SecretRef& ref, const EnvLookup& env) {
  if (ref.kind == SecretRef::Kind::kEnv) {
    auto value = env(ref.name);
    if (!value) {
      return MakeError(
          ErrorCode::kNotFound,
          "secret " + ref.ToString() + ": environment variable " + ref.name + " is not set");
    }
    return Secret(*value);
  }
  std::ifstream in(ref.name, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kNotFound, "secret " + ref.ToString() + ": file cannot be read");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string value = buffer.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
    value.pop_back();
  }
  return Secret(std::move(value));
}

}  // namespace obsforge::core
