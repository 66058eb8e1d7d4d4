#include <map>

#include "app/commands.h"
#include "app/loaded_stack.h"
#include "app/tool_check.h"
#include "core/diagnostic.h"

namespace obsforge::app {
namespace {

void Print(const std::vector<core::Diagnostic>& diagnostics, std::ostream& err) {
  for (const auto& d : diagnostics) {
    err << d.ToString() << '\n';
  }
}

// Validates one spec and renders each environment; returns the number of findings.
std::size_t ValidateOne(const std::filesystem::path& spec_file,
                        const ValidateOptions& options,
                        Io io,
                        std::vector<std::string>* missing_tools) {
  LoadedStack loaded;
  try {
    loaded = LoadStack(spec_file, options.root);
  } catch (const core::InputError& e) {
    Print(e.diagnostics(), io.err);
    return e.diagnostics().size();
  }
  std::size_t findings = 0;
  for (const auto& env : loaded.stack.environments) {
    try {
      const auto bundle = RenderForCli(loaded, env, options.templates);
      if (options.strict) {
        const auto tool_findings =
            CheckWithUpstreamTools(bundle, spec_file.string() + "[" + env + "]", missing_tools);
        Print(tool_findings, io.err);
        findings += tool_findings.size();
      }
    } catch (const core::InputError& e) {
      io.err << spec_file.string() << ": environment " << env << ":\n";
      Print(e.diagnostics(), io.err);
      findings += e.diagnostics().size();
    }
  }
  if (findings == 0) {
    io.out << spec_file.string() << ": ok (" << loaded.stack.environments.size()
           << (loaded.stack.environments.size() == 1 ? " environment" : " environments") << ")\n";
  }
  return findings;
}

}  // namespace

int RunValidate(const ValidateOptions& options, Io io) {
  std::size_t findings = 0;
  std::vector<std::string> missing_tools;
  for (const auto& spec_file : options.specs) {
    findings += ValidateOne(spec_file, options, io, &missing_tools);
  }
  if (options.strict && !missing_tools.empty()) {
    std::map<std::string, bool> seen;
    for (const auto& tool : missing_tools) {
      if (!seen[tool]) {
        seen[tool] = true;
        io.err << "note: " << tool << " not found on PATH; its checks were skipped\n";
      }
    }
  }
  return findings == 0 ? kExitOk : kExitFailed;
}

}  // namespace obsforge::app
