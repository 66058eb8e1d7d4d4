#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <git2.h>

#include "support/temp_dir.h"

namespace obsforge::gitops::testing {

using TempDir = ::obsforge::testsupport::TempDir;

/// A bare repository standing in for the remote; commits are built straight from file maps.
class TestRepo {
 public:
  explicit TestRepo(std::filesystem::path dir);
  ~TestRepo();
  TestRepo(const TestRepo&) = delete;
  TestRepo& operator=(const TestRepo&) = delete;

  /// `file://` URL of the repository.
  std::string Url() const { return "file://" + dir_.string(); }
  const std::filesystem::path& dir() const { return dir_; }

  /// Commits `files` (path -> content; a path ending in "@x" is stored executable, "@l" as a
  /// symlink whose content is the target) on `branch` with the branch head as parent, and moves
  /// the branch. Returns the sha.
  std::string Commit(const std::map<std::string, std::string>& files,
                     const std::string& message,
                     const std::string& branch = "main");
  /// Commits `files` with `parent` ("" = none) and force-moves `branch` to it (a force-push).
  std::string CommitOn(const std::string& parent,
                       const std::map<std::string, std::string>& files,
                       const std::string& message,
                       const std::string& branch = "main");
  /// Force-moves `branch` to existing commit `sha` (a rewind).
  void ResetBranch(const std::string& sha, const std::string& branch = "main");
  /// The head of `branch`, "" when absent.
  std::string Head(const std::string& branch = "main") const;

 private:
  std::filesystem::path dir_;
  git_repository* repo_ = nullptr;
};

}  // namespace obsforge::gitops::testing
