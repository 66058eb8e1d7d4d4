#include <cmath>
#include <type_traits>
#include <unordered_map>

#include "core/diagnostic.h"
#include "core/hash.h"
#include "spec/document.h"
#include "spec/reader_limits.h"

namespace obsforge::spec {
namespace {

using core::Diagnostic;
using core::InputError;
using detail::LimitCounter;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0U | (cp >> 6U));
    out += static_cast<char>(0x80U | (cp & 0x3FU));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0U | (cp >> 12U));
    out += static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
    out += static_cast<char>(0x80U | (cp & 0x3FU));
  } else {
    out += static_cast<char>(0xF0U | (cp >> 18U));
    out += static_cast<char>(0x80U | ((cp >> 12U) & 0x3FU));
    out += static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU));
    out += static_cast<char>(0x80U | (cp & 0x3FU));
  }
}

// One linear pass before nlohmann_json builds anything: it checks the limits (nlohmann would
// happily build a tree of millions of nodes, and its dump() recurses), finds duplicate keys
// nlohmann would silently drop, refuses numbers beyond a double, and records where each value
// and key starts. Recursion is bounded by max_depth. On anything that is not JSON it stops and
// returns false: nlohmann then reports the syntax error with its position.
class Scanner {
 public:
  Scanner(std::string_view text, LimitCounter& counter, SourceMap* positions)
      : text_(text), lines_(text), counter_(counter), positions_(positions) {}

  /// True when the text is one value and nothing else (a UTF-8 byte order mark aside, which
  /// nlohmann skips too), within the limits.
  bool Scan() {
    if (text_.starts_with("\xEF\xBB\xBF")) {
      pos_ = 3;
    }
    if (!Value("", 0)) {
      return false;
    }
    SkipSpace();
    return pos_ == text_.size();
  }

  std::size_t offset() const { return pos_; }

 private:
  bool Value(const std::string& path, int depth) {
    SkipSpace();
    if (pos_ >= text_.size()) {
      return false;
    }
    const Position where = lines_.At(pos_);
    if (positions_ != nullptr) {
      positions_->values.try_emplace(path, where);
    }
    // Paths are counted even when not kept: building them is what a deep, wide text costs.
    counter_.Add(1, path.size(), where, path);
    switch (text_[pos_]) {
      case '{':
        return Object(path, depth + 1, where);
      case '[':
        return Array(path, depth + 1, where);
      case '"': {
        std::size_t length = 0;
        if (!ReadString(nullptr, &length)) {
          return false;
        }
        counter_.String(length, where, path);
        counter_.Add(0, length, where, path);
        return true;
      }
      default:
        return Literal(path, where);
    }
  }

