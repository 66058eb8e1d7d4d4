#include "provision/normalize.h"

#include <array>
#include <string>
#include <vector>

#include "core/hash.h"

namespace obsforge::provision {
namespace {

using nlohmann::json;

std::string Cut(const json& value, bool absent) {
  if (absent) {
    return "(absent)";
  }
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr std::size_t kMax = 120;
  if (text.size() > kMax) {
    text = text.substr(0, kMax) + "...";
  }
  return text;
}

void Walk(const json& before,
          const json& after,
          const std::string& path,
          bool desired_only,
          std::vector<FieldDiff>& out) {
  if (before.is_object() && after.is_object()) {
    for (const auto& [key, value] : after.items()) {
      const std::string child = path + "/" + EscapePointerToken(key);
      const auto it = before.find(key);
      if (it == before.end()) {
        out.push_back({.path = child, .before = nullptr, .after = value, .before_absent = true});
      } else {
        Walk(*it, value, child, desired_only, out);
      }
    }
    if (!desired_only) {
      for (const auto& [key, value] : before.items()) {
        if (!after.contains(key)) {
          out.push_back({.path = path + "/" + EscapePointerToken(key),
                         .before = value,
                         .after = nullptr,
                         .after_absent = true});
        }
      }
    }
    return;
  }
  if (before.is_array() && after.is_array() && before.size() == after.size()) {
    for (std::size_t i = 0; i < after.size(); ++i) {
      Walk(before[i], after[i], path + "/" + std::to_string(i), desired_only, out);
    }
    return;
  }
  if (before != after) {
    out.push_back({.path = path, .before = before, .after = after});
  }
}

}  // namespace

std::string FieldDiff::ToString() const {
  return (path.empty() ? std::string("/") : path) + ": " + Cut(before, before_absent) + " -> " +
         Cut(after, after_absent);
}

std::vector<FieldDiff> DiffJson(const json& before, const json& after) {
  std::vector<FieldDiff> out;
  Walk(before, after, "", false, out);
  return out;
}

std::vector<FieldDiff> DiffDesiredFields(const json& remote, const json& desired) {
  std::vector<FieldDiff> out;
  Walk(remote, desired, "", true, out);
  return out;
}

json StripServerFields(json object) {
  if (!object.is_object()) {
    return object;
  }
  static constexpr auto kServerFields = std::to_array<const char*>(
      {"id",          "version", "iteration",    "created",          "updated",    "slug",
       "orgId",       "orgID",   "readOnly",     "secureJsonFields", "provenance", "hasAcl",
       "canSave",     "canEdit", "canAdmin",     "canDelete",        "createdBy",  "updatedBy",
       "typeLogoUrl", "parents", "accessControl"});
  for (const char* field : kServerFields) {
    object.erase(field);
  }
  if (auto it = object.find("rules"); it != object.end() && it->is_array()) {
    for (auto& rule : *it) {
      rule = StripServerFields(std::move(rule));
    }
  }
  return object;
}

json NormalizeDashboard(json dashboard) {
  if (dashboard.is_object()) {
    dashboard.erase("id");
    dashboard.erase("version");
    dashboard.erase("iteration");
  }
  return dashboard;
}

std::string EscapePointerToken(const std::string& token) {
  std::string out;
  out.reserve(token.size());
  for (const char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::int64_t IntegerMember(const json& value, const char* key) {
  if (!value.is_object()) {
    return 0;
  }
  const auto it = value.find(key);
  return it != value.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::string CanonicalText(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string CanonicalHash(const json& value) {
  return core::Sha256Hex(CanonicalText(value));
}

}  // namespace obsforge::provision
