#include "render/emit.h"

#include <array>
#include <cstdio>
#include <stdexcept>
#include <string_view>

namespace obsforge::render {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) {
      return false;
    }
  }
  return true;
}

// Words YAML 1.1 (and 1.2 core) resolve to booleans or null. Matched in any case: some parsers
// accept spellings ("tRUE") the spec does not, and quoting them costs nothing.
bool IsReservedWord(std::string_view s) {
  static constexpr std::array<std::string_view, 13> kWords = {
      "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "=", "<<", ""};
  for (const auto w : kWords) {
    if (EqualsIgnoreCase(s, w)) {
      return true;
    }
  }
  return false;
}

// Over-approximates every YAML 1.1/1.2 number form (ints in bases 2/8/10/16, underscores,
// sexagesimal, floats with exponents, .inf/.nan, timestamps): a string that starts like a number
// and holds only characters such numbers use is quoted. "30s" or "5m" stay plain.
bool LooksNumeric(std::string_view s) {
  std::string_view t = s;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    t.remove_prefix(1);
  }
  if (t.empty()) {
    return false;
  }
  if (t[0] == '.') {
    const auto rest = t.substr(1);
    if (EqualsIgnoreCase(rest, "inf") || EqualsIgnoreCase(rest, "nan")) {
      return true;
    }
    if (rest.empty() || !IsDigit(rest[0])) {
      return false;
    }
  } else if (!IsDigit(t[0])) {
    return false;
  }
  for (const char c : t) {
    const char l = Lower(c);
    const bool ok = IsDigit(c) || (l >= 'a' && l <= 'f') || l == 'x' || l == 'o' || l == '_' ||
                    l == '.' || l == ':' || l == '+' || l == '-' || l == 't' || l == 'z' ||
                    l == ' ';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Unicode characters YAML treats as line breaks or a byte-order mark: NEL, LS, PS, BOM.
bool HasUnicodeBreak(std::string_view s) {
  return s.find("\xC2\x85") != std::string_view::npos ||
         s.find("\xE2\x80\xA8") != std::string_view::npos ||
         s.find("\xE2\x80\xA9") != std::string_view::npos ||
         s.find("\xEF\xBB\xBF") != std::string_view::npos;
}

bool HasControl(std::string_view s, bool allow_newline_and_tab) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (allow_newline_and_tab && (c == '\n' || c == '\t')) {
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      return true;
    }
  }
  return HasUnicodeBreak(s);
}

bool IsIndicator(char c) {
  static constexpr std::string_view kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  return kIndicators.find(c) != std::string_view::npos;
}

std::string DoubleQuoted(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\r':
        out += "\\r";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      std::array<char, 8> buf{};
      std::snprintf(buf.data(), buf.size(), "\\x%02X", c);
      out += buf.data();
      continue;
    }
    // Unicode line breaks and the BOM must be escaped or a parser reads them as structure.
    const auto rest = s.substr(i);
    if (rest.starts_with("\xC2\x85")) {
      // Not "\\N": yaml-cpp 0.7 decodes it as a lone 0x85 byte instead of U+0085.
      out += "\\u0085";
      i += 1;
    } else if (rest.starts_with("\xE2\x80\xA8")) {
      out += "\\u2028";
      i += 2;
    } else if (rest.starts_with("\xE2\x80\xA9")) {
      out += "\\u2029";
      i += 2;
    } else if (rest.starts_with("\xEF\xBB\xBF")) {
      out += "\\uFEFF";
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

std::string SingleQuoted(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    out += c;
    if (c == '\'') {
      out += '\'';
    }
  }
  out += '\'';
  return out;
}

// A literal block keeps a multi-line string readable (PromQL, templates). It is used only where
// it round-trips without an indentation indicator: the first line must not start with a space and
// no line may be made of spaces alone (those blur with indentation and chomping).
bool FitsLiteralBlock(std::string_view s) {
  if (s.find('\n') == std::string_view::npos || HasControl(s, true)) {
    return false;
  }
  if (s.find_first_not_of('\n') == std::string_view::npos) {
    return false;
  }
  const auto first = s[s.find_first_not_of('\n')];
  if (first == ' ' || first == '\t') {
    return false;
  }
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find('\n', start);
    if (end == std::string_view::npos) {
      end = s.size();
    }
    const auto line = s.substr(start, end - start);
    if (!line.empty() && line.find_first_not_of(" \t") == std::string_view::npos) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

void AppendLiteralBlock(std::string& out, std::string_view s, int indent) {
  std::size_t trailing = 0;
  while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') {
    ++trailing;
  }
  out += trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
  out += '\n';
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  const auto body = s.substr(0, s.size() - trailing);
  std::size_t start = 0;
  while (start <= body.size()) {
    auto end = body.find('\n', start);
    if (end == std::string_view::npos) {
      end = body.size();
    }
    const auto line = body.substr(start, end - start);
    if (!line.empty()) {
      out += pad;
      out += line;
    }
    out += '\n';
    start = end + 1;
  }
  for (std::size_t i = 1; i < trailing; ++i) {
    out += '\n';
  }
}

// A scalar on one line (keys and single-line strings).
std::string InlineString(const std::string& s) {
  if (IsPlainYamlSafe(s)) {
    return s;
  }
  if (!HasControl(s, false)) {
    return SingleQuoted(s);
  }
  return DoubleQuoted(s);
}

template <class Json>
std::string Scalar(const Json& v) {
  if (v.is_null()) {
    return "null";
  }
  if (v.is_boolean()) {
    return v.template get<bool>() ? "true" : "false";
  }
  return v.dump();
}

