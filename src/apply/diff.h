#pragma once

#include <string>
#include <string_view>

namespace obsforge::apply {

/// Number of unchanged lines shown around each change in a unified diff.
inline constexpr int kDiffContext = 3;

/// A unified diff (GNU/git format) turning `before` into `after`, line by line (Myers'
/// shortest edit script). Headers are `--- <before_label>` and `+++ <after_label>`; hunks carry
/// `context` lines around each change and overlapping hunks merge. A last line without a newline
/// is followed by `\ No newline at end of file`. Returns "" when the texts are equal. Never throws
/// except std::bad_alloc.
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
