// Writes the `stack` and `env` values obsforge's templates receive for one environment, so the
// Debian `jsonnet` CLI can evaluate the same templates on the same inputs (bench/jsonnet_cli.sh).
// Usage: jsonnet_inputs SPEC ENV OUT_DIR  → OUT_DIR/stack.json, OUT_DIR/env.json, and
// OUT_DIR/components (the enabled components, one per line).
#include <fstream>
#include <iostream>

#include "core/diagnostic.h"
#include "render/env.h"
#include "spec/stack.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: jsonnet_inputs SPEC ENV OUT_DIR\n";
    return 2;
  }
  namespace fs = std::filesystem;
  using namespace obsforge;
  try {
    const fs::path file = argv[1];
    const auto content = spec::MakeDirectorySource(spec::StackRoot(file, std::nullopt));
    const auto stack = spec::LoadStackFile(file, *content);
    const auto merged = spec::ForEnvironment(stack, argv[2]);
    const render::RenderOptions options;
    const auto prepared = render::PrepareStack(merged.merged, render::SecretsDir(merged, options));
    const auto env = render::BuildEnv(merged, prepared, options);
    const fs::path out = argv[3];
    fs::create_directories(out);
    std::ofstream(out / "stack.json") << prepared.dump();
    std::ofstream(out / "env.json") << env.dump();
    std::ofstream components(out / "components");
    for (const char* c :
         {"prometheus", "alertmanager", "loki", "tempo", "grafana", "otel_collector"}) {
      if (render::ComponentEnabled(prepared, c)) {
        components << c << "\n";
      }
    }
  } catch (const core::InputError& e) {
    for (const auto& d : e.diagnostics()) {
      std::cerr << d.ToString() << "\n";
    }
    return 1;
  }
  return 0;
}
