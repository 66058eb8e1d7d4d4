#include "render/yaml_json.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>

#include <yaml-cpp/yaml.h>

#include "core/diagnostic.h"
#include "spec/checks.h"

namespace obsforge::render {
namespace {

using nlohmann::ordered_json;

constexpr int kMaxDepth = 256;

ordered_json ResolvePlain(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return nullptr;
  }
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  // Only numbers-in-spirit are looked at further.
  const char c = s[0];
  if (!(c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'))) {
    return s;
  }
  // strtod, never stod: beyond double's range a number stays the text it is, never throws.
  const auto finite_double = [&s]() -> std::optional<double> {
    errno = 0;
    const double d = std::strtod(s.c_str(), nullptr);
    return errno == ERANGE || !std::isfinite(d) ? std::nullopt : std::optional(d);
  };
  if (spec::IsPlainInteger(s)) {
    std::int64_t v = 0;
    const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
    const auto [p, ec] = std::from_chars(begin, s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) {
      return v;
    }
    if (const auto d = finite_double()) {
      return *d;
    }
    return s;
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    std::uint64_t v = 0;
    const auto [p, ec] =
        std::from_chars(s.data() + 2, s.data() + s.size(), v, s[1] == 'x' ? 16 : 8);
    if (ec == std::errc() && p == s.data() + s.size()) {
      return v;
    }
    return s;
  }
  if (spec::IsPlainFloat(s)) {
    if (const auto d = finite_double()) {
      return *d;
    }
  }
  return s;
}

ordered_json Convert(const YAML::Node& node, int depth, const std::string& file) {
  if (depth > kMaxDepth) {
    throw core::InputError(core::InputError::Kind::kRender,
                           core::Diagnostic{.file = file,
                                            .line = node.Mark().line + 1,
                                            .column = node.Mark().column + 1,
                                            .message = "document nests too deeply"});
  }
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const auto& tag = node.Tag();
      if (tag == "!" || tag == "tag:yaml.org,2002:str") {
        return node.Scalar();
      }
      return ResolvePlain(node.Scalar());
    }
    case YAML::NodeType::Sequence: {
      ordered_json out = ordered_json::array();
      for (const auto& item : node) {
        out.push_back(Convert(item, depth + 1, file));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      ordered_json out = ordered_json::object();
      for (const auto& kv : node) {
        const auto key = kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first);
        out[key] = Convert(kv.second, depth + 1, file);
      }
      return out;
    }
  }
  return nullptr;
}

}  // namespace

ordered_json ParseYaml(std::string_view text, const std::string& file) {
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    return Convert(root, 0, file);
  } catch (const YAML::Exception& e) {
    throw core::InputError(core::InputError::Kind::kRender,
                           core::Diagnostic{.file = file,
                                            .line = e.mark.line + 1,
                                            .column = e.mark.column + 1,
                                            .message = "invalid YAML: " + e.msg});
  }
}

}  // namespace obsforge::render
