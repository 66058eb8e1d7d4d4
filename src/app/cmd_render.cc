#include <algorithm>

#include "app/commands.h"
#include "app/loaded_stack.h"
#include "app/output_dir.h"
#include "app/tool_check.h"
#include "core/diagnostic.h"

namespace obsforge::app {

namespace {

void PrintDiagnostics(const core::InputError& e, std::ostream& err) {
  for (const auto& d : e.diagnostics()) {
    err << d.ToString() << '\n';
  }
}

// False (with the reason on `err`) when `--out` names a folder obsforge must not render into.
bool OutputDirAllowed(const std::filesystem::path& out, std::ostream& err) {
  if (auto refused = RefuseOutputDir(out)) {
    err << "--out: " << *refused << "; choose a folder of its own\n";
    return false;
  }
  return true;
}

}  // namespace

int RunRenderRepo(const RenderCliOptions& options, Io io) {
  if (!OutputDirAllowed(options.out, io.err)) {
    return kExitUsage;
  }
  const auto dir = *options.repo / options.stacks_path;
  std::vector<std::filesystem::path> specs;
  if (std::filesystem::is_directory(dir)) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
        specs.push_back(entry.path());
      }
    }
  }
  std::sort(specs.begin(), specs.end());
  if (specs.empty()) {
    io.err << "no stacks (*.yaml) in " << dir.string() << '\n';
    return kExitUsage;
  }
  bool failed = false;
  std::string diff;
  std::size_t rendered = 0;
  for (const auto& spec_file : specs) {
    try {
      // The repository is the stack root, as in GitOps mode.
      const auto loaded = LoadStack(spec_file, options.repo);
      const auto& envs = loaded.stack.environments;
      if (std::find(envs.begin(), envs.end(), options.env) == envs.end()) {
        io.err << "note: " << spec_file.string() << " has no environment " << options.env
               << "; skipped\n";
        continue;
      }
      const auto bundle = RenderForCli(loaded, options.env, options.input.templates);
      const auto out = options.out / loaded.stack.name;
      ++rendered;
      if (options.check) {
        const auto stack_diff = DiffBundleWithDir(bundle, out);
        if (!stack_diff.empty()) {
          io.err << out.string() << " is stale\n";
          diff += stack_diff;
        }
      } else {
        WriteBundleToDir(bundle, out);
        io.out << "rendered " << bundle.files().size() << " files for " << spec_file.string()
               << " [" << options.env << "] into " << out.string() << '\n';
      }
    } catch (const core::InputError& e) {
      PrintDiagnostics(e, io.err);
      failed = true;
    } catch (const std::exception& e) {
      io.err << spec_file.string() << ": " << e.what() << '\n';
      failed = true;
    }
  }
  if (options.check && !diff.empty()) {
    io.out << diff;
    io.err << "rendered output is stale: run `obsforge render --repo " << options.repo->string()
           << " --env " << options.env << " --out " << options.out.string() << "`\n";
    return kExitFailed;
  }
  if (options.check && !failed) {
    io.err << options.out.string() << " is up to date (" << rendered << " stacks)\n";
  }
  return failed ? kExitFailed : kExitOk;
}

int RunRender(const RenderCliOptions& options, Io io) {
  if (options.repo) {
    return RunRenderRepo(options, io);
  }
  if (!OutputDirAllowed(options.out, io.err)) {
    return kExitUsage;
  }
  render::Bundle bundle;
  try {
    const auto loaded = LoadStack(options.input.spec, options.input.root);
    bundle = RenderForCli(loaded, options.env, options.input.templates);
  } catch (const core::InputError& e) {
    PrintDiagnostics(e, io.err);
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
