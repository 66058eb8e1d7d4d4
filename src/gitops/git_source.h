#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/secret.h"

namespace obsforge::gitops {

/// Initialises libgit2 for the life of the object (git_libgit2_init / git_libgit2_shutdown).
/// Create one in main() (tests: in a ::testing::Environment) before any GitSource is used, and
/// keep it alive until every GitSource is gone. Not copyable.
class GitLibrary {
 public:
  GitLibrary();
  ~GitLibrary();
  GitLibrary(const GitLibrary&) = delete;
  GitLibrary& operator=(const GitLibrary&) = delete;
};

/// Where and how to fetch.
struct GitSourceOptions {
  /// Remote: `file:///srv/obs.git`, `/srv/obs.git`, `https://host/obs.git`,
  /// `ssh://git@host/obs.git`.
  std::string url;
  std::string branch = "main";
  /// https: token sent as basic-auth password (user `token_user`) when the server asks for one.
  core::Secret token;
  /// Basic-auth user for `token`: "x-access-token" (GitHub) or "oauth2" (GitLab).
  std::string token_user = "x-access-token";
  /// ssh: private key file and its passphrase (may be empty). The user comes from the URL
  /// (default "git").
  std::filesystem::path ssh_key;
  core::Secret ssh_passphrase;
  /// Holds the bare mirror (`repo.git`) and the checkouts (`checkouts/<sha>/`). Created on demand.
  std::filesystem::path cache_dir;
  /// How many checkouts to keep; the least recently used beyond this are removed.
  int keep_checkouts = 5;
};

/// One commit, as recorded on revisions.
struct CommitInfo {
  std::string sha;  ///< 40 hex digits
  std::string author_name;
  std::string author_email;
  std::string summary;                         ///< first line of the message
  std::string message;                         ///< the full message
  std::chrono::system_clock::time_point time;  ///< author time

  bool operator==(const CommitInfo&) const = default;
};

/// Fetches one branch and materialises commits as read-only directories.
class CommitSource {
 public:
  virtual ~CommitSource() = default;
  /// Fetches the branch and returns its head commit.
  virtual core::Result<CommitInfo> Fetch() = 0;
  /// A directory holding exactly the tree of commit `sha` (read-only files).
  virtual core::Result<std::filesystem::path> Checkout(const std::string& sha) = 0;
};

/// A CommitSource over libgit2 with a bare mirror in `cache_dir/repo.git`.
///
/// Fetch() uses the forced refspec `+refs/heads/<branch>:refs/remotes/origin/<branch>`, so a
/// force-push that rewinds the branch simply yields the new head. Checkout(sha) writes the blobs
/// of the commit's tree to `cache_dir/checkouts/<sha>/` (files 0444, executables 0555,
/// directories 0555, symlinks as symlinks, submodules skipped); a complete checkout is marked by
/// `checkouts/<sha>.complete` and reused. Checkouts beyond `keep_checkouts` are pruned, least
/// recently used first (never the one just returned).
///
/// Errors are returned (kUpstream for fetch failures, kNotFound for an unknown sha or missing
/// branch, kInternal for local I/O) with libgit2's message; the token, the passphrase and any
/// user-info in the URL are replaced by `<secret>`. Nothing throws. Not thread-safe: one caller
/// at a time (the Poller serialises syncs). Requires a live GitLibrary.
class GitSource final : public CommitSource {
 public:
  explicit GitSource(GitSourceOptions options);
  ~GitSource() override;
  GitSource(const GitSource&) = delete;
  GitSource& operator=(const GitSource&) = delete;

  core::Result<CommitInfo> Fetch() override;
  core::Result<std::filesystem::path> Checkout(const std::string& sha) override;

  const GitSourceOptions& options() const { return options_; }

 private:
  struct Repo;
  core::Result<void> OpenRepository();
  core::Error GitError(core::ErrorCode code, const std::string& what) const;
  std::string Redact(std::string text) const;

  GitSourceOptions options_;
  std::unique_ptr<Repo> repo_;
};

/// `url` with any `user:password@` user-info replaced by `<secret>@`.
std::string RedactUrl(const std::string& url);

}  // namespace obsforge::gitops