  bool Object(const std::string& path, int depth, Position where) {
    counter_.Open(depth, where, path);
    ++pos_;  // '{'
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    std::unordered_map<std::string, int> seen;
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        return false;
      }
      const Position key_position = lines_.At(pos_);
      std::string key;
      std::size_t length = 0;
      if (!ReadString(&key, &length)) {
        return false;
      }
      const std::string child = counter_.MapKey(path, key, key_position, seen, positions_);
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') {
        return false;
      }
      ++pos_;
      if (!Value(child, depth)) {
        return false;
      }
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return false;
    }
  }

  bool Array(const std::string& path, int depth, Position where) {
    counter_.Open(depth, where, path);
    ++pos_;  // '['
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (std::size_t index = 0;; ++index) {
      if (!Value(IndexPath(path, index), depth)) {
        return false;
      }
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return false;
    }
  }

  // true, false, null or a number; only numbers need a look (nlohmann refuses 1e999 with an
  // exception that carries no position).
  bool Literal(const std::string& path, Position where) {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && !IsSpace(text_[pos_]) && text_[pos_] != ',' &&
           text_[pos_] != ']' && text_[pos_] != '}' && text_[pos_] != ':') {
      ++pos_;
    }
    const std::string_view token = text_.substr(start, pos_ - start);
    if (token.empty()) {
      return false;
    }
    if (detail::IsFloatSyntax(token) && !std::isfinite(detail::FloatValue(token))) {
      counter_.Fail(where, path, detail::NotFiniteMessage(token));
    }
    return true;
  }

  // Reads a string literal at pos_, decoding it into `out` when given; `length` is its decoded
  // size. False when it is not valid JSON.
  bool ReadString(std::string* out, std::size_t* length) {
    ++pos_;  // '"'
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        return false;
      }
      if (c != '\\') {
        if (out != nullptr) {
          out->push_back(c);
        }
        ++*length;
        ++pos_;
        continue;
      }
      const auto decoded = ReadEscape();
      if (!decoded) {
        return false;
      }
      if (out != nullptr) {
        *out += *decoded;
      }
      *length += decoded->size();
    }
    return false;
  }

  // Decodes the escape sequence at pos_ (a backslash); nullopt when it is not valid JSON.
  std::optional<std::string> ReadEscape() {
    if (pos_ + 1 >= text_.size()) {
      return std::nullopt;
    }
    const char escape = text_[pos_ + 1];
    pos_ += 2;
    switch (escape) {
      case '"':
      case '\\':
      case '/':
        return std::string(1, escape);
      case 'b':
        return "\b";
      case 'f':
        return "\f";
      case 'n':
        return "\n";
      case 'r':
        return "\r";
      case 't':
        return "\t";
      case 'u': {
        const auto cp = ReadCodePoint();
        if (!cp) {
          return std::nullopt;
        }
        std::string decoded;
        AppendUtf8(decoded, *cp);
        return decoded;
      }
      default:
        return std::nullopt;
    }
  }

  // The code point of a \u escape whose "\u" is behind pos_, joining a surrogate pair; nullopt
  // for bad hex digits or a lone surrogate.
  std::optional<std::uint32_t> ReadCodePoint() {
    auto cp = ReadHex4();
    if (!cp) {
      return std::nullopt;
    }
    if (*cp >= 0xDC00 && *cp <= 0xDFFF) {
      return std::nullopt;
    }
    if (*cp < 0xD800 || *cp > 0xDBFF) {
      return cp;
    }
    if (pos_ + 1 >= text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') {
      return std::nullopt;
    }
    pos_ += 2;
    const auto low = ReadHex4();
    if (!low || *low < 0xDC00 || *low > 0xDFFF) {
      return std::nullopt;
    }
    return 0x10000 + ((*cp - 0xD800) << 10U) + (*low - 0xDC00);
  }

  std::optional<std::uint32_t> ReadHex4() {
    if (pos_ + 4 > text_.size()) {
      return std::nullopt;
    }
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      const int digit = core::HexDigit(text_[pos_ + static_cast<std::size_t>(i)]);
      if (digit < 0) {
        return std::nullopt;
      }
      value = value * 16 + static_cast<std::uint32_t>(digit);
    }
    pos_ += 4;
    return value;
  }

  void SkipSpace() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) {
      ++pos_;
    }
  }

  std::string_view text_;
  LineIndex lines_;
  LimitCounter& counter_;
  SourceMap* positions_;
  std::size_t pos_ = 0;
};

// nlohmann_json's SAX events into a tree: the DOM parser of nlohmann would do the same, but
// ordered_json's objects look every key up linearly, which is quadratic in a large map; the
// scanner already refused duplicate keys, so keys are appended. Without `build` it only
// collects the syntax error.
template <class Json>
class TreeBuilder {
 public:
  explicit TreeBuilder(bool build) : build_(build) {}

  using string_t = typename Json::string_t;
  using object_t = typename Json::object_t;
  using array_t = typename Json::array_t;

