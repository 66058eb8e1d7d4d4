#include <algorithm>

#include "spec/stack.h"

namespace obsforge::spec {
namespace {

using nlohmann::json;

void Collect(const json& value, std::vector<core::SecretRef>& out) {
  if (auto ref = AsSecretRef(value)) {
    if (std::find(out.begin(), out.end(), *ref) == out.end()) {
      out.push_back(*ref);
    }
    return;
  }
  if (value.is_object() || value.is_array()) {
    for (const auto& item : value) {
      Collect(item, out);
    }
  }
}

}  // namespace

json MergeOver(const json& base, const json& overlay) {
  if (!overlay.is_object()) {
    return overlay;  // lists and scalars replace
  }
  // An overlay map over a non-map starts from empty, so its nulls still mean "absent".
  json out = base.is_object() ? base : json::object();
  for (const auto& [key, value] : overlay.items()) {
    if (value.is_null()) {
      out.erase(key);
    } else if (value.is_object()) {
      out[key] = MergeOver(out.contains(key) ? out[key] : json::object(), value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

std::optional<core::SecretRef> AsSecretRef(const json& value) {
  if (!value.is_object() || value.size() != 1) {
    return std::nullopt;
  }
  if (auto it = value.find("secret"); it != value.end() && it->is_string()) {
    return core::SecretRef{.kind = core::SecretRef::Kind::kEnv, .name = it->get<std::string>()};
  }
  if (auto it = value.find("secret_file"); it != value.end() && it->is_string()) {
    return core::SecretRef{.kind = core::SecretRef::Kind::kFile, .name = it->get<std::string>()};
  }
  return std::nullopt;
}

std::vector<core::SecretRef> CollectSecretRefs(const json& value) {
  std::vector<core::SecretRef> out;
  Collect(value, out);
  return out;
}

}  // namespace obsforge::spec
