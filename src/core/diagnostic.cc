#include "core/diagnostic.h"

#include <utility>

namespace obsforge::core {

std::string Diagnostic::ToString() const {
  std::string out;
  if (!file.empty()) {
    out += file;
    if (line > 0) {
      out += ':' + std::to_string(line);
      if (column > 0) {
        out += ':' + std::to_string(column);
      }
    }
    out += ": ";
  }
  if (!path.empty()) {
    out += path + ": ";
  }
  out += message;
  return out;
}

namespace {
std::string JoinDiagnostics(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (!out.empty()) {
      out += '\n';
    }
    out += d.ToString();
  }
  return out;
}
}  // namespace

InputError::InputError(Kind kind, std::vector<Diagnostic> diagnostics)
    : std::runtime_error(JoinDiagnostics(diagnostics)),
      kind_(kind),
      diagnostics_(std::move(diagnostics)) {
}

InputError::InputError(Kind kind, Diagnostic diagnostic)
    : InputError(kind, std::vector<Diagnostic>{std::move(diagnostic)}) {
}

}  // namespace obsforge::core
