#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "render/bundle.h"

namespace obsforge::app {

/// Why `dir` may not be an output folder, or std::nullopt when it may: the empty path, the root
/// directory and the user's home directory ($HOME, or the password database's entry) are
/// refused, also when `dir` only resolves to them (`/tmp/..`, a symlink). Rendering there would
/// mix obsforge's files with everything else and let a stale MANIFEST.json name what to delete.
std::optional<std::string> RefuseOutputDir(const std::filesystem::path& dir);

/// Writes `bundle` into `dir`: every file atomically, then removes the files that the previous
/// render recorded in `dir/MANIFEST.json` but the new bundle no longer has, and only those whose
/// content still has the sha256 recorded there: a regular file inside `dir` (not reached through
/// a symlink) that nobody changed since. A hand-made manifest can therefore not make obsforge
/// delete a file it did not write. Throws std::runtime_error naming the path on I/O failure.
void WriteBundleToDir(const render::Bundle& bundle, const std::filesystem::path& dir);

/// What `dir` holds of a previous render: the files listed in its MANIFEST.json (plus the
/// manifest itself), read back. Missing files, and files outside `dir` or reached through a
/// symlink, are left out.
render::Bundle ReadBundleFromDir(const std::filesystem::path& dir);

/// Unified diff between what `dir` holds and `bundle` (empty when they are equal).
std::string DiffBundleWithDir(const render::Bundle& bundle, const std::filesystem::path& dir);

}  // namespace obsforge::app
