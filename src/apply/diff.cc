#include "apply/diff.h"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace obsforge::apply {
namespace {

// A line keeps its '\n' so that "x" (last line, no newline) and "x\n" compare different, which
// is what makes the "No newline" marker come out right.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    const auto end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

enum class OpKind { kEqual, kDelete, kInsert };

struct Op {
  OpKind kind;
  std::string_view line;
  std::size_t a_pos;  // lines of `a` consumed before this op
  std::size_t b_pos;  // lines of `b` consumed before this op
};

// Myers' O(ND) greedy algorithm, keeping each round's frontier for the backtrack.
std::vector<Op> EditScript(const std::vector<std::string_view>& a,
                           const std::vector<std::string_view>& b) {
  const auto n = static_cast<std::ptrdiff_t>(a.size());
  const auto m = static_cast<std::ptrdiff_t>(b.size());
  const std::ptrdiff_t max = n + m;
  const std::ptrdiff_t offset = max + 1;
  std::vector<std::ptrdiff_t> v(static_cast<std::size_t>(2 * max + 3), 0);
  std::vector<std::vector<std::ptrdiff_t>> trace;
  auto at = [&](std::vector<std::ptrdiff_t>& vec, std::ptrdiff_t k) -> std::ptrdiff_t& {
    return vec[static_cast<std::size_t>(k + offset)];
  };
  std::ptrdiff_t final_d = 0;
  bool done = false;
  for (std::ptrdiff_t d = 0; d <= max && !done; ++d) {
    trace.push_back(v);
    for (std::ptrdiff_t k = -d; k <= d; k += 2) {
      std::ptrdiff_t x = 0;
      if (k == -d || (k != d && at(v, k - 1) < at(v, k + 1))) {
        x = at(v, k + 1);
      } else {
        x = at(v, k - 1) + 1;
      }
      std::ptrdiff_t y = x - k;
      while (x < n && y < m && a[static_cast<std::size_t>(x)] == b[static_cast<std::size_t>(y)]) {
        ++x;
        ++y;
      }
      at(v, k) = x;
      if (x >= n && y >= m) {
        final_d = d;
        done = true;
        break;
      }
    }
  }

  std::vector<Op> reversed;
  std::ptrdiff_t x = n;
  std::ptrdiff_t y = m;
  for (std::ptrdiff_t d = final_d; d >= 0; --d) {
    auto& vd = trace[static_cast<std::size_t>(d)];
    const std::ptrdiff_t k = x - y;
    std::ptrdiff_t prev_k = 0;
    if (d == 0) {
      prev_k = 0;
    } else if (k == -d || (k != d && at(vd, k - 1) < at(vd, k + 1))) {
      prev_k = k + 1;
    } else {
      prev_k = k - 1;
    }
    const std::ptrdiff_t prev_x = d == 0 ? 0 : at(vd, prev_k);
    const std::ptrdiff_t prev_y = prev_x - prev_k;
    while (x > prev_x && y > prev_y) {
      --x;
      --y;
      reversed.push_back({OpKind::kEqual, a[static_cast<std::size_t>(x)],
                          static_cast<std::size_t>(x), static_cast<std::size_t>(y)});
    }
    if (d == 0) {
      break;
    }
    if (x == prev_x) {
      --y;
      reversed.push_back({OpKind::kInsert, b[static_cast<std::size_t>(y)],
                          static_cast<std::size_t>(x), static_cast<std::size_t>(y)});
    } else {
      --x;
      reversed.push_back({OpKind::kDelete, a[static_cast<std::size_t>(x)],
                          static_cast<std::size_t>(x), static_cast<std::size_t>(y)});
    }
  }
  std::reverse(reversed.begin(), reversed.end());
  return reversed;
}

std::string Range(std::size_t pos, std::size_t count) {
  // GNU diff: a one-line range is just its line number; an empty one names the line before it.
  const auto start = count == 0 ? pos : pos + 1;
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

}  // namespace

std::string UnifiedDiff(std::string_view before,
                        std::string_view after,
                        const std::string& before_label,
                        const std::string& after_label,
                        int context) {
  if (before == after) {
    return "";
  }
  const auto a = SplitLines(before);
  const auto b = SplitLines(after);
  const auto ops = EditScript(a, b);
  const auto ctx = static_cast<std::size_t>(std::max(context, 0));

  std::string out = "--- " + before_label + "\n+++ " + after_label + "\n";
  std::size_t i = 0;
  while (i < ops.size()) {
    while (i < ops.size() && ops[i].kind == OpKind::kEqual) {
      ++i;
    }
    if (i == ops.size()) {
      break;
    }
    const std::size_t first_change = i;
    std::size_t last_change = i;
    // Extend while the next change is close enough that the two hunks' context would touch.
    for (std::size_t j = i + 1; j < ops.size(); ++j) {
      if (ops[j].kind == OpKind::kEqual) {
        continue;
      }
      if (j - last_change - 1 > 2 * ctx) {
        break;
      }
      last_change = j;
    }
    const std::size_t begin = first_change >= ctx ? first_change - ctx : 0;
    const std::size_t end = std::min(ops.size(), last_change + ctx + 1);
    std::size_t a_count = 0;
    std::size_t b_count = 0;
    for (std::size_t j = begin; j < end; ++j) {
      a_count += ops[j].kind != OpKind::kInsert ? 1 : 0;
      b_count += ops[j].kind != OpKind::kDelete ? 1 : 0;
    }
    out += "@@ -" + Range(ops[begin].a_pos, a_count) + " +" + Range(ops[begin].b_pos, b_count) +
           " @@\n";
    for (std::size_t j = begin; j < end; ++j) {
      const char prefix =
          ops[j].kind == OpKind::kEqual ? ' ' : (ops[j].kind == OpKind::kDelete ? '-' : '+');
      AppendLine(out, prefix, ops[j].line);
    }
    i = end;
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
