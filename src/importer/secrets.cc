#include "importer/secrets.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "core/hash.h"
#include "importer/parts.h"
#include "provision/normalize.h"
#include "spec/checks.h"

namespace obsforge::importer {
namespace {

using nlohmann::ordered_json;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// "${VAR}" / "$VAR": the value comes from the environment already (-config.expand-env).
bool IsPlaceholder(const std::string& s) {
  return s.size() > 1 && s[0] == '$' && s.find_first_of(" \t\n") == std::string::npos;
}

bool IsMask(const std::string& s) {
  return s == "[REDACTED]" || s == "<secret>";
}

// A word of a secret's name: upper case letters, digits and '_'.
std::string Word(const std::string& text) {
  return Words(text, '_', /*upper=*/true);
}

// `slack_configs` names its items `SLACK`; other keys are themselves.
std::string KeyWord(const std::string& key) {
  std::string k = key;
  if (k.ends_with("_configs")) {
    k.resize(k.size() - std::string_view("_configs").size());
  }
  return Word(k);
}

void Redact(ordered_json& node, const std::string& path, std::vector<std::string>& out) {
  if (node.is_string()) {
    if (spec::LooksLikeCredential(node.get<std::string>())) {
      node = "<redacted>";
      out.push_back(path);
    }
  } else if (node.is_object()) {
    const std::string prefix = path.empty() ? std::string() : path + ".";
    for (const auto& [key, child] : node.items()) {  // `child` still refers to a mutable node
      Redact(child, prefix + key, out);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      Redact(node[i], path + "[" + std::to_string(i) + "]", out);
    }
  }
}

}  // namespace

bool IsSecretKey(const std::string& key, const std::vector<std::string>& parents) {
  const std::string k = Lower(key);
  if (k.ends_with("_file") || k.ends_with("_files") || k.ends_with("_path") || k == "file") {
    return false;
  }
  if (k == "api_url") {
    return Contains(parents, "slack_configs");  // elsewhere it is the service's address
  }
  if (k == "routing_key" && Contains(parents, "victorops_configs")) {
    return false;  // VictorOps' routing key selects a route; it is not a credential
  }
  static constexpr auto kExact = std::to_array<std::string_view>(
      {"password", "bearer_token", "credentials", "client_secret", "token", "key", "slack_api_url",
       "webhook_url", "authorization", "apikey", "integrationkey"});
  for (const std::string_view exact : kExact) {
    if (k == exact) {
      return true;
    }
  }
  return k.ends_with("_token") || k.ends_with("_key") || k.ends_with("_secret") ||
         k.find("password") != std::string::npos || k.find("secret") != std::string::npos;
}

SecretLifter::SecretLifter(const std::string& stack) : stack_(Word(stack)) {
}

std::string SecretLifter::UniqueName(const std::vector<std::string>& words) {
  std::string name = stack_;
  for (const auto& w : words) {
    const std::string word = Word(w);
    if (!word.empty()) {
      name += "_" + word;
    }
  }
  const int n = ++names_[name];
  return n == 1 ? name : name + "_" + std::to_string(n);
}

ordered_json SecretLifter::Lift(const std::string& value,
                                const std::vector<std::string>& words,
                                const std::string& from,
                                const std::string& pointer) {
  // The same value found twice is one secret; masks are not values.
  const std::string key = IsMask(value) ? std::string() : core::Sha256Hex(value);
  std::size_t index = 0;
  if (const auto it = key.empty() ? by_value_.end() : by_value_.find(key);
      it != by_value_.end() && secrets_[it->second].component == component_) {
    index = it->second;
  } else {
    secrets_.push_back({.name = UniqueName(words), .component = component_});
    index = secrets_.size() - 1;
    if (!key.empty()) {
      by_value_[key] = index;
    }
  }
  auto& secret = secrets_[index];
  secret.from.push_back(from + (IsMask(value) ? " (the source showed only a mask: take the value "
                                                "from where it is kept)"
                                              : ""));
  if (!pointer.empty()) {
    secret.pointers.push_back(pointer);
  }
  ordered_json ref = ordered_json::object();
  ref["secret"] = secret.name;
  return ref;
}

void SecretLifter::Walk(ordered_json& node,
                        std::vector<std::string>& keys,
                        std::vector<std::string>& words,
                        const std::string& pointer,
                        const std::string& path,
                        bool grafana) {
  if (node.is_object()) {
    WalkObject(node, keys, words, pointer, path, grafana);
  } else if (node.is_array()) {
    WalkArray(node, keys, words, pointer, path, grafana);
  }
}

void SecretLifter::WalkObject(ordered_json& node,
                              std::vector<std::string>& keys,
                              std::vector<std::string>& words,
                              const std::string& pointer,
                              const std::string& path,
                              bool grafana) {
  const std::string path_prefix = path.empty() ? std::string() : path + ".";
  for (const auto& [key, child] : node.items()) {  // `child` still refers to a mutable node
    const std::string child_path = path_prefix + key;
    const std::string child_pointer = pointer + "/" + provision::EscapePointerToken(key);
    if (child.is_string()) {
      const auto& text = child.get_ref<const std::string&>();
      const bool secret_key = IsSecretKey(key, keys);
      const bool secret =
          !text.empty() && !IsPlaceholder(text) &&
          (secret_key || spec::LooksLikeCredential(text) || (grafana && IsMask(text)));
      if (secret) {
        words.push_back(KeyWord(key));
        child = Lift(text, words, from_ + child_path, grafana ? "" : child_pointer);
        words.pop_back();
      }
      continue;
    }
    keys.push_back(key);
    words.push_back(KeyWord(key));
    Walk(child, keys, words, child_pointer, child_path, grafana);
    words.pop_back();
    keys.pop_back();
  }
}

void SecretLifter::WalkArray(ordered_json& node,
                             std::vector<std::string>& keys,
                             std::vector<std::string>& words,
                             const std::string& pointer,
                             const std::string& path,
                             bool grafana) {
  for (std::size_t i = 0; i < node.size(); ++i) {
    auto& item = node[i];
    // Items are named after their own name when they have one (receivers, jobs).
    std::string word;
    for (const char* name_key : {"name", "job_name"}) {
      if (item.is_object() && item.contains(name_key) && item[name_key].is_string()) {
        word = item[name_key].get<std::string>();
        break;
      }
    }
    if (word.empty() && node.size() > 1) {
      word = std::to_string(i);
    }
    const std::string child_path = path + "[" + std::to_string(i) + "]";
    const std::string child_pointer = pointer + "/" + std::to_string(i);
    if (item.is_string()) {
      const auto& text = item.get_ref<const std::string&>();
      if (!IsPlaceholder(text) && spec::LooksLikeCredential(text)) {
        words.push_back(word);
        item = Lift(text, words, from_ + child_path, grafana ? "" : child_pointer);
        words.pop_back();
      }
      continue;
    }
    words.push_back(word);
    Walk(item, keys, words, child_pointer, child_path, grafana);
    words.pop_back();
  }
}

void SecretLifter::LiftConfig(ordered_json& config,
                              const std::string& component,
                              const std::string& file,
                              const std::string& origin) {
  component_ = component;
  from_ = file + (origin.empty() || origin == file ? "" : " (" + origin + ")") + ": ";
  std::vector<std::string> keys;
  std::vector<std::string> words = {component};
  Walk(config, keys, words, "", "", false);
}

void SecretLifter::LiftObject(ordered_json& value,
                              const std::vector<std::string>& words,
                              const std::string& from) {
  component_ = "grafana";
  from_ = from + ": ";
  std::vector<std::string> keys;
  std::vector<std::string> w = words;
  Walk(value, keys, w, "", "", true);
}

ordered_json SecretLifter::Unrevealed(const std::vector<std::string>& words,
                                      const std::string& from) {
  component_ = "grafana";
  secrets_.push_back({.name = UniqueName(words), .component = component_});
  secrets_.back().from.push_back(from);
  ordered_json ref = ordered_json::object();
  ref["secret"] = secrets_.back().name;
  return ref;
}

bool SecretLifter::TextHasCredential(const std::string& text) {
  std::string word;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ' ';
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'') {
      if (!word.empty() && spec::LooksLikeCredential(word)) {
        return true;
      }
      word.clear();
    } else {
      word += c;
    }
  }
  return false;
}

std::vector<std::string> SecretLifter::RedactCredentials(ordered_json& value) {
  std::vector<std::string> out;
  Redact(value, "", out);
  return out;
}

}  // namespace obsforge::importer
