#include "render/yaml_json.h"

#include <cmath>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "core/diagnostic.h"
#include "spec/document.h"

namespace obsforge::render {
namespace {

using nlohmann::ordered_json;

constexpr int kMaxDepth = 256;

// The spec reader's core-schema typing (linear; std::regex recursed once per character and
// overflowed the stack on long number-like scalars), with what is not a finite number kept as
// text: `.inf` and `1e999` stay strings here.
ordered_json ResolvePlain(const std::string& s) {
  const nlohmann::json typed = spec::TypePlainScalar(s);
  if (typed.is_number_float() && !std::isfinite(typed.get<double>())) {
    return s;
  }
  return ordered_json(typed);
}

// What one document may cost: rule files come with requests ({spec, files}). The limits are the
// spec reader's; a YAML alias counts as the whole tree it repeats.
struct Budget {
  std::size_t nodes = 0;
  std::size_t bytes = 0;
};

[[noreturn]] void TooLarge(const YAML::Node& node,
                           const std::string& file,
                           const std::string& what) {
  throw core::InputError(core::InputError::Kind::kRender,
                         core::Diagnostic{.file = file,
                                          .line = node.Mark().line + 1,
                                          .column = node.Mark().column + 1,
                                          .message = "document is too large: " + what});
}

// Counts the document's events before YAML::Load builds its node graph (hundreds of bytes per
// node): a text of many small values is refused before it costs memory.
class EventCounter final : public YAML::EventHandler {
 public:
  explicit EventCounter(std::size_t limit) : limit_(limit) {}
  void OnDocumentStart(const YAML::Mark& /*mark*/) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t /*anchor*/) override { Count(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t /*anchor*/) override { Count(mark); }
  void OnScalar(const YAML::Mark& mark,
                const std::string& /*tag*/,
                YAML::anchor_t /*anchor*/,
                const std::string& /*value*/) override {
    Count(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark,
                       const std::string& /*tag*/,
                       YAML::anchor_t /*anchor*/,
                       YAML::EmitterStyle::value /*style*/) override {
    Count(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark,
                  const std::string& /*tag*/,
                  YAML::anchor_t /*anchor*/,
                  YAML::EmitterStyle::value /*style*/) override {
    Count(mark);
  }
  void OnMapEnd() override {}

  /// Thrown (through yaml-cpp, which stops there) where the limit is passed.
  struct Over {
    YAML::Mark mark;
  };

 private:
  void Count(const YAML::Mark& mark) {
    if (++count_ > limit_) {
      throw Over{mark};
    }
  }
  std::size_t limit_;
  std::size_t count_ = 0;
};

ordered_json Convert(const YAML::Node& node, int depth, const std::string& file, Budget& budget) {
  const spec::DocumentLimits limits;
  if (++budget.nodes > limits.max_nodes) {
    TooLarge(node, file,
             "more than " + std::to_string(limits.max_nodes) +
                 " values, counting each use of a YAML alias (limit max_nodes)");
  }
  if (node.IsScalar() && (budget.bytes += node.Scalar().size()) > limits.max_total_bytes) {
    TooLarge(node, file,
             "more than " + std::to_string(limits.max_total_bytes) +
                 " bytes of text, counting each use of a YAML alias (limit max_total_bytes)");
  }
  if (node.IsScalar() && spec::FindInvalidUtf8(node.Scalar())) {
    throw core::InputError(core::InputError::Kind::kRender,
                           core::Diagnostic{.file = file,
                                            .line = node.Mark().line + 1,
                                            .column = node.Mark().column + 1,
                                            .message = "invalid UTF-8 in a string (an escape of "
                                                       "a lone surrogate?)"});
  }
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
        out.push_back(Convert(item, depth + 1, file, budget));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      ordered_json out = ordered_json::object();
      for (const auto& kv : node) {
        const auto key = kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first);
        out[key] = Convert(kv.second, depth + 1, file, budget);
      }
      return out;
    }
  }
  return nullptr;
}

}  // namespace

ordered_json ParseYaml(std::string_view text, const std::string& file) {
  if (const auto bad = spec::FindInvalidUtf8(text)) {
    const auto pos = spec::PositionOfOffset(text, *bad);
    throw core::InputError(core::InputError::Kind::kRender,
                           core::Diagnostic{.file = file,
                                            .line = pos.line,
                                            .column = pos.column,
                                            .message = "invalid UTF-8 (text must be UTF-8)"});
  }
  try {
    const std::string owned(text);
    try {
      std::istringstream in(owned);
      YAML::Parser parser(in);
      EventCounter counter(spec::DocumentLimits{}.max_nodes);
      parser.HandleNextDocument(counter);
    } catch (const EventCounter::Over& over) {
      throw core::InputError(
          core::InputError::Kind::kRender,
          core::Diagnostic{.file = file,
                           .line = over.mark.line + 1,
                           .column = over.mark.column + 1,
                           .message = "document is too large: more than " +
                                      std::to_string(spec::DocumentLimits{}.max_nodes) +
                                      " values (limit max_nodes)"});
    }
    const YAML::Node root = YAML::Load(owned);
    Budget budget;
    return Convert(root, 0, file, budget);
  } catch (const YAML::Exception& e) {
    throw core::InputError(core::InputError::Kind::kRender,
                           core::Diagnostic{.file = file,
                                            .line = e.mark.line + 1,
                                            .column = e.mark.column + 1,
                                            .message = "invalid YAML: " + e.msg});
  }
}

}  // namespace obsforge::render
