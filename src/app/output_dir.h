#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "render/bundle.h"

namespace obsforge::app {

/// Writes `bundle` into `dir`: every file atomically, then removes the files that the previous
/// render recorded in `dir/MANIFEST.json` but the new bundle no longer has. Files obsforge did not
/// write are never touched. Throws std::runtime_error naming the path on I/O failure.
void WriteBundleToDir(const render::Bundle& bundle, const std::filesystem::path& dir);

/// What `dir` holds of a previous render: the files listed in its MANIFEST.json (plus the
/// manifest itself), read back. Missing files are left out.
render::Bundle ReadBundleFromDir(const std::filesystem::path& dir);

/// Unified diff between what `dir` holds and `bundle` (empty when they are equal).
std::string DiffBundleWithDir(const render::Bundle& bundle, const std::filesystem::path& dir);

}  // namespace obsforge::app
