#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <istream>
#include <limits>
#include <set>
#include <streambuf>
#include <type_traits>
#include <unordered_map>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "core/diagnostic.h"
#include "spec/document.h"
#include "spec/reader_limits.h"

namespace obsforge::spec {
namespace {

using core::Diagnostic;
using core::InputError;
using detail::LimitCounter;
using nlohmann::json;

constexpr std::string_view kCoreTagPrefix = "tag:yaml.org,2002:";

bool IsIdentifier(std::string_view key) {
  if (key.empty()) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// An integer too large for 64 bits: a (lossy) double, or infinity, which the reader refuses.
json BeyondInt64(std::string_view text, std::string_view digits, int base) {
  if (base == 10) {
    return json(detail::FloatValue(text));
  }
  double value = 0;
  for (const char c : digits) {
    const int digit =
        detail::IsDigit(c) ? c - '0' : (std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
    value = value * base + digit;
  }
  return json(value);
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
    return BeyondInt64(text, digits, base);
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

// A read-only std::streambuf over the text: yaml-cpp reads a stream, and copying a body of
// several MB into a std::istringstream first would double its cost.
class ViewBuffer final : public std::streambuf {
 public:
  explicit ViewBuffer(std::string_view text) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): setg needs char*; never written.
    char* begin = const_cast<char*>(text.data());
    setg(begin, begin, begin + text.size());
  }
};

Position ToPosition(const YAML::Mark& mark) {
  if (mark.is_null()) {
    return {};
  }
  return {mark.line + 1, mark.column + 1};
}

// Builds the document from yaml-cpp's parse events rather than from YAML::Load: Load builds a
// node graph of its own (hundreds of bytes per node) before anything could be counted, and
// its aliases share nodes that a conversion would expand without bound. Here every value is
// counted as it arrives, an alias as the whole tree it repeats, and the limits stop the parse
// at the node that breaks them.
template <class Json>
class Builder final : public YAML::EventHandler {
 public:
  Builder(LimitCounter& counter, SourceMap* positions) : counter_(counter), positions_(positions) {}

  /// The first document (null when there was none).
  Json TakeDocument() { return std::move(document_); }
  int documents() const { return documents_; }
  /// Where the second document starts, if there is one.
  Position second_document() const { return second_document_; }

  void OnDocumentStart(const YAML::Mark& /*mark*/) override { ++documents_; }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Slot slot = Enter(mark);
    // An empty value (`key:`) has no token of its own: yaml-cpp marks the next token, which may
    // be lines away. The key is the better place to point at.
    if (slot.in_map && !mark.is_null() && mark.line + 1 != slot.key_position.line) {
      slot.position = slot.key_position;
    }
    Record(slot);
    counter_.Add(1, 0, slot.position, slot.path);
    Complete(Json(nullptr), slot, 0, anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Slot slot = Enter(mark);
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      counter_.Fail(slot.position, slot.path, "alias of a node that contains it");
    }
    const Anchored& anchored = it->second;
    counter_.Open(static_cast<int>(stack_.size()) + anchored.levels, slot.position, slot.path);
    Record(slot);
    counter_.Add(anchored.nodes, anchored.bytes, slot.position, slot.path);
    Complete(Json(anchored.value), slot, anchored.levels, 0);
  }

  void OnScalar(const YAML::Mark& mark,
                const std::string& tag,
                YAML::anchor_t anchor,
                const std::string& value) override {
    if (!stack_.empty() && stack_.back().is_map && !stack_.back().has_key) {
      Key(mark, value);
      return;
    }
    Slot slot = Enter(mark);
    Record(slot);
    counter_.Add(1, value.size(), slot.position, slot.path);
    Complete(Scalar(value, tag, slot), slot, 0, anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark,
                       const std::string& tag,
                       YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    Open(mark, tag, anchor, false);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark,
                  const std::string& tag,
                  YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    Open(mark, tag, anchor, true);
  }
  void OnMapEnd() override { Close(); }

 private:
  // Where a value goes: its path and position, and for a map entry its key.
  struct Slot {
    std::string path;
    Position position;
    bool in_map = false;
    std::string key;
    Position key_position;
  };

  // A map or list being built.
  struct Frame {
    Json value;
    Slot slot;
    YAML::anchor_t anchor = 0;
    bool is_map = false;
    bool has_key = false;  // a map's key was read; its value comes next
    std::string key;
    Position key_position;
    std::unordered_map<std::string, int> key_lines;  // duplicate detection, line of each key
    std::size_t size = 0;
    int levels = 1;  // maps and lists in this subtree along its deepest branch
    std::size_t nodes_before = 0;
    std::size_t bytes_before = 0;
  };

  // An anchored node, kept for the aliases that repeat it.
  struct Anchored {
    Json value;
    std::size_t nodes = 0;
    std::size_t bytes = 0;
    int levels = 0;
  };

  Slot Enter(const YAML::Mark& mark) {
    Slot slot;
    slot.position = ToPosition(mark);
    if (stack_.empty()) {
      if (documents_ == 2 && second_document_.line == 0) {
        second_document_ = slot.position;
      }
      return slot;
    }
    Frame& parent = stack_.back();
    if (parent.is_map) {
      if (!parent.has_key) {
        counter_.Fail(slot.position, parent.slot.path, "map keys must be strings");
      }
      slot.in_map = true;
      slot.key = std::move(parent.key);
      slot.key_position = parent.key_position;
      slot.path = ChildPath(parent.slot.path, slot.key);
    } else {
      slot.path = IndexPath(parent.slot.path, parent.size);
    }
    return slot;
  }

  void Record(const Slot& slot) {
    if (positions_ != nullptr) {
      positions_->values.try_emplace(slot.path, slot.position);
    }
    // Paths are counted even when not kept: building them is what a deep, wide text costs.
    counter_.Add(0, slot.path.size(), slot.position, slot.path);
  }

  void Key(const YAML::Mark& mark, const std::string& name) {
    Frame& map = stack_.back();
    const Position where = ToPosition(mark);
    const std::string child =
        counter_.MapKey(map.slot.path, name, where, map.key_lines, positions_);
    CheckUtf8(name, where, child);
    map.has_key = true;
    map.key = name;
    map.key_position = where;
  }

  void Open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, bool is_map) {
    Slot slot = Enter(mark);
    counter_.Open(static_cast<int>(stack_.size()) + 1, slot.position, slot.path);
    CheckCollectionTag(tag, slot, is_map ? "map" : "seq");
    Record(slot);
    Frame frame;
    frame.nodes_before = counter_.nodes();
    frame.bytes_before = counter_.bytes();
    counter_.Add(1, 0, slot.position, slot.path);
    frame.value = is_map ? Json::object() : Json::array();
    frame.slot = std::move(slot);
    frame.anchor = anchor;
    frame.is_map = is_map;
    stack_.push_back(std::move(frame));
  }

  void Close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    const std::size_t nodes = counter_.nodes() - frame.nodes_before;
    const std::size_t bytes = counter_.bytes() - frame.bytes_before;
    if (frame.anchor != 0) {
      anchors_[frame.anchor] =
          Anchored{.value = frame.value, .nodes = nodes, .bytes = bytes, .levels = frame.levels};
      // The copy costs as much again.
      counter_.Add(0, bytes, frame.slot.position, frame.slot.path);
    }
    Place(std::move(frame.value), frame.slot, frame.levels);
  }