  bool null() { return Put(Json(nullptr)); }
  bool boolean(bool value) { return Put(Json(value)); }
  bool number_integer(typename Json::number_integer_t value) { return Put(Json(value)); }
  bool number_unsigned(typename Json::number_unsigned_t value) { return Put(Json(value)); }
  bool number_float(typename Json::number_float_t value, const string_t& /*text*/) {
    return Put(Json(value));
  }
  bool string(string_t& value) { return Put(Json(std::move(value))); }
  bool binary(typename Json::binary_t& /*value*/) { return false; }
  bool start_object(std::size_t /*elements*/) { return Open(Json::object()); }
  bool key(string_t& value) {
    key_ = std::move(value);
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(std::size_t /*elements*/) { return Open(Json::array()); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t position,
                   const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) {
    error_position_ = position;
    error_ = error.what();
    return false;
  }

  Json& root() { return root_; }
  std::size_t error_position() const { return error_position_; }
  const std::string& error() const { return error_; }

 private:
  bool Open(Json value) {
    Put(std::move(value));
    open_.push_back(last_);
    return true;
  }

  bool Close() {
    open_.pop_back();
    return true;
  }

  // Pointers into the tree stay valid: a container only grows while it is the innermost open
  // one, so nothing is added beside an open container until it is closed.
  bool Put(Json value) {
    if (!build_) {
      return true;
    }
    if (open_.empty()) {
      root_ = std::move(value);
      last_ = &root_;
      return true;
    }
    Json& parent = *open_.back();
    if (parent.is_array()) {
      auto& array = parent.template get_ref<array_t&>();
      array.push_back(std::move(value));
      last_ = &array.back();
      return true;
    }
    auto& object = parent.template get_ref<object_t&>();
    if constexpr (std::is_same_v<Json, nlohmann::ordered_json>) {
      object.emplace_back(std::move(key_), std::move(value));
      last_ = &object.back().second;
    } else {
      last_ = &object.insert_or_assign(std::move(key_), std::move(value)).first->second;
    }
    return true;
  }

  bool build_;
  Json root_;
  Json* last_ = nullptr;
  std::vector<Json*> open_;
  string_t key_;
  std::size_t error_position_ = 0;
  std::string error_;
};

template <class Json>
Json ParseJson(std::string_view text,
               const std::string& file,
               const DocumentLimits& limits,
               SourceMap* positions) {
  detail::CheckUtf8(text, file);
  // nlohmann's lexer takes a NUL byte for the end of the text, so "1.5\0garbage" would pass as
  // 1.5; JSON has no place for a raw NUL, wherever it is.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    const auto pos = PositionOfOffset(text, nul);
    throw InputError(InputError::Kind::kInvalidSpec,
                     Diagnostic{.file = file,
                                .line = pos.line,
                                .column = pos.column,
                                .message = "invalid JSON: a NUL byte"});
  }
  LimitCounter counter(limits, file);
  Scanner scanner(text, counter, positions);
  // Nothing is built from text the scanner did not check to the end: when it stops early,
  // nlohmann only looks for the syntax error to report.
  const bool checked = scanner.Scan();
  TreeBuilder<Json> builder(checked);
  const bool parsed = Json::sax_parse(text.begin(), text.end(), &builder);
  if (parsed && !checked) {
    // Cannot happen while the scanner accepts all JSON; refused rather than trusted.
    const auto pos = PositionOfOffset(text, scanner.offset());
    throw InputError(InputError::Kind::kInvalidSpec,
                     Diagnostic{.file = file,
                                .line = pos.line,
                                .column = pos.column,
                                .message = "invalid JSON: unexpected text"});
  }
  if (!parsed) {
    // The position is 1-based: the offending character is at position - 1.
    const std::size_t at = builder.error_position() == 0 ? 0 : builder.error_position() - 1;
    const auto pos = PositionOfOffset(text, at);
    std::string message = builder.error();
    // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..." ->
    // keep the part after the location, which the diagnostic already carries.
    if (const auto colon = message.find(": "); colon != std::string::npos) {
      message = message.substr(colon + 2);
    } else if (const auto bracket = message.find("] "); bracket != std::string::npos) {
      message = message.substr(bracket + 2);
    }
    throw InputError(InputError::Kind::kInvalidSpec,
                     Diagnostic{.file = file,
                                .line = pos.line,
                                .column = pos.column,
                                .message = "invalid JSON: " + message});
  }
  return std::move(builder.root());
}

}  // namespace

ParsedDocument ParseJsonDocument(std::string_view text,
                                 const std::string& file,
                                 const DocumentLimits& limits) {
  ParsedDocument parsed;
  parsed.document = ParseJson<nlohmann::json>(text, file, limits, &parsed.positions);
  return parsed;
}

nlohmann::ordered_json ParseOrderedJson(std::string_view text,
                                        const std::string& file,
                                        const DocumentLimits& limits) {
  return ParseJson<nlohmann::ordered_json>(text, file, limits, nullptr);
}

}  // namespace obsforge::spec
