#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>

#include "core/diagnostic.h"
#include "spec/checks.h"
#include "spec/document.h"

namespace obsforge::spec {
namespace {

using core::Diagnostic;
using core::InputError;
using nlohmann::json;

// Aliases can make a small text expand into a huge tree (or a cycle); stop well before that hurts.
constexpr int kMaxDepth = 128;
constexpr std::size_t kMaxNodes = 100'000;

constexpr std::string_view kCoreTagPrefix = "tag:yaml.org,2002:";

bool IsIdentifier(std::string_view key) {
  if (key.empty()) {
    return false;
  }
  for (const char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::optional<json> ParseInteger(std::string_view text) {
  std::string_view digits = text;
  bool negative = false;
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'o')) {
    base = text[1] == 'x' ? 16 : 8;
    digits = text.substr(2);
  } else if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    digits = text.substr(1);
  }
  if (digits.empty()) {
    return std::nullopt;
  }
  for (const char c : digits) {
    const bool ok = base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                               : (c >= '0' && c < static_cast<char>('0' + base));
    if (!ok) {
      return std::nullopt;
    }
  }
  std::uint64_t magnitude = 0;
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    // Too large for 64 bits: keep it as a (lossy) number rather than refusing it; beyond
    // double's range (or in octal, which strtod does not read) it stays the text it is.
    const std::string owned(text);
    errno = 0;
    const double value = base == 8 ? 0.0 : std::strtod(owned.c_str(), nullptr);
    if (base == 8 || errno == ERANGE) {
      return json(owned);
    }
    return json(value);
  }
  if (!negative) {
    if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return json(static_cast<std::int64_t>(magnitude));
    }
    return json(magnitude);
  }
  if (magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1) {
    return json(static_cast<std::int64_t>(0 - magnitude));
  }
  return json(-static_cast<double>(magnitude));
}

class Converter {
 public:
  Converter(std::string file, SourceMap& positions)
      : file_(std::move(file)), positions_(positions) {}

  json Convert(const YAML::Node& node, const std::string& path, int depth) {
    if (depth > kMaxDepth) {
      Fail(node.Mark(), path, "document is nested too deeply (more than 128 levels)");
    }
    if (++nodes_ > kMaxNodes) {
      Fail(node.Mark(), path, "document is too large (more than 100000 nodes)");
    }
    if (!positions_.values.contains(path)) {
      positions_.values[path] = ToPosition(node.Mark());
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return nullptr;
      case YAML::NodeType::Scalar:
        return Scalar(node, path);
      case YAML::NodeType::Sequence: {
        CheckCollectionTag(node, path, "seq");
        json out = json::array();
        std::size_t index = 0;
        for (const auto& item : node) {
          out.push_back(Convert(item, IndexPath(path, index++), depth + 1));
        }
        return out;
      }
      case YAML::NodeType::Map:
        return Map(node, path, depth);
    }
    return nullptr;
  }

 private:
  json Map(const YAML::Node& node, const std::string& path, int depth) {
    CheckCollectionTag(node, path, "map");
    json out = json::object();
    // Each pair is a value: yaml-cpp iterators hand out proxies that die with the expression.
    for (const auto& pair : node) {
      const YAML::Node key = pair.first;
      if (!key.IsScalar()) {
        Fail(key.Mark(), path, "map keys must be strings");
      }
      const std::string& name = key.Scalar();
      const std::string child = ChildPath(path, name);
      if (out.contains(name)) {
        const auto first = positions_.keys[child];
        Fail(key.Mark(), child,
             "duplicate key \"" + name + "\" (first defined at line " + std::to_string(first.line) +
                 ")");
      }
      positions_.keys[child] = ToPosition(key.Mark());
      // An empty value (`key:`) has no token of its own: yaml-cpp marks the next token, which
      // may be lines away. The key is the better place to point at.
      const YAML::Node value = pair.second;
      if (value.IsNull() && value.Mark().line != key.Mark().line) {
        positions_.values[child] = ToPosition(key.Mark());
      }
      out[name] = Convert(value, child, depth + 1);
    }
    return out;
  }

  json Scalar(const YAML::Node& node, const std::string& path) {
    const std::string& tag = node.Tag();
    const std::string& text = node.Scalar();
    if (tag == "!" || tag == std::string(kCoreTagPrefix) + "str") {
      return text;
    }
    if (tag == "?" || tag.empty()) {
      return TypePlainScalar(text);
    }
    if (tag.starts_with(kCoreTagPrefix)) {
      const auto want = tag.substr(kCoreTagPrefix.size());
      json value = TypePlainScalar(text);
      const bool fits =
          (want == "null" && value.is_null()) || (want == "bool" && value.is_boolean()) ||
          (want == "int" && value.is_number_integer()) || (want == "float" && value.is_number());
      if (!fits) {
        Fail(node.Mark(), path, "\"" + text + "\" is not a valid !!" + want);
      }
      return want == "float" ? json(value.get<double>()) : value;
    }
    Fail(node.Mark(), path, "unsupported tag \"" + tag + "\"");
  }