  void Complete(Json value, const Slot& slot, int levels, YAML::anchor_t anchor) {
    if (anchor != 0) {
      anchors_[anchor] = Anchored{.value = value, .nodes = 1, .bytes = 0, .levels = 0};
      if (value.is_string()) {
        anchors_[anchor].bytes = value.template get_ref<const std::string&>().size();
      }
    }
    Place(std::move(value), slot, levels);
  }

  // Puts a finished value into its parent (or makes it the document).
  void Place(Json value, const Slot& slot, int levels) {
    if (stack_.empty()) {
      if (documents_ == 1) {
        document_ = std::move(value);
      }
      return;
    }
    Frame& parent = stack_.back();
    parent.levels = std::max(parent.levels, levels + 1);
    ++parent.size;
    if (!parent.is_map) {
      parent.value.push_back(std::move(value));
      return;
    }
    parent.has_key = false;
    if constexpr (std::is_same_v<Json, nlohmann::ordered_json>) {
      // ordered_map looks keys up linearly; key_lines already rules out duplicates.
      parent.value.template get_ref<typename Json::object_t&>().emplace_back(slot.key,
                                                                             std::move(value));
    } else {
      parent.value.template get_ref<typename Json::object_t&>().emplace(slot.key, std::move(value));
    }
  }

