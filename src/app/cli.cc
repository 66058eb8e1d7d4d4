#include "app/cli.h"

#include <iostream>
#include <map>

#include "app/commands.h"
#include "app/version.h"
#include "gitops/git_source.h"
#include "http/curl_http_client.h"
#include "server/config.h"
#include <CLI/CLI.hpp>
#include <unistd.h>

namespace obsforge::app {
namespace {

// Every flag can also come from OBSFORGE_<FLAG> (docs/cli.md); a test checks each one's --help.
std::string EnvName(const std::string& flag) {
  std::string out = "OBSFORGE_";
  for (const char c : flag) {
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

template <class T>
CLI::Option* Flag(CLI::App* cmd, const std::string& name, T& target, const std::string& help) {
  return cmd->add_option("--" + name, target, help)->envname(EnvName(name));
}

// A flag without a value (`--strict`); OBSFORGE_<FLAG>=1/true/on turns it on.
CLI::Option* Switch(CLI::App* cmd, const std::string& name, bool& target, const std::string& help) {
  return cmd->add_flag("--" + name, target, help)->envname(EnvName(name));
}

}  // namespace

int Main(int argc, char** argv) {
  const http::CurlGlobal curl;           // before any thread starts
  const gitops::GitLibrary git_library;  // libgit2 is initialised once per process
  CLI::App app{"obsforge: render, apply, provision and watch observability stacks", "obsforge"};
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionLine());
  Io io{std::cout, std::cerr, ::isatty(STDERR_FILENO) == 1};
  int exit_code = kExitOk;

  ValidateOptions validate;
  auto* validate_cmd = app.add_subcommand("validate", "Parse and validate stack specs");
  validate_cmd->add_option("SPEC", validate.specs, "Stack spec files")->required();
  Flag(validate_cmd, "root", validate.root, "Stack root (default: derived from the spec's path)");
  Flag(validate_cmd, "templates", validate.templates, "Templates folder (default: built in)");
  Switch(validate_cmd, "strict", validate.strict, "Also run promtool and amtool");
  validate_cmd->callback([&] { exit_code = RunValidate(validate, io); });

  RenderCliOptions render;
  auto* render_cmd = app.add_subcommand("render", "Render one environment of a stack");
  auto* render_spec = render_cmd->add_option("SPEC", render.input.spec, "Stack spec file");
  auto* render_repo =
      Flag(render_cmd, "repo", render.repo, "Render every stack of this repository (CI mode)");
  render_spec->excludes(render_repo);
  Flag(render_cmd, "stacks-path", render.stacks_path, "With --repo: folder of the stacks")
      ->needs(render_repo);
  Flag(render_cmd, "env", render.env, "Environment")->required();
  Flag(render_cmd, "out", render.out, "Output folder")->required();
  Flag(render_cmd, "root", render.input.root, "Stack root (default: derived from the spec's path)");
  Flag(render_cmd, "templates", render.input.templates, "Templates folder (default: built in)");
  Switch(render_cmd, "check", render.check, "Compare with --out; print a diff; exit 1 if stale");
  Switch(render_cmd, "strict", render.strict, "Also run promtool and amtool");
  render_cmd->callback([&] {
    if (render.input.spec.empty() && !render.repo) {
      throw CLI::RequiredError("SPEC or --repo");
    }
    exit_code = RunRender(render, io);
  });

  // plan, apply and up share their options.
  std::map<std::string, EnvCommandOptions> env_options;
  const std::vector<std::pair<std::string, std::string>> env_commands = {
      {"plan", "Show what an apply would change"},
      {"apply", "Apply an environment with the external runtime"},
      {"up", "Bring a local environment up in the foreground"}};
  for (const auto& [name, help] : env_commands) {
    auto& opts = env_options[name];
    auto* cmd = app.add_subcommand(name, help);
    cmd->add_option("SPEC", opts.input.spec, "Stack spec file")->required();
    Flag(cmd, "env", opts.env, "Environment")->required();
    Flag(cmd, "root", opts.input.root, "Stack root (default: derived from the spec's path)");
    Flag(cmd, "templates", opts.input.templates, "Templates folder (default: built in)");
    Flag(cmd, "data-dir", opts.data_dir, "Revisions and runtime folder (default ./var)");
    if (name == "plan") {
      Switch(cmd, "full", opts.full_diff, "Every line of each file's diff (default: 1000)");
    }
    const std::string command = name;
    cmd->callback([&, command] {
      auto& o = env_options[command];
      exit_code = command == "plan"    ? RunPlan(o, io)
                  : command == "apply" ? RunApply(o, io)
                                       : RunUp(o, io);
    });
  }

  ServeOptions serve;
  auto* serve_cmd = app.add_subcommand("serve", "Run the REST server");
  Flag(serve_cmd, "config", serve.config, "Server configuration file (obsforge.yaml)");
  Flag(serve_cmd, "listen", serve.listen, "host:port (default 127.0.0.1:8080)");
  Flag(serve_cmd, "data-dir", serve.data_dir, "Store, revisions, runtime dirs (default ./var)");
  Flag(serve_cmd, "content-dir", serve.content_dir,
       "Where posted specs' paths resolve (default .)");
  Flag(serve_cmd, "tokens-file", serve.tokens_file, "Bearer tokens and roles (YAML)");
  Flag(serve_cmd, "store", serve.store,
       "sqlite (default: DATA_DIR/obsforge.db), sqlite:PATH or postgresql://user@host:port/db")
      ->check(CLI::Validator([](const std::string& value) { return server::StoreProblem(value); },
                             "URL"));
  Flag(serve_cmd, "replicas", serve.replicas,
       "Serve processes sharing the store (default 1; more need PostgreSQL)")
      ->check(CLI::Range(1, 1000));
  Flag(serve_cmd, "bootstrap", serve.bootstrap, "Create these stacks at start unless they exist");
  serve_cmd->callback([&] { exit_code = RunServe(serve, io); });

  // store migrate / store check: whole-store work, with every server using the store stopped.
  auto* store_cmd = app.add_subcommand("store", "Copy a store into another, or check one");
  store_cmd->require_subcommand(1);
  StoreMigrateOptions migrate;
  auto* migrate_cmd = store_cmd->add_subcommand(
      "migrate", "Copy everything of one store into another and verify the copy");
  Flag(migrate_cmd, "from", migrate.from, "Store URL to copy from (e.g. sqlite:./var)")->required();
  Flag(migrate_cmd, "to", migrate.to, "Store URL to copy into (e.g. postgresql://u@host/db)")
      ->required();
  migrate_cmd->add_flag("--force", migrate.force, "Replace what the target holds")
      ->envname(EnvName("force"));
  Flag(migrate_cmd, "data-dir", migrate.data_dir, "Where 'sqlite' alone points (default ./var)");
  migrate_cmd->callback([&] { exit_code = RunStoreMigrate(migrate, io); });
  StoreCheckOptions check;
  auto* check_cmd = store_cmd->add_subcommand(
      "check", "Print each table's rows and hash, and check the rules between tables");
  Flag(check_cmd, "config", check.config, "Server configuration file (obsforge.yaml)");
  Flag(check_cmd, "store", check.store, "Store URL (default: as serve finds it)");
  Flag(check_cmd, "data-dir", check.data_dir, "Data directory (default ./var)");
  check_cmd->callback([&] { exit_code = RunStoreCheck(check, io); });

  ImportCliOptions import;
  std::map<std::string, std::string> import_urls;
  auto* import_cmd = app.add_subcommand(
      "import", "Turn existing configuration files and a live Grafana into a stack spec");
  Flag(import_cmd, "prometheus-config", import.prometheus_config,
       "prometheus.yml (its rule_files are followed)");
  Flag(import_cmd, "alertmanager-config", import.alertmanager_config, "alertmanager.yml");
  Flag(import_cmd, "loki-config", import.loki_config, "Loki configuration");
  Flag(import_cmd, "tempo-config", import.tempo_config, "Tempo configuration");
  Flag(import_cmd, "grafana", import.grafana,
       "Grafana URL to read (GRAFANA_TOKEN, or GRAFANA_USER and GRAFANA_PASSWORD)");
  for (const char* component : {"prometheus", "alertmanager", "loki", "tempo"}) {
    Flag(import_cmd, std::string(component) + "-url", import_urls[component],
         std::string("URL of the running ") + component + " (to reload and check it)");
  }
  Flag(import_cmd, "name", import.name, "Name of the stack")->required();
  Flag(import_cmd, "env", import.env, "Environment the spec describes (default prod)");
  Flag(import_cmd, "out", import.out, "Output folder (stacks/, dashboards/, alerts/)")->required();
  Switch(import_cmd, "adopt", import.adopt,
         "Take the Grafana objects found over on the next apply");
  Switch(import_cmd, "json", import.json, "Print the report as JSON");
  Switch(import_cmd, "force", import.force, "Replace what an earlier import wrote");
  import_cmd->callback([&] {
    for (const auto& [component, url] : import_urls) {
      if (!url.empty()) {
        import.urls[component] = url;
      }
    }
    exit_code = RunImport(import, io);
  });

  auto* version_cmd = app.add_subcommand("version", "Print versions");
  version_cmd->callback([&] { exit_code = RunVersion(io); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion&) {
    std::cout << VersionLine() << '\n';
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // A subcommand's --help arrives here too, as CallForHelp raised inside the subcommand.
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return app.exit(e);
    }
    std::cerr << "obsforge: " << e.what() << "\nRun with --help for usage.\n";
    return kExitUsage;
  }
  return exit_code;
}

}  // namespace obsforge::app
