#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace obsforge::apply::testing {

using TempDir = ::obsforge::testsupport::TempDir;

/// Writes `content` to `path` (parents created) with `mode`.
inline void WriteFile(const std::filesystem::path& path,
                      const std::string& content,
                      mode_t mode = 0644) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << content;
  ::chmod(path.c_str(), mode);
}

/// Reads a whole file ("" when missing).
inline std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// True while `pid` exists and is not a zombie (a zombie has already died).
inline bool ProcessAlive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) {
    return false;
  }
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) {
    return false;
  }
  return line[close + 2] != 'Z';
}

/// Live (non-zombie) children of this process, from /proc.
inline std::vector<pid_t> LiveChildren() {
  std::vector<pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == ::getpid() && state != 'Z') {
      children.push_back(static_cast<pid_t>(std::stoi(name)));
    }
  }
  return children;
}

/// The NUL-separated command line of `pid`, with NULs turned into spaces.
inline std::string CommandLine(pid_t pid) {
  std::string s = Slurp("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : s) {
    if (c == '\0') {
      c = ' ';
    }
  }
  return s;
}

}  // namespace obsforge::apply::testing