  Json Scalar(const std::string& text, const std::string& tag, const Slot& slot) {
    if (tag == "!" || tag == std::string(kCoreTagPrefix) + "str") {
      counter_.String(text.size(), slot.position, slot.path);
      CheckUtf8(text, slot.position, slot.path);
      return text;
    }
    if (tag == "?" || tag.empty()) {
      return Typed(TypePlainScalar(text), text, slot);
    }
    const auto want = tag.starts_with(kCoreTagPrefix) ? tag.substr(kCoreTagPrefix.size()) : "";
    if (want == "null" || want == "bool" || want == "int" || want == "float") {
      json value = TypePlainScalar(text);
      const bool fits =
          (want == "null" && value.is_null()) || (want == "bool" && value.is_boolean()) ||
          (want == "int" && value.is_number_integer()) || (want == "float" && value.is_number());
      if (!fits) {
        counter_.Fail(slot.position, slot.path,
                      "\"" + text.substr(0, 40) + "\" is not a valid !!" + want);
      }
      return Typed(want == "float" ? json(value.get<double>()) : value, text, slot);
    }
    counter_.Fail(slot.position, slot.path, "unsupported tag \"" + tag.substr(0, 100) + "\"");
  }

  Json Typed(const json& value, const std::string& text, const Slot& slot) {
    if (value.is_number_float() && !std::isfinite(value.get<double>())) {
      counter_.Fail(slot.position, slot.path, detail::NotFiniteMessage(text));
    }
    if (value.is_string()) {
      counter_.String(text.size(), slot.position, slot.path);
      CheckUtf8(text, slot.position, slot.path);
    }
    return Json(value);
  }

  void CheckCollectionTag(const std::string& tag, const Slot& slot, const std::string& kind) {
    if (tag.empty() || tag == "?" || tag == "!" || tag == std::string(kCoreTagPrefix) + kind) {
      return;
    }
    counter_.Fail(slot.position, slot.path, "unsupported tag \"" + tag.substr(0, 100) + "\"");
  }

  // The text was valid UTF-8, but escapes (`"\ud800"`) can still make a scalar that is not.
  void CheckUtf8(std::string_view text, Position where, const std::string& path) {
    if (FindInvalidUtf8(text)) {
      counter_.Fail(where, path, "invalid UTF-8 in a string (an escape of a lone surrogate?)");
    }
  }

  LimitCounter& counter_;
  SourceMap* positions_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Anchored> anchors_;
  Json document_;
  int documents_ = 0;
  Position second_document_;
};

// yaml-cpp's scanner holds every token of a flow collection that might be a key (one that starts
// a line or a document, follows `- `, `? ` or a property, or sits in another flow collection)
// until the collection closes, about 100 bytes a token, before any event reaches the Builder: a
// 16 MB `[1,1,...]` held 2 GB, and so did 16 MB of `[` or of `[{}{}...]`. This pass counts the
// tokens and the nesting of each flow collection first. It follows YAML only as far as needed to
// find flow collections: quoted scalars, comments and block scalars are skipped; a plain scalar
// may hold `[` and `,` except at its start. Linear; counting a little too much or too little only
// moves the limit a little.
class FlowCounter {
 public:
  FlowCounter(std::string_view text, const LimitCounter& counter)
      : text_(text), counter_(counter) {}

  void Check() {
    while (pos_ < text_.size()) {
      Line();
    }
  }

 private:
  static bool IsBlank(char c) { return c == ' ' || c == '\t'; }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsFlowIndicator(char c) {
    return c == '[' || c == ']' || c == '{' || c == '}' || c == ',';
  }

