#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "render/bundle.h"

namespace obsforge::apply {

/// Options of a RevisionStore.
struct RevisionStoreOptions {
  int keep = 10;  ///< complete revisions kept besides `current` and `last_good`
};

/// The revisions of one (stack, environment) on disk, under its env root
/// (`<data-dir>/stacks/<stack>/<env>/`):
///
///     revisions/<N>/<bundle paths...>   one complete bundle per revision
///     revisions/<N>/COMPLETE            written last; holds the bundle's ContentHash()
///     current -> revisions/<N>          symlink, swapped atomically (new link + rename)
///     last_good                         "<N>\n", the last revision that was verified
///
/// A revision without COMPLETE is incomplete and never used. Not thread-safe and not safe across
/// processes on its own: hold the environment's EnvLock while using one.
class RevisionStore {
 public:
  /// Opens the store at `env_root` (created when missing) and recovers from a crash: incomplete
  /// revisions and leftover temporary files are deleted, and a `current` that points at an
  /// incomplete or missing revision is pointed back at `last_good` (or removed if there is
  /// none). Returns kInternal with the path and OS error text when the disk refuses.
  static core::Result<RevisionStore> Open(const std::filesystem::path& env_root,
                                          RevisionStoreOptions options = {});
  /// The store at `env_root` as it is, for a reader that does not hold the EnvLock (a plan, a
  /// status): nothing is recovered, created or deleted, so an apply writing a revision at the
  /// same time is left alone. Use only the reading methods (Current, LastGood, Hash, List,
  /// Load); a revision an apply prunes meanwhile reads as missing.
  static RevisionStore Peek(const std::filesystem::path& env_root,
                            RevisionStoreOptions options = {});

  const std::filesystem::path& root() const { return root_; }
  /// The directory of revision `n` (whether or not it exists).
  std::filesystem::path RevisionDir(int n) const;

  /// The revision `current` points at, if any.
  std::optional<int> Current() const;
  /// The revision recorded as last good, if any.
  std::optional<int> LastGood() const;
  /// Complete revisions, ascending.
  std::vector<int> List() const;
  /// The bundle hash recorded in revision `n`'s COMPLETE marker; nullopt when `n` is incomplete
  /// or missing.
  std::optional<std::string> Hash(int n) const;

  /// Reads revision `n` back and checks it against its recorded hash. kNotFound when `n` is
  /// not a complete revision; kInternal when its files do not match the hash (corruption).
  core::Result<render::Bundle> Load(int n) const;

  /// Writes `bundle` as revision max+1 (every file written atomically, directories fsynced,
  /// then COMPLETE) and returns its number. Does not move `current`. kInternal on I/O failure
  /// (the partial revision is removed) or when a bundle path is the reserved top-level
  /// "COMPLETE".
  core::Result<int> Write(const render::Bundle& bundle);

  /// Points `current` at complete revision `n` atomically. kNotFound when `n` is not complete.
  core::Result<void> SetCurrent(int n);
  /// Removes `current` (a first apply that failed leaves nothing applied). kInternal on failure.
  core::Result<void> ClearCurrent();
  /// Records complete revision `n` as last good (atomically), then prunes old revisions.
  core::Result<void> MarkLastGood(int n);
  /// Removes the last good record (revisions stay): what is live is not known to be any of
  /// them. kInternal on failure.
  core::Result<void> ClearLastGood();
  /// Deletes complete revisions beyond the newest `keep`, never `current` or `last_good`.
  core::Result<void> Prune();

 private:
  RevisionStore(std::filesystem::path root, RevisionStoreOptions options);
  std::filesystem::path revisions_dir() const { return root_ / "revisions"; }
  void Recover();

  std::filesystem::path root_;
  RevisionStoreOptions options_;
};

}  // namespace obsforge::apply
