#include "core/diagnostic.h"
#include "spec/document.h"

namespace obsforge::spec {
namespace {

using core::Diagnostic;
using core::InputError;

// nlohmann_json gives values but no positions; this walks the (already valid) text once more and
// records where each value and key starts, and finds duplicate keys nlohmann would silently drop.
class PositionScanner {
 public:
  PositionScanner(std::string_view text, std::string file, SourceMap& positions)
      : text_(text), file_(std::move(file)), positions_(positions) {}

  void Scan() {
    SkipSpace();
    Value("");
  }

 private:
  void Value(const std::string& path) {
    SkipSpace();
    positions_.values[path] = PositionOfOffset(text_, pos_);
    if (pos_ >= text_.size()) {
      return;
    }
    switch (text_[pos_]) {
      case '{':
        Object(path);
        break;
      case '[':
        Array(path);
        break;
      case '"':
        String();
        break;
      default:
        while (pos_ < text_.size() &&
               std::string_view(",]} \t\r\n").find(text_[pos_]) == std::string_view::npos) {
          ++pos_;
        }
    }
  }

  void Object(const std::string& path) {
    ++pos_;  // '{'
    std::map<std::string, Position> seen;
    SkipSpace();
    while (pos_ < text_.size() && text_[pos_] != '}') {
      const auto key_pos = PositionOfOffset(text_, pos_);
      const auto key = String();
      const auto child = ChildPath(path, key);
      if (auto it = seen.find(key); it != seen.end()) {
        throw InputError(
            InputError::Kind::kInvalidSpec,
            Diagnostic{.file = file_,
                       .line = key_pos.line,
                       .column = key_pos.column,
                       .path = child,
                       .message = "duplicate key \"" + key + "\" (first defined at line " +
                                  std::to_string(it->second.line) + ")"});
      }
      seen[key] = key_pos;
      positions_.keys[child] = key_pos;
      SkipSpace();
      ++pos_;  // ':'
      Value(child);
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        SkipSpace();
      }
    }
    ++pos_;  // '}'
  }

  void Array(const std::string& path) {
    ++pos_;  // '['
    SkipSpace();
    std::size_t index = 0;
    while (pos_ < text_.size() && text_[pos_] != ']') {
      Value(IndexPath(path, index++));
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        SkipSpace();
      }
    }
    ++pos_;  // ']'
  }

  // Returns the decoded string only as far as keys need it: escapes other than \" and \\ are
  // kept verbatim, which is enough to name keys in paths and detect duplicates.
  std::string String() {
    std::string out;
    ++pos_;  // '"'
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
        const char next = text_[pos_ + 1];
        if (next == '"' || next == '\\' || next == '/') {
          out += next;
        } else {
          out += text_.substr(pos_, 2);
        }
        pos_ += 2;
        continue;
      }
      out += text_[pos_++];
    }
    ++pos_;  // '"'
    return out;
  }

  void SkipSpace() {
    while (pos_ < text_.size() &&
           std::string_view(" \t\r\n").find(text_[pos_]) != std::string_view::npos) {
      ++pos_;
    }
  }

  std::string_view text_;
  std::string file_;
  SourceMap& positions_;
  std::size_t pos_ = 0;
};

}  // namespace

ParsedDocument ParseJsonDocument(std::string_view text, const std::string& file) {
  ParsedDocument parsed;
  try {
    parsed.document = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based: the offending character is at e.byte - 1.
    const auto pos = PositionOfOffset(text, e.byte == 0 ? 0 : e.byte - 1);
    std::string message = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..." ->
    // keep the part after the location, which the diagnostic already carries.
    if (const auto colon = message.find(": "); colon != std::string::npos) {
      message = message.substr(colon + 2);
    }
    throw InputError(InputError::Kind::kInvalidSpec,
                     Diagnostic{.file = file,
                                .line = pos.line,
                                .column = pos.column,
                                .message = "invalid JSON: " + message});
  }
  PositionScanner(text, file, parsed.positions).Scan();
  return parsed;
}

}  // namespace obsforge::spec
