#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace obsforge::core {

/// One finding about user input: where it is and what is wrong.
struct Diagnostic {
  std::string file;  ///< file name as the user knows it ("stacks/demo.yaml"); may be empty
  int line = 0;      ///< 1-based; 0 when unknown
  int column = 0;    ///< 1-based; 0 when unknown
  std::string
      path;  ///< path in the document ("spec.components.prometheus.scrape[0]"); may be empty
  std::string message;  ///< what is wrong, starting lower-case

  /// "file:line:col: path: message", leaving out the parts that are unknown.
  std::string ToString() const;
  bool operator==(const Diagnostic&) const = default;
};

/// Bad user input (spec, template, content file). Carries every finding at once.
class InputError : public std::runtime_error {
 public:
  enum class Kind { kInvalidSpec, kRender };

  InputError(Kind kind, std::vector<Diagnostic> diagnostics);
  /// A single finding.
  InputError(Kind kind, Diagnostic diagnostic);

  Kind kind() const { return kind_; }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  Kind kind_;
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace obsforge::core
