#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "render/bundle.h"
#include "spec/stack.h"

namespace obsforge::app {

/// A spec file read from disk together with the content root its paths resolve in.
struct LoadedStack {
  std::unique_ptr<spec::ContentSource> content;
  spec::StackSpec stack;
};

/// Resolves the stack root (docs/stack-spec.md "Paths"), then reads and validates the spec.
/// Throws core::InputError listing every problem.
LoadedStack LoadStack(const std::filesystem::path& spec_file,
                      const std::optional<std::filesystem::path>& root);

/// Renders `env` of `loaded` with the default options (embedded templates unless `templates`).
/// Throws core::InputError for an unknown environment, a template or a content error.
render::Bundle RenderForCli(const LoadedStack& loaded,
                            const std::string& env,
                            const std::optional<std::filesystem::path>& templates);

}  // namespace obsforge::app
