#include "app/loaded_stack.h"

#include "render/render.h"

namespace obsforge::app {

LoadedStack LoadStack(const std::filesystem::path& spec_file,
                      const std::optional<std::filesystem::path>& root) {
  auto content = spec::MakeDirectorySource(spec::StackRoot(spec_file, root));
  auto stack = spec::LoadStackFile(spec_file, *content);
  return LoadedStack{.content = std::move(content), .stack = std::move(stack)};
}

render::Bundle RenderForCli(const LoadedStack& loaded,
                            const std::string& env,
                            const std::optional<std::filesystem::path>& templates) {
  render::RenderOptions options;
  if (templates) {
    options.templates_dir = *templates;
  }
  return render::RenderEnvironment(spec::ForEnvironment(loaded.stack, env), *loaded.content,
                                   options);
}

}  // namespace obsforge::app
