#include "importer/passthrough.h"

#include "importer/parts.h"
#include "provision/normalize.h"
#include "render/passthrough.h"

namespace obsforge::importer {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

bool Below(const std::set<std::string>& set, const std::string& pointer) {
  const std::string prefix = pointer + "/";
  const auto it = set.lower_bound(prefix);
  return it != set.end() && it->starts_with(prefix);
}

ordered_json Split(const ordered_json& t,
                   const ordered_json& o,
                   const std::string& at,
                   const Exclusions& ex,
                   std::vector<std::string>& remove) {
  ordered_json out = ordered_json::object();
  for (const auto& [key, ov] : o.items()) {
    const std::string p = at + "/" + provision::EscapePointerToken(key);
    if (ex.lifted.contains(p) || ex.owned.contains(p)) {
      continue;
    }
    const bool t_map = t.contains(key) && t[key].is_object();
    const bool excluded_below = Below(ex.lifted, p) || Below(ex.owned, p);
    if (ov.is_object() && (t_map || excluded_below)) {
      ordered_json inner = Split(t_map ? t[key] : ordered_json::object(), ov, p, ex, remove);
      if (!inner.empty() || !t_map) {  // an empty map merged over a map changes nothing
        out[key] = std::move(inner);
      }
    } else {
      out[key] = ov;
    }
  }
  for (const auto& [key, tv] : t.items()) {
    const std::string p = at + "/" + provision::EscapePointerToken(key);
    if (o.contains(key) || ex.owned_kept.contains(p) || ex.lifted.contains(p)) {
      continue;
    }
    remove.push_back(p);
  }
  return out;
}

std::string Between(const std::string& s, const std::string& open, const std::string& close) {
  if (s.size() > open.size() + close.size() && s.starts_with(open) && s.ends_with(close)) {
    return s.substr(open.size(), s.size() - open.size() - close.size());
  }
  return "";
}

ordered_json Ref(const std::string& name) {
  ordered_json ref = ordered_json::object();
  ref["secret"] = name;
  return ref;
}

void UnsecretWalk(ordered_json& node,
                  const std::map<std::string, std::string>& files,
                  const std::set<std::string>& names) {
  if (node.is_string()) {
    const auto& s = node.get_ref<const std::string&>();
    for (const auto& [open, close] :
         {std::pair<std::string, std::string>{"${file:", "}"}, {"$__file{", "}"}}) {
      if (const auto f = files.find(Between(s, open, close)); f != files.end()) {
        node = Ref(f->second);
        return;
      }
    }
    if (const std::string name = Between(s, "${", "}"); names.contains(name)) {
      node = Ref(name);
    }
    return;
  }
  if (node.is_array()) {
    for (auto& item : node) {
      UnsecretWalk(item, files, names);
    }
    return;
  }
  if (!node.is_object()) {
    return;
  }
  ordered_json out = ordered_json::object();
  for (const auto& [key, value] : node.items()) {  // `value` still refers to a mutable node
    if (key.ends_with("_file") && value.is_string()) {
      if (const auto f = files.find(value.get<std::string>()); f != files.end()) {
        out[key.substr(0, key.size() - 5)] = Ref(f->second);
        continue;
      }
    }
    UnsecretWalk(value, files, names);
    out[key] = std::move(value);
  }
  node = std::move(out);
}

}  // namespace

Passthrough ComputePassthrough(const ordered_json& rendered,
                               const ordered_json& original,
                               const Exclusions& exclusions) {
  Passthrough out;
  out.merge =
      Split(rendered.is_object() ? rendered : ordered_json::object(),
            original.is_object() ? original : ordered_json::object(), "", exclusions, out.remove);
  return out;
}

ordered_json Unsecret(ordered_json rendered,
                      const std::map<std::string, std::string>& files,
                      const std::set<std::string>& names) {
  UnsecretWalk(rendered, files, names);
  return rendered;
}

std::vector<std::string> DiffAsData(ordered_json a,
                                    ordered_json b,
                                    const std::vector<std::string>& ignored,
                                    std::size_t limit) {
  for (const auto& pointer : ignored) {
    render::RemovePointer(a, pointer);
    render::RemovePointer(b, pointer);
  }
  std::vector<std::string> out;
  for (const auto& diff : provision::DiffJson(json(a), json(b))) {
    if (out.size() == limit) {
      break;
    }
    out.push_back(diff.path.empty() ? "/" : diff.path);
  }
  return out;
}

}  // namespace obsforge::importer
