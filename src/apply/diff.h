#pragma once

#include <string>
#include <string_view>

namespace obsforge::apply {

/// Number of unchanged lines shown around each change in a unified diff.
inline constexpr int kDiffContext = 3;

/// A unified diff (GNU/git format) turning `before` into `after`, line by line. Headers are
/// `--- <before_label>` and `+++ <after_label>`; hunks carry `context` lines around each change
/// and hunks whose context would touch merge. A last line without a newline is followed by
/// `\ No newline at end of file`. Returns "" when the texts are equal. When one side is empty the
/// other is printed as one hunk without computing an edit script. Otherwise the edit script is
/// libgit2's (xdiff: Myers' algorithm in linear space, with git's heuristics that bound the time
/// on inputs with little in common), so memory grows with the input, never with its square.
/// Throws std::bad_alloc, or std::runtime_error when libgit2 fails.
std::string UnifiedDiff(std::string_view before,
                        std::string_view after,
                        const std::string& before_label,
                        const std::string& after_label,
                        int context = kDiffContext);

/// UnifiedDiff() with git-style labels for one file: `a/<path>` and `b/<path>`, or `/dev/null`
/// for the side where the file does not exist (`before_exists`/`after_exists` false).
std::string FileDiff(const std::string& path,
                     std::string_view before,
                     std::string_view after,
                     bool before_exists = true,
                     bool after_exists = true);

}  // namespace obsforge::apply
