#include "apply/diff.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <stdexcept>

#include <git2.h>

namespace obsforge::apply {
namespace {

// libgit2 needs its global state (allocator, error slots) before any call. It is set up once for
// the process and never torn down, so diffs running on several threads never race a shutdown.
void EnsureLibgit2() {
  static const int kInitialised = git_libgit2_init();
  if (kInitialised < 0) {
    throw std::runtime_error("libgit2 could not be initialised");
  }
}

std::string Range(std::size_t start, std::size_t count) {
  // GNU diff: a one-line range is just its line number; an empty one names the line before it
  // (libgit2's hunks already number it that way).
  if (count == 1) {
    return std::to_string(start);
  }
  return std::to_string(start) + "," + std::to_string(count);
}

void AppendLine(std::string& out, char prefix, std::string_view line) {
  out += prefix;
  out += line;
  if (line.empty() || line.back() != '\n') {
    out += "\n\\ No newline at end of file\n";
  }
}

std::size_t CountLines(std::string_view text) {
  const auto newlines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  return newlines + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

// A file that exists on one side only is all one hunk: no edit script is needed.
void AppendWholeFile(std::string& out, std::string_view text, char prefix) {
  const auto lines = CountLines(text);
  out += prefix == '+' ? "@@ -0,0 +" + Range(1, lines) + " @@\n"
                       : "@@ -" + Range(1, lines) + " +0,0 @@\n";
  out.reserve(out.size() + text.size() + lines + 32);
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    const auto end = nl == std::string_view::npos ? text.size() : nl + 1;
    AppendLine(out, prefix, text.substr(start, end - start));
    start = end;
  }
}

// What the libgit2 callbacks write to. An exception must not cross libgit2's C frames: it is
// kept here, the diff is aborted, and it is rethrown once git_diff_buffers has returned.
struct Emitter {
  std::string* out;
  std::exception_ptr error;
};

int OnHunk(const git_diff_delta* /*delta*/, const git_diff_hunk* hunk, void* payload) {
  auto* emitter = static_cast<Emitter*>(payload);
  try {
    *emitter->out += "@@ -" + Range(static_cast<std::size_t>(hunk->old_start), hunk->old_lines) +
                     " +" + Range(static_cast<std::size_t>(hunk->new_start), hunk->new_lines) +
                     " @@\n";
  } catch (...) {
    emitter->error = std::current_exception();
    return -1;
  }
  return 0;
}

int OnLine(const git_diff_delta* /*delta*/,
           const git_diff_hunk* /*hunk*/,
           const git_diff_line* line,
           void* payload) {
  // The "No newline" pseudo-lines (CONTEXT_EOFNL, ADD_EOFNL, DEL_EOFNL) are skipped: the marker
  // is written after the line that lacks its newline, which keeps the GNU placement.
  if (line->origin != GIT_DIFF_LINE_CONTEXT && line->origin != GIT_DIFF_LINE_ADDITION &&
      line->origin != GIT_DIFF_LINE_DELETION) {
    return 0;
  }
  auto* emitter = static_cast<Emitter*>(payload);
  try {
    AppendLine(*emitter->out, line->origin, std::string_view(line->content, line->content_len));
  } catch (...) {
    emitter->error = std::current_exception();
    return -1;
  }
  return 0;
}

}  // namespace

std::string UnifiedDiff(std::string_view before,
                        std::string_view after,
                        const std::string& before_label,
                        const std::string& after_label,
                        int context) {
  if (before == after) {
    return "";
  }
  std::string out = "--- " + before_label + "\n+++ " + after_label + "\n";
  if (before.empty() || after.empty()) {
    AppendWholeFile(out, before.empty() ? after : before, before.empty() ? '+' : '-');
    return out;
  }
  EnsureLibgit2();
  git_diff_options options = GIT_DIFF_OPTIONS_INIT;
  // Rendered files are text whatever bytes they hold; never "Binary files differ".
  options.flags = GIT_DIFF_FORCE_TEXT;
  options.context_lines = static_cast<std::uint32_t>(std::max(context, 0));
  options.interhunk_lines = 0;
  options.max_size = -1;
  Emitter emitter{.out = &out, .error = nullptr};
  const int rc = git_diff_buffers(before.data(), before.size(), nullptr, after.data(), after.size(),
                                  nullptr, &options, nullptr, nullptr, OnHunk, OnLine, &emitter);
  if (emitter.error) {
    std::rethrow_exception(emitter.error);
  }
  if (rc < 0) {
    const git_error* error = git_error_last();
    throw std::runtime_error(std::string("diff failed: ") +
                             (error != nullptr ? error->message : "libgit2 error"));
  }
  return out;
}

std::string FileDiff(const std::string& path,
                     std::string_view before,
                     std::string_view after,
                     bool before_exists,
                     bool after_exists) {
  return UnifiedDiff(before, after, before_exists ? "a/" + path : "/dev/null",
                     after_exists ? "b/" + path : "/dev/null");
}

}  // namespace obsforge::apply