  void CheckCollectionTag(const YAML::Node& node,
                          const std::string& path,
                          const std::string& kind) {
    const std::string& tag = node.Tag();
    if (tag.empty() || tag == "?" || tag == "!" || tag == std::string(kCoreTagPrefix) + kind) {
      return;
    }
    Fail(node.Mark(), path, "unsupported tag \"" + tag + "\"");
  }

  [[noreturn]] void Fail(const YAML::Mark& mark,
                         const std::string& path,
                         const std::string& message) const {
    const auto pos = ToPosition(mark);
    throw InputError(InputError::Kind::kInvalidSpec, Diagnostic{.file = file_,
                                                                .line = pos.line,
                                                                .column = pos.column,
                                                                .path = path,
                                                                .message = message});
  }

  static Position ToPosition(const YAML::Mark& mark) {
    if (mark.is_null()) {
      return {};
    }
    return {mark.line + 1, mark.column + 1};
  }

  std::string file_;
  SourceMap& positions_;
  std::size_t nodes_ = 0;
};

bool LooksLikeJson(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

}  // namespace

std::string ChildPath(const std::string& parent, std::string_view key) {
  std::string segment;
  if (IsIdentifier(key)) {
    segment = parent.empty() ? std::string(key) : parent + "." + std::string(key);
    return segment;
  }
  std::string quoted = "[\"";
  for (const char c : key) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
    }
    quoted += c;
  }
  quoted += "\"]";
  return parent + quoted;
}

std::string IndexPath(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

nlohmann::json TypePlainScalar(std::string_view text) {
  static const std::set<std::string_view> kNull = {"", "~", "null", "Null", "NULL"};
  static const std::set<std::string_view> kTrue = {"true", "True", "TRUE"};
  static const std::set<std::string_view> kFalse = {"false", "False", "FALSE"};
  static const std::set<std::string_view> kInf = {".inf", ".Inf", ".INF"};
  static const std::set<std::string_view> kNan = {".nan", ".NaN", ".NAN"};
  if (kNull.contains(text)) {
    return nullptr;
  }
  if (kTrue.contains(text)) {
    return true;
  }
  if (kFalse.contains(text)) {
    return false;
  }
  if (auto integer = ParseInteger(text)) {
    return *integer;
  }
  const bool sign = !text.empty() && (text[0] == '-' || text[0] == '+');
  if (kInf.contains(sign ? text.substr(1) : text)) {
    return text[0] == '-' ? -std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::infinity();
  }
  if (kNan.contains(text)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const std::string owned(text);
  if (IsPlainFloat(text)) {
    // strtod, not stod: a float out of double's range stays the text it is, never throws.
    errno = 0;
    const double value = std::strtod(owned.c_str(), nullptr);
    if (errno != ERANGE) {
      return value;
    }
  }
  return owned;
}

ParsedDocument ParseDocument(std::string_view text, const std::string& file) {
  ParsedDocument parsed;
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    if (LooksLikeJson(text)) {
      return ParseJsonDocument(text, file);
    }
    throw InputError(InputError::Kind::kInvalidSpec,
                     Diagnostic{.file = file,
                                .line = e.mark.is_null() ? 0 : e.mark.line + 1,
                                .column = e.mark.is_null() ? 0 : e.mark.column + 1,
                                .message = "invalid YAML: " + e.msg});
  }
  if (documents.size() > 1) {
    const auto mark = documents[1].Mark();
    throw InputError(
        InputError::Kind::kInvalidSpec,
        Diagnostic{.file = file,
                   .line = mark.is_null() ? 0 : mark.line + 1,
                   .column = mark.is_null() ? 0 : mark.column + 1,
                   .message = "expected one document, found " + std::to_string(documents.size())});
  }
  if (documents.empty()) {
    parsed.document = nullptr;
    return parsed;
  }
  Converter converter(file, parsed.positions);
  parsed.document = converter.Convert(documents.front(), "", 0);
  return parsed;
}

Position PositionOfOffset(std::string_view text, std::size_t offset) {
  Position pos{1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

Position SourceMap::Value(const std::string& path) const {
  std::string p = path;
  while (true) {
    if (auto it = values.find(p); it != values.end()) {
      return it->second;
    }
    if (p.empty()) {
      return {};
    }
    // Strip the last segment: `.key`, `[n]` or `["key"]` (which may hold '.' or '[').
    if (p.ends_with("\"]")) {
      p.erase(p.rfind("[\""));
      continue;
    }
    const auto cut = p.find_last_of(".[");
    p.erase(cut == std::string::npos ? 0 : cut);
  }
}

Position SourceMap::Key(const std::string& path) const {
  if (auto it = keys.find(path); it != keys.end()) {
    return it->second;
  }
  return Value(path);
}

}  // namespace obsforge::spec