template <class Json>
class YamlWriter {
 public:
  std::string Take() { return std::move(out_); }

  // Writes `v` as the value of a key or list item; `indent` is the column of the owning
  // key/dash. Leaves the cursor after a newline.
  void Value(const Json& v, int indent) {
    if (v.is_object() && !v.empty()) {
      out_ += '\n';
      Mapping(v, indent + 2);
    } else if (v.is_array() && !v.empty()) {
      out_ += '\n';
      Sequence(v, indent + 2);
    } else {
      out_ += ' ';
      Leaf(v, indent + 2);
    }
  }

  void Document(const Json& v) {
    if (v.is_object() && !v.empty()) {
      Mapping(v, 0);
    } else if (v.is_array() && !v.empty()) {
      Sequence(v, 0);
    } else {
      Leaf(v, 2);
    }
  }

 private:
  void Pad(int n) { out_.append(static_cast<std::size_t>(n), ' '); }

  void Leaf(const Json& v, int block_indent) {
    if (v.is_object()) {
      out_ += "{}\n";
    } else if (v.is_array()) {
      out_ += "[]\n";
    } else if (v.is_string()) {
      const auto& s = v.template get_ref<const std::string&>();
      if (FitsLiteralBlock(s)) {
        AppendLiteralBlock(out_, s, block_indent);
      } else {
        out_ += InlineString(s);
        out_ += '\n';
      }
    } else {
      out_ += Scalar(v);
      out_ += '\n';
    }
  }

  void Mapping(const Json& v, int indent) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      Pad(indent);
      out_ += InlineString(it.key());
      out_ += ':';
      Value(it.value(), indent);
    }
  }

  void Sequence(const Json& v, int indent) {
    for (const auto& item : v) {
      Pad(indent);
      out_ += '-';
      if (item.is_object() && !item.empty()) {
        // The first key shares the dash's line; the rest align under it.
        out_ += ' ';
        bool first = true;
        for (auto it = item.begin(); it != item.end(); ++it) {
          if (!first) {
            Pad(indent + 2);
          }
          first = false;
          out_ += InlineString(it.key());
          out_ += ':';
          Value(it.value(), indent + 2);
        }
      } else if (item.is_array() && !item.empty()) {
        out_ += '\n';
        Sequence(item, indent + 2);
      } else {
        out_ += ' ';
        Leaf(item, indent + 2);
      }
    }
  }

  std::string out_;
};

template <class Json>
std::string IniValue(const Json& v, const std::string& key) {
  std::string text;
  if (v.is_null()) {
    return text;
  }
  if (v.is_string()) {
    text = v.template get<std::string>();
  } else if (v.is_array()) {
    for (const auto& item : v) {
      if (item.is_structured()) {
        throw std::invalid_argument("ini: \"" + key + "\" holds a nested list or object");
      }
      if (!text.empty()) {
        text += ',';
      }
      text += item.is_string() ? item.template get<std::string>() : Scalar(item);
    }
  } else if (v.is_object()) {
    throw std::invalid_argument("ini: \"" + key + "\" holds an object inside a section");
  } else {
    text = Scalar(v);
  }
  if (text.find_first_of("\r\n") != std::string::npos) {
    throw std::invalid_argument("ini: \"" + key + "\" holds a newline");
  }
  return text;
}

template <class Json>
std::string Ini(const Json& value) {
  if (!value.is_object()) {
    throw std::invalid_argument("ini: the content must be an object of sections");
  }
  std::string out;
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (!it.value().is_object()) {
      out += it.key() + " = " + IniValue(it.value(), it.key()) + "\n";
    }
  }
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (!it.value().is_object()) {
      continue;
    }
    if (!out.empty()) {
      out += '\n';
    }
    out += "[" + it.key() + "]\n";
    for (auto kv = it.value().begin(); kv != it.value().end(); ++kv) {
      out += kv.key() + " = " + IniValue(kv.value(), it.key() + "." + kv.key()) + "\n";
    }
  }
  return out;
}

template <class Json>
std::string Yaml(const Json& value) {
  YamlWriter<Json> writer;
  writer.Document(value);
  return writer.Take();
}

}  // namespace

bool IsPlainYamlSafe(const std::string& s) {
  if (s.empty() || IsReservedWord(s) || LooksNumeric(s) || HasControl(s, false)) {
    return false;
  }
  if (IsIndicator(s.front()) || s.front() == ' ' || s.back() == ' ' || s.front() == '\t' ||
      s.back() == '\t' || s.back() == ':') {
    return false;
  }
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos ||
      s.find(":\t") != std::string::npos || s.find("\t#") != std::string::npos) {
    return false;
  }
  // A document marker at the start of a line would end or split the document.
  if (s.starts_with("...") || s.starts_with("---")) {
    return false;
  }
  return true;
}

std::string EmitYaml(const nlohmann::ordered_json& value) {
  return Yaml(value);
}
std::string EmitYaml(const nlohmann::json& value) {
  return Yaml(value);
}

std::string EmitJson(const nlohmann::ordered_json& value) {
  return value.dump(2) + "\n";
}
std::string EmitJson(const nlohmann::json& value) {
  return value.dump(2) + "\n";
}

std::string EmitIni(const nlohmann::ordered_json& value) {
  return Ini(value);
}
std::string EmitIni(const nlohmann::json& value) {
  return Ini(value);
}

}  // namespace obsforge::render
