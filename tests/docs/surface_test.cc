// What a user of the built binary and the package sees: every flag of every command documented
// with its OBSFORGE_<FLAG> variable, a bad store URL refused the same way from every source, the
// packaged configuration and unit agreeing with each other.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "core/fs.h"
#include "docs/docs_util.h"
#include "server/config.h"
#include <unistd.h>

namespace obsforge::docs_test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using obs_test::Slurp;
using obs_test::Source;

// The lines of `help` under the heading `section` ("Options:", "Subcommands:") up to the next
// heading or blank line.
std::vector<std::string> HelpSection(const std::string& help, const std::string& section) {
  std::vector<std::string> lines;
  std::istringstream in(help);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind(section, 0) == 0) {
      inside = true;
      continue;
    }
    if (inside && (line.empty() || line[0] != ' ')) {
      break;
    }
    if (inside) {
      lines.push_back(line);
    }
  }
  return lines;
}

// The part of docs/cli.md about one command: from "## obsforge <command>" to the next "## ".
std::string CliDocSection(const std::string& command) {
  const std::string doc = Slurp(Source("docs/cli.md"));
  const std::string heading = "\n## obsforge " + command + "\n";
  const auto start = doc.find(heading);
  if (start == std::string::npos) {
    return "";
  }
  const auto end = doc.find("\n## ", start + heading.size());
  return doc.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string EnvName(const std::string& flag) {
  std::string out = "OBSFORGE_";
  for (const char c : flag) {
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

// The subcommands of `command` ("": the top-level commands).
std::vector<std::string> Subcommands(const std::string& command = "") {
  const auto help = obs_test::RunCommand(obs_test::ObsforgeBinary().string() +
                                         (command.empty() ? "" : " " + command) + " --help");
  EXPECT_EQ(help.exit_code, 0) << help.output;
  std::vector<std::string> commands;
  for (const auto& line : HelpSection(help.output, "Subcommands:")) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    commands.push_back(name);
  }
  return commands;
}

TEST(CliHelp, ListsTheCommandsOfTheDocs) {
  EXPECT_THAT(Subcommands(), ::testing::ElementsAre("validate", "render", "plan", "apply", "up",
                                                    "serve", "store", "import", "version"));
  EXPECT_THAT(Subcommands("store"), ::testing::ElementsAre("migrate", "check"));
}

TEST(CliHelp, EveryFlagHasItsVariableAndIsDocumentedWithIt) {
  const std::regex flag_re("--([a-z][a-z-]*)");
  int flags = 0;
  std::vector<std::string> commands;
  for (const auto& command : Subcommands()) {
    commands.push_back(command);
    for (const auto& sub : Subcommands(command)) {
      std::string nested = command;
      nested += " ";
      nested += sub;
      commands.push_back(std::move(nested));
    }
  }
  for (const auto& command : commands) {
    const auto help =
        obs_test::RunCommand(obs_test::ObsforgeBinary().string() + " " + command + " --help");
    ASSERT_EQ(help.exit_code, 0) << command << ": " << help.output;
    const std::string doc = CliDocSection(command);
    ASSERT_FALSE(doc.empty()) << "docs/cli.md has no \"## obsforge " << command << "\"";
    std::set<std::string> in_help;
    for (const auto& line : HelpSection(help.output, "Options:")) {
      // An option's own line starts with it ("  --env TEXT ..." or "  -h,--help ..."); the
      // indented description lines below it may mention other flags.
      const std::string trimmed = line.substr(line.find_first_not_of(' '));
      std::smatch m;
      if (!std::regex_search(trimmed, m, flag_re) || m.position(0) > 3 || m[1] == "help") {
        continue;
      }
      const std::string flag = m[1];
      in_help.insert(flag);
      ++flags;
      // CLI11 prints "(Env:NAME)" for an option read from the environment.
      EXPECT_THAT(line, HasSubstr("(Env:" + EnvName(flag) + ")"))
          << command << " --" << flag << " has no OBSFORGE_ variable";
      EXPECT_THAT(doc, HasSubstr("`--" + flag)) << "docs/cli.md: " << command << " --" << flag;
      EXPECT_THAT(doc, HasSubstr("`" + EnvName(flag) + "`"))
          << "docs/cli.md: " << command << " " << EnvName(flag);
    }
    // And the docs name no flag the command does not have.
    for (std::sregex_iterator it(doc.begin(), doc.end(), flag_re), end; it != end; ++it) {
      const std::string flag = (*it)[1];
      EXPECT_TRUE(in_help.contains(flag) || flag == "help")
          << "docs/cli.md documents " << command << " --" << flag << ", which --help lacks";
    }
  }
  EXPECT_GE(flags, 20);
}

TEST(CliHelp, EveryVariableTheSourceReadsIsDocumented) {
  const std::string docs = Slurp(Source("docs/cli.md")) + Slurp(Source("docs/configuration.md"));
  const std::regex var_re("\"(OBSFORGE_[A-Z_]+)\"");
  std::set<std::string> seen;
  for (const auto& entry : fs::recursive_directory_iterator(Source("src"))) {
    if (entry.path().extension() != ".cc") {
      continue;
    }
    const std::string text = Slurp(entry.path());
    for (std::sregex_iterator it(text.begin(), text.end(), var_re), end; it != end; ++it) {
      const std::string var = (*it)[1];
      if (var.back() != '_' && seen.insert(var).second) {
        EXPECT_THAT(docs, HasSubstr("`" + var + "`")) << var << " (" << entry.path() << ")";
      }
    }
  }
  // The variables of obsforge.yaml's settings are named from their keys, not spelled out.
  for (const auto& var : server::EnvironmentVariables()) {
    if (seen.insert(var).second) {
      EXPECT_THAT(docs, HasSubstr("`" + var + "`")) << var << " (server::EnvironmentVariables)";
    }
  }
  EXPECT_TRUE(seen.contains("OBSFORGE_LISTEN"));
  EXPECT_TRUE(seen.contains("OBSFORGE_OPERATION_WORKERS"));
}

TEST(CliHelp, FlagVariablesWorkForSwitches) {
  // OBSFORGE_CHECK turns --check on: against an empty folder the render is stale (exit 1).
  const fs::path out = fs::temp_directory_path() / ("obs-docs-check-" + std::to_string(::getpid()));
  fs::remove_all(out);
  const std::string render = obs_test::ObsforgeBinary().string() + " render " +
                             obs_test::ShellQuote(Source("stacks/demo.yaml").string()) +
                             " --env dev --out " + obs_test::ShellQuote(out.string());
  const auto checked = obs_test::RunCommand("OBSFORGE_CHECK=1 " + render);
  EXPECT_EQ(checked.exit_code, 1) << checked.output;
  EXPECT_FALSE(fs::exists(out / "MANIFEST.json"));
  const auto written = obs_test::RunCommand("OBSFORGE_CHECK=false " + render);
  EXPECT_EQ(written.exit_code, 0) << written.output;
  EXPECT_TRUE(fs::exists(out / "MANIFEST.json"));
  const auto fresh = obs_test::RunCommand("OBSFORGE_CHECK=true " + render);
  EXPECT_EQ(fresh.exit_code, 0) << fresh.output;
  fs::remove_all(out);
}

TEST(CliVersion, NamesTheBuildAndMatchesVersionFlag) {
  const auto version = obs_test::RunCommand(obs_test::ObsforgeBinary().string() + " version");
  ASSERT_EQ(version.exit_code, 0);
  EXPECT_TRUE(std::regex_search(
      version.output, std::regex("^obsforge [0-9]+\\.[0-9]+\\.[0-9]+( \\(git [^)]+\\))?\n")))
      << version.output;
  const auto flag = obs_test::RunCommand(obs_test::ObsforgeBinary().string() + " --version");
  EXPECT_EQ(flag.output, version.output.substr(0, version.output.find('\n') + 1));
  if (fs::exists(Source(".git"))) {
    EXPECT_THAT(version.output, HasSubstr(" (git ")) << "built from a git checkout";
  }
}

// A store URL is checked the same way whether it comes from the configuration file, --store or
// OBSFORGE_STORE, before anything starts; PostgreSQL URLs are store URLs.
TEST(Store, BadStoreUrlsAreRefusedTheSameWayFromEverySource) {
  const std::string expected = "store URL: unknown scheme \"mysql\"";
  try {
    (void)server::ParseServerConfig("listen: 127.0.0.1:0\nstore: mysql://u@db/obs\n",
                                    "obsforge.yaml");
    ADD_FAILURE() << "accepted";
  } catch (const core::InputError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1U);
    EXPECT_EQ(e.diagnostics()[0].ToString(),
              "obsforge.yaml:2:8: store: " + server::StoreProblem("mysql://u@db/obs"));
    EXPECT_THAT(e.diagnostics()[0].message, HasSubstr(expected));
  }
  EXPECT_EQ(server::StoreProblem("sqlite"), "");
  EXPECT_EQ(server::StoreProblem("postgresql://u@db/obs"), "");
  EXPECT_EQ(server::ParseServerConfig("store: postgresql://u@db/obs\n", "obsforge.yaml").store,
            "postgresql://u@db/obs");

  const std::string serve = obs_test::ObsforgeBinary().string() + " serve --listen 127.0.0.1:0";
  const auto flag = obs_test::RunCommand(serve + " --store mysql://u@db/obs");
  EXPECT_EQ(flag.exit_code, 2) << flag.output;
  EXPECT_THAT(flag.output, HasSubstr(expected));
  const auto env = obs_test::RunCommand("OBSFORGE_STORE=mysql://u@db/obs " + serve);
  EXPECT_EQ(env.exit_code, 2) << env.output;
  EXPECT_THAT(env.output, HasSubstr(expected));

  const fs::path config =
      fs::temp_directory_path() / ("obs-docs-store-" + std::to_string(::getpid()) + ".yaml");
  core::WriteFileAtomic(config, "store: mysql://u@db/obs\n");
  const auto file = obs_test::RunCommand(obs_test::ObsforgeBinary().string() + " serve --config " +
                                         obs_test::ShellQuote(config.string()));
  EXPECT_EQ(file.exit_code, 1) << file.output;
  EXPECT_THAT(file.output, HasSubstr(config.string() + ":1:8: store: " + expected));
  fs::remove(config);
}

// The configuration the package installs parses, and the unit runs serve with it, keeping its
// data where the unit's StateDirectory is.
TEST(Packaging, InstalledConfigurationParsesAndTheUnitUsesIt) {
  const auto config = server::LoadServerConfig(Source("packaging/obsforge.yaml"));
  EXPECT_EQ(config.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(config.server.data_dir, "/var/lib/obsforge");
  EXPECT_EQ(config.store, "sqlite");
  EXPECT_TRUE(config.server.tokens_file.empty());
  EXPECT_EQ(config.gitops_json, "null");

  const std::string unit = Slurp(fs::path(OBS_BINARY_DIR) / "packaging" / "obsforge.service");
  ASSERT_FALSE(unit.empty());
  EXPECT_TRUE(std::regex_search(
      unit,
      std::regex("\nExecStart=/[^ ]*/bin/obsforge serve --config /[^ ]*/obsforge/obsforge.yaml\n")))
      << unit;
  EXPECT_THAT(unit, HasSubstr("\nStateDirectory=obsforge\n"));
  EXPECT_THAT(unit, HasSubstr("\nWorkingDirectory=/var/lib/obsforge\n"));
  EXPECT_THAT(unit, HasSubstr("\nUser=obsforge\n"));
  EXPECT_THAT(Slurp(Source("packaging/sysusers.conf")), HasSubstr("u obsforge "));
}

}  // namespace
}  // namespace obsforge::docs_test
