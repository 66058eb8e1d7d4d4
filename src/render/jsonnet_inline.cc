#include "render/jsonnet_inline.h"

namespace obsforge::render {
namespace {

bool IsIdStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsIdChar(char c) {
  return IsIdStart(c) || (c >= '0' && c <= '9');
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// A cursor over Jsonnet source that knows how to step over the tokens that can hide the word
// `import`: comments, strings of every kind and text blocks. Every Skip* returns false on
// unterminated input, which makes the whole scan give up (the file is then left to libjsonnet).
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ >= text_.size(); }
  std::size_t pos() const { return pos_; }
  char Peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool StartsWith(std::string_view s) const { return text_.substr(pos_).starts_with(s); }

  // Skips one comment at the cursor; false when there is none or it never ends.
  bool SkipComment(bool* ok) {
    *ok = true;
    if (Peek() == '#' || StartsWith("//")) {
      const auto nl = text_.find('\n', pos_);
      pos_ = nl == std::string_view::npos ? text_.size() : nl + 1;
      return true;
    }
    if (StartsWith("/*")) {
      const auto close = text_.find("*/", pos_ + 2);
      if (close == std::string_view::npos) {
        *ok = false;
        return true;
      }
      pos_ = close + 2;
      return true;
    }
    return false;
  }

  // Skips whitespace and comments.
  bool SkipTrivia() {
    while (!AtEnd()) {
      if (IsSpace(Peek())) {
        ++pos_;
        continue;
      }
      bool ok = true;
      if (SkipComment(&ok)) {
        if (!ok) {
          return false;
        }
        continue;
      }
      break;
    }
    return true;
  }

  // Reads a quoted or verbatim string at the cursor into `out` (unescaped); nullopt-like false
  // when it is unterminated or uses an escape an import path would not need.
  bool ReadString(std::string* out) {
    unusual_escape_ = false;
    const bool verbatim = Peek() == '@';
    if (verbatim) {
      ++pos_;
    }
    const char quote = Peek();
    if (quote != '"' && quote != '\'') {
      return false;
    }
    ++pos_;
    while (!AtEnd()) {
      const char c = text_[pos_++];
      if (c == quote) {
        if (verbatim && Peek() == quote) {
          out->push_back(quote);
          ++pos_;
          continue;
        }
        return true;
      }
      if (c == '\\' && !verbatim) {
        if (AtEnd()) {
          return false;
        }
        const char e = text_[pos_++];
        if (e != '\\' && e != '"' && e != '\'' && e != '/') {
          unusual_escape_ = true;
        }
        out->push_back(e);
        continue;
      }
      out->push_back(c);
    }
    return false;
  }

  // Skips a text block whose opening `|||` is at the cursor.
  bool SkipTextBlock() {
    pos_ += 3;
    if (Peek() == '-') {
      ++pos_;
    }
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\r')) {
      ++pos_;
    }
    if (Peek() != '\n') {
      return false;
    }
    ++pos_;
    // Blank lines before the first content line belong to the block.
    while (Peek() == '\n') {
      ++pos_;
    }
    std::size_t indent_end = pos_;
    while (indent_end < text_.size() && (text_[indent_end] == ' ' || text_[indent_end] == '\t')) {
      ++indent_end;
    }
    const std::string_view indent = text_.substr(pos_, indent_end - pos_);
    if (indent.empty()) {
      return false;
    }
    while (!AtEnd()) {
      if (Peek() == '\n') {
        ++pos_;
        continue;
      }
      if (StartsWith(indent)) {
        const auto nl = text_.find('\n', pos_);
        if (nl == std::string_view::npos) {
          return false;
        }
        pos_ = nl + 1;
        continue;
      }
      while (Peek() == ' ' || Peek() == '\t') {
        ++pos_;
      }
      if (!StartsWith("|||")) {
        return false;
      }
      pos_ += 3;
      return true;
    }
    return false;
  }

  std::string_view ReadIdentifier() {
    const std::size_t start = pos_;
    while (!AtEnd() && IsIdChar(Peek())) {
      ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }

  void Advance() { ++pos_; }
  bool unusual_escape() const { return unusual_escape_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  bool unusual_escape_ = false;
};

}  // namespace

std::optional<std::vector<ImportSite>> FindImports(std::string_view text) {
  std::vector<ImportSite> sites;
  Scanner s(text);
  while (!s.AtEnd()) {
    const char c = s.Peek();
    bool ok = true;
    if (s.SkipComment(&ok)) {
      if (!ok) {
        return std::nullopt;
      }
      continue;
    }
    if (c == '"' || c == '\'' || (c == '@' && (s.Peek(1) == '"' || s.Peek(1) == '\''))) {
      std::string ignored;
      if (!s.ReadString(&ignored)) {
        return std::nullopt;
      }
      continue;
    }
    if (s.StartsWith("|||")) {
      if (!s.SkipTextBlock()) {
        return std::nullopt;
      }
      continue;
    }
    if (c >= '0' && c <= '9') {
      // A number: its digits and exponent letters must not be read as an identifier.
      while (!s.AtEnd() && (IsIdChar(s.Peek()) || s.Peek() == '.')) {
        const char d = s.Peek();
        s.Advance();
        if ((d == 'e' || d == 'E') && (s.Peek() == '+' || s.Peek() == '-')) {
          s.Advance();
        }
      }
      continue;
    }
    if (!IsIdStart(c)) {
      s.Advance();
      continue;
    }
    const std::size_t begin = s.pos();
    const auto word = s.ReadIdentifier();
    // `std.thisFile` names the file being evaluated: inlined, it would name the generated one.
    if (word == "importbin" || word == "thisFile") {
      return std::nullopt;
    }
    if (word != "import" && word != "importstr") {
      continue;
    }
    if (!s.SkipTrivia()) {
      return std::nullopt;
    }
    ImportSite site{.begin = begin, .is_string = word == "importstr"};
    if (!s.ReadString(&site.path) || s.unusual_escape()) {
      return std::nullopt;
    }
    site.end = s.pos();
    sites.push_back(std::move(site));
  }
  return sites;
}

std::string ImportBase(std::string_view virtual_name) {
  const auto slash = virtual_name.rfind('/');
  return slash == std::string_view::npos ? std::string()
                                         : std::string(virtual_name.substr(0, slash + 1));
}

}  // namespace obsforge::render