  void Line() {
    std::size_t indent = 0;
    while (pos_ < text_.size() && text_[pos_] == ' ') {
      ++indent;
      ++pos_;
    }
    const std::size_t end = std::min(text_.find('\n', pos_), text_.size());
    const bool blank = std::all_of(text_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                   text_.begin() + static_cast<std::ptrdiff_t>(end),
                                   [](char c) { return IsBlank(c) || c == '\r'; });
    if (block_indent_ >= 0 && (blank || static_cast<int>(indent) > block_indent_)) {
      pos_ = end + 1;  // inside a block scalar
      return;
    }
    block_indent_ = -1;
    token_start_ = true;
    while (pos_ < end) {
      Char(end, static_cast<int>(indent));
    }
    pos_ = end + 1;
  }

  // Whether the character after pos_ ends a token: a blank, the end of the line, or in a flow
  // collection a flow indicator.
  bool EndsBefore(std::size_t end) const {
    if (pos_ + 1 >= end) {
      return true;
    }
    const char next = text_[pos_ + 1];
    return IsBlank(next) || next == '\r' || (depth_ > 0 && IsFlowIndicator(next));
  }

  void Char(std::size_t end, int indent) {
    const char c = text_[pos_];
    if (quote_ != 0) {
      Quoted(end);
      return;
    }
    if (IsBlank(c) || c == '\r') {
      ++pos_;
      return;
    }
    if (c == '#' && (pos_ == 0 || IsBlank(text_[pos_ - 1]) || text_[pos_ - 1] == '\n')) {
      pos_ = end;  // a comment
      return;
    }
    const bool at_start = token_start_;
    token_start_ = false;
    if (at_start && (c == '"' || c == '\'')) {
      quote_ = c;
      Token();
    } else if (at_start && (c == '&' || c == '!' || c == '*')) {
      SkipProperty(end);
    } else if ((at_start || depth_ > 0) && (c == '[' || c == '{')) {
      OpenFlow();
    } else if (depth_ > 0 && (c == ']' || c == '}')) {
      Token();
      --depth_;
    } else if (StartsNode(c, end)) {
      Token();
      token_start_ = true;
    } else if (at_start && depth_ == 0 && (c == '|' || c == '>') && BlockHeaderEnds(end)) {
      block_indent_ = indent;
      pos_ = end;
      return;
    } else if (at_start) {
      Token();  // a plain scalar
    }
    ++pos_;
  }

  // An anchor, a tag or an alias, up to the next blank; what follows is a token of its own.
  void SkipProperty(std::size_t end) {
    Token();
    while (!EndsBefore(end)) {
      ++pos_;
    }
    token_start_ = true;
  }

  void OpenFlow() {
    if (depth_ == 0) {
      tokens_ = 0;
      flow_start_ = pos_;
    }
    if (++depth_ > counter_.limits().max_depth) {
      counter_.Open(depth_, PositionOfOffset(text_, pos_), "");
    }
    Token();
    token_start_ = true;
  }

  // "- ", "? ", ": " (and ':' next to a key in a flow) start a node, as ',' does in a flow.
  bool StartsNode(char c, std::size_t end) const {
    if (depth_ > 0 && (c == ',' || c == ':')) {
      return true;
    }
    return (c == '-' || c == '?' || c == ':') && EndsBefore(end);
  }

  void Quoted(std::size_t end) {
    const char c = text_[pos_];
    if (quote_ == '"' && c == '\\') {
      pos_ += 2;
      return;
    }
    if (c == quote_) {
      if (quote_ == '\'' && pos_ + 1 < end && text_[pos_ + 1] == '\'') {
        pos_ += 2;  // '' inside single quotes
        return;
      }
      quote_ = 0;
      token_start_ = true;  // what follows a quoted scalar is a token of its own
    }
    ++pos_;
  }

  // One more token of a flow collection. A flow of values has two tokens a value (the value and
  // its comma), so twice max_nodes lets through every flow collection the node limit allows;
  // yaml-cpp then holds at most ~60 MB besides the scalars' own text (measured).
  void Token() {
    if (depth_ == 0) {
      return;
    }
    const std::size_t limit = 2 * counter_.limits().max_nodes;
    if (++tokens_ > limit) {
      counter_.Fail(PositionOfOffset(text_, flow_start_), "",
                    "document is too large: a flow collection of more than " +
                        std::to_string(limit) + " tokens, two for each value (limit max_nodes)");
    }
  }

