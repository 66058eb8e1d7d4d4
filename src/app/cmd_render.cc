#include "app/commands.h"
#include "app/loaded_stack.h"
#include "app/output_dir.h"
#include "app/tool_check.h"
#include "core/diagnostic.h"

namespace obsforge::app {

int RunRender(const RenderCliOptions& options, Io io) {
  render::Bundle bundle;
  try {
    const auto loaded = LoadStack(options.input.spec, options.input.root);
    bundle = RenderForCli(loaded, options.env, options.input.templates);
  } catch (const core::InputError& e) {
    for (const auto& d : e.diagnostics()) {
      io.err << d.ToString() << '\n';
    }
    return kExitFailed;
  }
  if (options.strict) {
    const auto findings = CheckWithUpstreamTools(
        bundle, options.input.spec.string() + "[" + options.env + "]", nullptr);
    for (const auto& d : findings) {
      io.err << d.ToString() << '\n';
    }
    if (!findings.empty()) {
      return kExitFailed;
    }
  }
  if (options.check) {
    const auto diff = DiffBundleWithDir(bundle, options.out);
    if (diff.empty()) {
      io.err << options.out.string() << " is up to date (" << bundle.files().size() << " files)\n";
      return kExitOk;
    }
    io.out << diff;
    io.err << options.out.string() << " is stale: run `obsforge render "
           << options.input.spec.string() << " --env " << options.env << " --out "
           << options.out.string() << "`\n";
    return kExitFailed;
  }
  try {
    WriteBundleToDir(bundle, options.out);
  } catch (const std::exception& e) {
    io.err << "cannot write " << options.out.string() << ": " << e.what() << '\n';
    return kExitFailed;
  }
  io.out << "rendered " << bundle.files().size() << " files for " << options.input.spec.string()
         << " [" << options.env << "] into " << options.out.string() << '\n';
  return kExitOk;
}

}  // namespace obsforge::app
