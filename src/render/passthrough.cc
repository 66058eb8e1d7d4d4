#include "render/passthrough.h"

#include <set>

#include "core/diagnostic.h"

namespace obsforge::render {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

[[noreturn]] void Fail(const std::string& file, const std::string& path, std::string message) {
  throw core::InputError(
      core::InputError::Kind::kRender,
      core::Diagnostic{.file = file, .path = path, .message = std::move(message)});
}

// The keys that have a *_file twin, per component, as Prometheus 2.42 and Alertmanager 0.25
// accept them (their own checks refuse the rest: Alertmanager 0.25 has no token_file,
// user_key_file, url_file, webhook_url_file or bot_token_file).
const std::set<std::string>& FileKeys(const std::string& component) {
  static const std::set<std::string> kPrometheus = {"password", "credentials", "bearer_token",
                                                    "client_secret", "key"};
  static const std::set<std::string> kAlertmanager = {
      "password",         "credentials",       "bearer_token",  "client_secret",      "key",
      "api_url",          "slack_api_url",     "auth_password", "smtp_auth_password", "api_key",
      "opsgenie_api_key", "victorops_api_key", "routing_key",   "service_key"};
  static const std::set<std::string> kNone;
  if (component == "prometheus") {
    return kPrometheus;
  }
  if (component == "alertmanager") {
    return kAlertmanager;
  }
  return kNone;
}

bool IsPreparedRef(const ordered_json& v) {
  return v.is_object() && v.contains("file") && v["file"].is_string() &&
         ((v.contains("secret") && v["secret"].is_string()) ||
          (v.contains("secret_file") && v["secret_file"].is_string()));
}

std::string Child(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

class Resolver {
 public:
  Resolver(std::string component, std::string file)
      : component_(std::move(component)), file_(std::move(file)) {}

  void Walk(ordered_json& node, const std::string& path) {
    if (node.is_array()) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        const std::string child = path + "[" + std::to_string(i) + "]";
        if (IsPreparedRef(node[i])) {
          node[i] = Inline(node[i], child);
        } else {
          Walk(node[i], child);
        }
      }
      return;
    }
    if (!node.is_object()) {
      return;
    }
    // Keys are rewritten in place (KEY -> KEY_file keeps its position), so rebuild the object.
    ordered_json out = ordered_json::object();
    for (auto& [key, value] : node.items()) {
      const std::string child = Child(path, key);
      if (!IsPreparedRef(value)) {
        Walk(value, child);
        out[key] = std::move(value);
      } else if (component_ == "prometheus" || component_ == "alertmanager") {
        if (FileKeys(component_).count(key) == 0) {
          Fail(file_, child,
               "a secret here cannot be read from a file (" + component_ + " has no " + key +
                   "_file option)");
        }
        if (node.contains(key + "_file")) {
          Fail(file_, child, "both " + key + " and " + key + "_file are set");
        }
        out[key + "_file"] = value["file"];
      } else {
        out[key] = Inline(value, child);
      }
    }
    node = std::move(out);
  }

 private:
  // A secret reference as a string the component expands itself.
  std::string Inline(const ordered_json& ref, const std::string& path) const {
    const std::string file = ref["file"].get<std::string>();
    if (component_ == "grafana") {
      return "$__file{" + file + "}";
    }
    if (component_ == "otel_collector") {
      return "${file:" + file + "}";
    }
    if (component_ == "loki" || component_ == "tempo") {
      if (!ref.contains("secret")) {
        Fail(file_, path,
             component_ +
                 " reads secrets from environment variables only "
                 "(-config.expand-env=true): use {secret: NAME}");
      }
      return "${" + ref["secret"].get<std::string>() + "}";
    }
    Fail(file_, path,
         "a secret inside a list cannot be read from a file; put it under a key that has a "
         "*_file option");
  }

  std::string component_;
  std::string file_;
};

}  // namespace

std::string MainFile(const std::string& component) {
  if (component == "prometheus") {
    return "prometheus.yml";
  }
  if (component == "alertmanager") {
    return "alertmanager.yml";
  }
  if (component == "loki") {
    return "loki.yaml";
  }
  if (component == "tempo") {
    return "tempo.yaml";
  }
  if (component == "grafana") {
    return "grafana.ini";
  }
  if (component == "otel_collector") {
    return "config.yaml";
  }
  return "";
}

namespace {

ordered_json MergeOverlay(ordered_json base, const json& overlay) {
  if (!overlay.is_object() || !base.is_object()) {
    return ordered_json(overlay);
  }
  for (const auto& [key, value] : overlay.items()) {
    if (value.is_object() && base.contains(key) && base[key].is_object()) {
      base[key] = MergeOverlay(std::move(base[key]), value);
    } else {
      base[key] = ordered_json(value);
    }
  }
  return base;
}

}  // namespace

ordered_json MergePassthrough(ordered_json base, const json& overlay, const json& remove) {
  if (remove.is_array()) {
    for (const auto& pointer : remove) {
      if (pointer.is_string()) {
        RemovePointer(base, pointer.get<std::string>());
      }
    }
  }
  if (overlay.is_null()) {
    return base;
  }
  return MergeOverlay(std::move(base), overlay);
}

void RemovePointer(ordered_json& doc, const std::string& pointer) {
  try {
    const ordered_json::json_pointer ptr(pointer);
    if (ptr.empty() || !doc.contains(ptr)) {
      return;
    }
    ordered_json& parent = doc[ptr.parent_pointer()];
    if (parent.is_object()) {
      parent.erase(ptr.back());
    } else if (parent.is_array()) {
      parent.erase(static_cast<std::size_t>(std::stoul(ptr.back())));
    }
  } catch (const std::exception&) {
    // Not a JSON pointer (the spec's validation says so), or not a place of this document.
  }
}

bool CanReadSecretAt(const std::string& component, const std::string& key) {
  if (component != "prometheus" && component != "alertmanager") {
    return true;
  }
  return FileKeys(component).count(key) != 0;
}

bool HasSecretReferences(const ordered_json& config) {
  if (IsPreparedRef(config)) {
    return true;
  }
  if (config.is_structured()) {
    for (const auto& item : config) {
      if (HasSecretReferences(item)) {
        return true;
      }
    }
  }
  return false;
}

void ResolveSecretReferences(ordered_json& config,
                             const std::string& component,
                             const std::string& file) {
  Resolver(component, file).Walk(config, "");
}

}  // namespace obsforge::render
