#pragma once
// Paths a spec may read: a content source that hides directories (obsforge's data directory) and
// the path checks it rests on.

#include <filesystem>
#include <memory>
#include <vector>

#include "spec/stack.h"

namespace obsforge::control {

/// `inner` (a directory source) without what lies under any of `hidden`, symlinks followed:
/// those files read as missing, are never globbed and count as escaping the root. So templates
/// and specs never read obsforge's data directory, wherever the content directory is.
std::unique_ptr<spec::ContentSource> HideDirectories(
    std::unique_ptr<spec::ContentSource> inner, const std::vector<std::filesystem::path>& hidden);

/// `path` made absolute, with symlinks of its existing part and `.`/`..` resolved.
std::filesystem::path ResolvedPath(const std::filesystem::path& path);
/// True when the resolved `path` is `root` or lies below it (both as ResolvedPath gives them).
bool IsWithin(const std::filesystem::path& path, const std::filesystem::path& root);

}  // namespace obsforge::control