  // Whether the rest of the line after a `|` or `>` at pos_ is a block scalar header: indicators,
  // then nothing or a comment.
  bool BlockHeaderEnds(std::size_t end) const {
    std::size_t i = pos_ + 1;
    while (i < end && (text_[i] == '+' || text_[i] == '-' || IsDigit(text_[i]))) {
      ++i;
    }
    while (i < end && IsBlank(text_[i])) {
      ++i;
    }
    return i == end || text_[i] == '#' || text_[i] == '\r';
  }

  std::string_view text_;
  const LimitCounter& counter_;
  std::size_t pos_ = 0;
  char quote_ = 0;
  bool token_start_ = true;
  int depth_ = 0;
  std::size_t tokens_ = 0;
  std::size_t flow_start_ = 0;
  int block_indent_ = -1;
};

bool LooksLikeJson(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

template <class Json>
Json ParseYaml(std::string_view text,
               const std::string& file,
               const DocumentLimits& limits,
               SourceMap* positions) {
  detail::CheckUtf8(text, file);
  LimitCounter counter(limits, file);
  FlowCounter(text, counter).Check();
  Builder<Json> builder(counter, positions);
  try {
    ViewBuffer buffer(text);
    std::istream in(&buffer);
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const YAML::Exception& e) {
    throw InputError(InputError::Kind::kInvalidSpec,
                     Diagnostic{.file = file,
                                .line = e.mark.is_null() ? 0 : e.mark.line + 1,
                                .column = e.mark.is_null() ? 0 : e.mark.column + 1,
                                .message = "invalid YAML: " + e.msg});
  }
  if (builder.documents() > 1) {
    const Position where = builder.second_document();
    throw InputError(InputError::Kind::kInvalidSpec,
                     Diagnostic{.file = file,
                                .line = where.line,
                                .column = where.column,
                                .message = "expected one document, found " +
                                           std::to_string(builder.documents())});
  }
  return builder.TakeDocument();
}

bool IsSyntaxError(const InputError& e, std::string_view language) {
  return e.diagnostics().size() == 1 &&
         e.diagnostics().front().message.starts_with("invalid " + std::string(language) + ":");
}

// JSON-looking text is read as JSON first: the JSON reader takes all of JSON (yaml-cpp refuses
// some: surrogate pairs, a key on its own line, keys over 1024 bytes) and is the faster. Text that
// is not JSON (`{a: 1}`) is YAML; when it is neither, the JSON error is the one that helps.
template <class Json>
Json ParseText(std::string_view text,
               const std::string& file,
               const DocumentLimits& limits,
               SourceMap* positions,
               const std::function<Json(SourceMap*)>& parse_json) {
  if (!LooksLikeJson(text)) {
    return ParseYaml<Json>(text, file, limits, positions);
  }
  try {
    return parse_json(positions);
  } catch (const InputError& json_error) {
    if (!IsSyntaxError(json_error, "JSON")) {
      throw;
    }
    if (positions != nullptr) {
      *positions = {};
    }
    try {
      return ParseYaml<Json>(text, file, limits, positions);
    } catch (const InputError& yaml_error) {
      if (IsSyntaxError(yaml_error, "YAML")) {
        throw json_error;  // NOLINT(cert-err09-cpp,cert-err61-cpp): the first error, by value
      }
      throw;
    }
  }
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
  if (detail::IsFloatSyntax(text)) {
    return detail::FloatValue(text);
  }
  return std::string(text);
}

ParsedDocument ParseDocument(std::string_view text,
                             const std::string& file,
                             const DocumentLimits& limits) {
  ParsedDocument parsed;
  parsed.document = ParseText<json>(text, file, limits, &parsed.positions, [&](SourceMap* map) {
    auto from_json = ParseJsonDocument(text, file, limits);
    *map = std::move(from_json.positions);
    return std::move(from_json.document);
  });
  return parsed;
}

nlohmann::ordered_json ParseOrderedDocument(std::string_view text,
                                            const std::string& file,
                                            const DocumentLimits& limits) {
  return ParseText<nlohmann::ordered_json>(text, file, limits, nullptr, [&](SourceMap*) {
    return ParseOrderedJson(text, file, limits);
  });
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
    if (const auto open = p.rfind("[\""); p.ends_with("\"]") && open != std::string::npos) {
      p.erase(open);
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
