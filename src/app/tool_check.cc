#include "app/tool_check.h"

#include <array>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>

#include "apply/binaries.h"
#include "core/fs.h"
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace obsforge::app {
namespace {

// A scratch directory removed when it goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("obsforge-check-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Tool output names the temporary directory; users want the bundle path instead.
std::string StripDir(std::string text, const std::string& dir) {
  const std::string prefix = dir + "/";
  std::size_t pos = 0;
  while ((pos = text.find(prefix, pos)) != std::string::npos) {
    text.erase(pos, prefix.size());
  }
  return text;
}

// Keeps the lines that say something is wrong; promtool/amtool also print "SUCCESS" and
// "Checking ..." chatter.
std::vector<std::string> FindingLines(const std::string& output) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.rfind("Checking ", 0) == 0 ||
        line.find("SUCCESS") != std::string::npos || line.rfind("Found:", 0) == 0 ||
        line.rfind(" - ", 0) == 0) {
      continue;
    }
    lines.push_back(line);
  }
  if (lines.empty()) {
    lines.emplace_back("rejected (no message)");
  }
  return lines;
}

void AddFindings(const ToolRun& run,
                 const std::string& tool,
                 const std::string& file,
                 const std::string& label,
                 const std::string& dir,
                 std::vector<core::Diagnostic>* out) {
  if (run.exit_code == 0) {
    return;
  }
  const std::string shown = label.empty() ? file : label + ": " + file;
  const std::string prefix = tool + ": ";
  for (const auto& line : FindingLines(StripDir(run.output, dir))) {
    out->push_back(core::Diagnostic{.file = shown, .message = prefix + line});
  }
}

}  // namespace

std::optional<std::string> FindOnPath(const std::string& name) {
  auto found = apply::FindBinary({name}, apply::ProcessPath());
  if (!found) {
    return std::nullopt;
  }
  return found->string();
}

ToolRun RunTool(const std::vector<std::string>& argv) {
  ToolRun result;
  const auto binary = FindOnPath(argv.at(0));
  if (!binary) {
    result.output = argv[0] + ": not found on PATH";
    return result;
  }
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    result.output = "pipe failed";
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
  }
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, binary->c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    result.output = argv[0] + ": cannot start";
    return result;
  }
  std::array<char, 4096> buf{};
  ssize_t n = 0;
  while ((n = ::read(fds[0], buf.data(), buf.size())) != 0) {
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    result.output.append(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::vector<core::Diagnostic> CheckWithUpstreamTools(const render::Bundle& bundle,
                                                     const std::string& label,
                                                     std::vector<std::string>* missing_tools) {
  std::vector<core::Diagnostic> findings;
  const bool has_promtool = FindOnPath("promtool").has_value();
  const bool has_amtool = FindOnPath("amtool").has_value();
  if (missing_tools != nullptr) {
    if (!has_promtool) {
      missing_tools->emplace_back("promtool");
    }
    if (!has_amtool) {
      missing_tools->emplace_back("amtool");
    }
  }
  TempDir tmp;
  for (const auto& [path, content] : bundle.files()) {
    core::WriteFileAtomic(tmp.path() / path, content);
  }
  const std::string dir = tmp.path().string();
  if (has_promtool && bundle.Find("prometheus/prometheus.yml") != nullptr) {
    const std::string file = "prometheus/prometheus.yml";
    // --syntax-only: the rendered config names secret files that only exist where it is applied.
    AddFindings(RunTool({"promtool", "check", "config", "--syntax-only", dir + "/" + file}),
                "promtool check config", file, label, dir, &findings);
  }
  if (has_promtool) {
    const std::string dir_prefix = dir + "/";
    for (const auto& [path, content] : bundle.files()) {
      if (path.starts_with("prometheus/rules/")) {
        AddFindings(RunTool({"promtool", "check", "rules", dir_prefix + path}),
                    "promtool check rules", path, label, dir, &findings);
      }
    }
  }
  if (has_amtool && bundle.Find("alertmanager/alertmanager.yml") != nullptr) {
    const std::string file = "alertmanager/alertmanager.yml";
    AddFindings(RunTool({"amtool", "check-config", dir + "/" + file}), "amtool check-config", file,
                label, dir, &findings);
  }
  const std::string templates = "alertmanager/templates/";
  const auto first = bundle.files().lower_bound(templates);
  if (has_amtool && first != bundle.files().end() && first->first.starts_with(templates)) {
    // alertmanager.yml names its templates where they are deployed, which does not exist here
    // (and amtool passes a glob that matches nothing), so the copies are parsed through a
    // config of their own.
    const auto config = tmp.path() / "templates-check.yml";
    core::WriteFileAtomic(config,
                          "route:\n  receiver: check\nreceivers:\n  - name: check\n"
                          "templates:\n  - '" +
                              dir + "/" + templates + "*.tmpl'\n");
    AddFindings(RunTool({"amtool", "check-config", config.string()}), "amtool check-config",
                templates + "*.tmpl", label, dir, &findings);
  }
  return findings;
}

}  // namespace obsforge::app
