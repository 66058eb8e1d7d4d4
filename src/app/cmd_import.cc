#include <fstream>
#include <sstream>

#include "app/commands.h"
#include "app/tool_check.h"
#include "control/import_service.h"
#include "core/diagnostic.h"
#include "http/curl_http_client.h"

namespace obsforge::app {
namespace {

namespace fs = std::filesystem;

// One configuration named on the command line. The path is made absolute: its folder is where
// the files it names are found, and becomes the runtime's config_dir.
importer::ConfigFile ReadConfig(const fs::path& path, const control::ImportLimits& limits) {
  const fs::path absolute = fs::absolute(path).lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(absolute, ec)) {
    throw core::InputError(
        core::InputError::Kind::kInvalidSpec,
        core::Diagnostic{.file = path.string(), .message = "not found or not a file"});
  }
  if (fs::file_size(absolute, ec) > limits.max_config_bytes) {
    throw core::InputError(
        core::InputError::Kind::kInvalidSpec,
        core::Diagnostic{
            .file = path.string(),
            .message = "larger than " + std::to_string(limits.max_config_bytes) + " bytes"});
  }
  std::ifstream in(absolute, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) {
    throw core::InputError(core::InputError::Kind::kInvalidSpec,
                           core::Diagnostic{.file = path.string(), .message = "cannot be read"});
  }
  return {.path = absolute.generic_string(), .text = text.str()};
}

std::optional<control::GrafanaSource> GrafanaFrom(const ImportCliOptions& options) {
  if (!options.grafana) {
    return std::nullopt;
  }
  const core::EnvLookup env = options.env_lookup ? options.env_lookup : core::ProcessEnv();
  control::GrafanaSource source{.url = *options.grafana};
  if (auto token = env("GRAFANA_TOKEN"); token && !token->empty()) {
    source.token = core::Secret(*token);
  } else {
    source.user = env("GRAFANA_USER").value_or("admin");
    source.password = core::Secret(env("GRAFANA_PASSWORD").value_or(""));
  }
  return source;
}

// What an import writes under `out`, and whether an earlier one is in the way.
std::vector<fs::path> OwnPaths(const ImportCliOptions& options) {
  return {options.out / "stacks" / (options.name + ".yaml"),
          options.out / "dashboards" / options.name, options.out / "alerts" / options.name};
}

void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    throw std::runtime_error("cannot write " + path.string());
  }
}

}  // namespace

int RunImport(const ImportCliOptions& options, Io io) {
  http::CurlHttpClient http;
  const control::ImportService service(&http);
  control::ImportInput input;
  try {
    auto& request = input.request;
    request.name = options.name;
    request.env = options.env;
    request.adopt = options.adopt;
    request.urls = options.urls;
    const auto read = [&](const std::optional<fs::path>& path) {
      return path ? std::optional(ReadConfig(*path, service.limits())) : std::nullopt;
    };
    request.prometheus = read(options.prometheus_config);
    request.alertmanager = read(options.alertmanager_config);
    request.loki = read(options.loki_config);
    request.tempo = read(options.tempo_config);
    // Paths in the configurations are absolute once resolved against their folders.
    input.files = spec::MakeDirectorySource("/");
    input.grafana = GrafanaFrom(options);
  } catch (const core::InputError& e) {
    for (const auto& d : e.diagnostics()) {
      io.err << d.ToString() << '\n';
    }
    return kExitFailed;
  }
  if (!options.force) {
    for (const auto& path : OwnPaths(options)) {
      if (std::error_code ec; fs::exists(path, ec)) {
        io.err << path.string()
               << " exists (an earlier import?): give --force to replace what import writes\n";
        return kExitFailed;
      }
    }
  }

  core::Result<importer::ImportResult> result = core::MakeError(core::ErrorCode::kInternal, "");
  try {
    result = service.Import(std::move(input));
  } catch (const core::InputError& e) {
    for (const auto& d : e.diagnostics()) {
      io.err << d.ToString() << '\n';
    }
    return kExitFailed;
  }
  if (!result.ok()) {
    io.err << result.error().message << '\n';
    return kExitFailed;
  }
  importer::ImportResult& imported = *result;
  // The same real tools that check a render check the imported result.
  if (!imported.rendered.files().empty()) {
    for (const auto& d : CheckWithUpstreamTools(imported.rendered, imported.spec_path, nullptr)) {
      imported.report.review.push_back("rendered output refused: " + d.ToString());
    }
  }

  try {
    for (const auto& path : OwnPaths(options)) {
      fs::remove_all(path);
    }
    WriteFile(options.out / imported.spec_path, imported.spec_yaml);
    for (const auto& [path, text] : imported.files) {
      WriteFile(options.out / path, text);
    }
  } catch (const std::exception& e) {
    io.err << e.what() << '\n';
    return kExitFailed;
  }
  if (options.json) {
    io.out << imported.report.ToJson().dump(2) << '\n';
  } else {
    io.out << imported.report.ToText();
    io.out << "next: obsforge plan " << (options.out / imported.spec_path).string() << " --env "
           << options.env << '\n';
  }
  return kExitOk;
}

}  // namespace obsforge::app
