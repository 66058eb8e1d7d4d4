#include "apply/diff.h"

#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace obsforge::apply {
namespace {

// The lines of `text`, each with its '\n' (the last one may lack it).
std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    const auto end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.emplace_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

// A hunk header's numbers: "@@ -s[,c] +s[,c] @@" (a missing count is 1).
struct HunkHeader {
  std::size_t old_start = 0, old_count = 1, new_start = 0, new_count = 1;
};

HunkHeader ParseHunkHeader(const std::string& line) {
  HunkHeader h;
  const auto number = [&](std::size_t& pos) {
    std::size_t value = 0;
    while (pos < line.size() && line[pos] >= '0' && line[pos] <= '9') {
      value = value * 10 + static_cast<std::size_t>(line[pos++] - '0');
    }
    return value;
  };
  std::size_t pos = 4;  // after "@@ -"
  h.old_start = number(pos);
  if (line[pos] == ',') {
    h.old_count = number(++pos);
  }
  pos += 2;  // " +"
  h.new_start = number(pos);
  if (line[pos] == ',') {
    h.new_count = number(++pos);
  }
  EXPECT_EQ(line.substr(pos), " @@\n") << line;
  return h;
}

// Applies `diff` (as UnifiedDiff writes it) to `before`, checking every context and deleted line
// against `before` and every hunk header against its lines, as `patch` would.
std::string ApplyDiff(std::string_view before, const std::string& diff) {
  const auto old_lines = Lines(before);
  const auto lines = Lines(diff);
  if (lines.empty()) {
    return std::string(before);
  }
  EXPECT_GE(lines.size(), 3U);
  EXPECT_EQ(lines[0].rfind("--- ", 0), 0U);
  EXPECT_EQ(lines[1].rfind("+++ ", 0), 0U);
  std::string out;
  std::size_t written = 0;  // lines of `out`
  std::size_t next = 0;     // lines of `before` consumed
  std::size_t i = 2;
  while (i < lines.size()) {
    EXPECT_EQ(lines[i].rfind("@@ -", 0), 0U) << "line " << i << ": " << lines[i];
    if (lines[i].rfind("@@ -", 0) != 0) {
      return out;
    }
    const auto h = ParseHunkHeader(lines[i++]);
    const std::size_t start = h.old_count == 0 ? h.old_start : h.old_start - 1;
    EXPECT_GE(start, next) << "hunks out of order";
    EXPECT_EQ(h.new_count == 0 ? h.new_start : h.new_start - 1, written + (start - next));
    for (; next < start && next < old_lines.size(); ++next, ++written) {
      out += old_lines[next];
    }
    std::size_t old_seen = 0;
    std::size_t new_seen = 0;
    while (i < lines.size() && lines[i].rfind("@@ ", 0) != 0) {
      const char op = lines[i][0];
      std::string text = lines[i].substr(1);
      ++i;
      if (i < lines.size() && lines[i] == "\\ No newline at end of file\n") {
        text.pop_back();
        ++i;
      }
      if (op == ' ' || op == '-') {
        EXPECT_LT(next, old_lines.size());
        EXPECT_EQ(next < old_lines.size() ? old_lines[next] : "", text) << "at old line " << next;
        ++next;
        ++old_seen;
      }
      if (op == ' ' || op == '+') {
        out += text;
        ++new_seen;
        ++written;
      }
      EXPECT_TRUE(op == ' ' || op == '-' || op == '+') << "bad line " << text;
    }
    EXPECT_EQ(old_seen, h.old_count);
    EXPECT_EQ(new_seen, h.new_count);
  }
  for (; next < old_lines.size(); ++next) {
    out += old_lines[next];
  }
  return out;
}

// Numbered lines "<prefix><i>\n" for i in [0, n).
std::string Numbered(const std::string& prefix, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += prefix + std::to_string(i) + "\n";
  }
  return out;
}

TEST(UnifiedDiff, EqualTextsGiveNothing) {
  EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\n", "a/x", "b/x"), "");
  EXPECT_EQ(UnifiedDiff("", "", "a/x", "b/x"), "");
}

TEST(UnifiedDiff, OneLineChangedInTheMiddleWithThreeLinesOfContext) {
  const std::string before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  const std::string after = "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n";
  EXPECT_EQ(UnifiedDiff(before, after, "a/f.yml", "b/f.yml"),
            "--- a/f.yml\n"
            "+++ b/f.yml\n"
            "@@ -2,7 +2,7 @@\n"
            " 2\n"
            " 3\n"
            " 4\n"
            "-5\n"
            "+FIVE\n"
            " 6\n"
            " 7\n"
            " 8\n");
}

TEST(UnifiedDiff, DistantChangesMakeTwoHunks) {
  std::string before;
  for (int i = 1; i <= 20; ++i) {
    before += std::to_string(i) + "\n";
  }
  std::string after = before;
  after.replace(after.find("2\n"), 2, "two\n");
  after.replace(after.find("\n19\n") + 1, 3, "nineteen\n");
  EXPECT_EQ(UnifiedDiff(before, after, "a/n", "b/n"),
            "--- a/n\n"
            "+++ b/n\n"
            "@@ -1,5 +1,5 @@\n"
            " 1\n"
            "-2\n"
            "+two\n"
            " 3\n"
            " 4\n"
            " 5\n"
            "@@ -16,5 +16,5 @@\n"
            " 16\n"
            " 17\n"
            " 18\n"
            "-19\n"
            "+nineteen\n"
            " 20\n");
}

TEST(UnifiedDiff, ChangesSixLinesApartShareOneHunk) {
  const std::string before = "a\nb\nc\nd\ne\nf\ng\nh\n";
  const std::string after = "A\nb\nc\nd\ne\nf\ng\nH\n";
  EXPECT_EQ(UnifiedDiff(before, after, "a/f", "b/f"),
            "--- a/f\n+++ b/f\n@@ -1,8 +1,8 @@\n-a\n+A\n b\n c\n d\n e\n f\n g\n-h\n+H\n");
}

TEST(UnifiedDiff, AddedFileFromDevNull) {
  EXPECT_EQ(FileDiff("prometheus/prometheus.yml", "", "a: 1\nb: 2\n", false, true),
            "--- /dev/null\n+++ b/prometheus/prometheus.yml\n@@ -0,0 +1,2 @@\n+a: 1\n+b: 2\n");
}

TEST(UnifiedDiff, RemovedFileToDevNull) {
  EXPECT_EQ(FileDiff("x.yml", "only\n", "", true, false),
            "--- a/x.yml\n+++ /dev/null\n@@ -1 +0,0 @@\n-only\n");
}

TEST(UnifiedDiff, InsertionAtStartNamesLineZero) {
  EXPECT_EQ(UnifiedDiff("b\n", "a\nb\n", "a/f", "b/f"),
            "--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n+a\n b\n");
}

TEST(UnifiedDiff, NoNewlineAtEndOfFile) {
  EXPECT_EQ(UnifiedDiff("a\nb", "a\nb\n", "a/f", "b/f"),
            "--- a/f\n"
            "+++ b/f\n"
            "@@ -1,2 +1,2 @@\n"
            " a\n"
            "-b\n"
            "\\ No newline at end of file\n"
            "+b\n");
  EXPECT_EQ(UnifiedDiff("x\n", "y", "a/f", "b/f"),
            "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x\n+y\n\\ No newline at end of file\n");
}

TEST(UnifiedDiff, UnchangedLastLineWithoutNewlineIsMarkedInContext) {
  EXPECT_EQ(UnifiedDiff("a\nz", "b\nz", "a/f", "b/f"),
            "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\n+b\n z\n\\ No newline at end of file\n");
}

TEST(UnifiedDiff, DeletionsComeBeforeInsertionsInAReplacedBlock) {
  EXPECT_EQ(UnifiedDiff("k\nold1\nold2\nk2\n", "k\nnew1\nk2\n", "a/f", "b/f"),
            "--- a/f\n+++ b/f\n@@ -1,4 +1,3 @@\n k\n-old1\n-old2\n+new1\n k2\n");
}

TEST(UnifiedDiff, ZeroContext) {
  EXPECT_EQ(UnifiedDiff("a\nb\nc\n", "a\nB\nc\n", "a/f", "b/f", 0),
            "--- a/f\n+++ b/f\n@@ -2 +2 @@\n-b\n+B\n");
}

TEST(UnifiedDiff, LargeInputsStayMinimal) {
  std::string before;
  std::string after;
  for (int i = 0; i < 3000; ++i) {
    before += "line " + std::to_string(i) + "\n";
    after += (i == 1500 ? "changed\n" : "line " + std::to_string(i) + "\n");
  }
  const auto diff = UnifiedDiff(before, after, "a/f", "b/f");
  EXPECT_EQ(diff,
            "--- a/f\n+++ b/f\n@@ -1498,7 +1498,7 @@\n line 1497\n line 1498\n line 1499\n"
            "-line 1500\n+changed\n line 1501\n line 1502\n line 1503\n");
}

TEST(UnifiedDiff, AddedOrRemovedFileIsOneHunkWithEveryLine) {
  const std::string text = Numbered("x", 20000) + "last";
  const auto added = FileDiff("big.json", "", text, false, true);
  EXPECT_EQ(added.rfind("--- /dev/null\n+++ b/big.json\n@@ -0,0 +1,20001 @@\n+x0\n+x1\n", 0), 0U);
  EXPECT_TRUE(added.ends_with("+x19999\n+last\n\\ No newline at end of file\n"));
  EXPECT_EQ(ApplyDiff("", added), text);
  const auto removed = FileDiff("big.json", text, "", true, false);
  EXPECT_EQ(removed.rfind("--- a/big.json\n+++ /dev/null\n@@ -1,20001 +0,0 @@\n-x0\n", 0), 0U);
  EXPECT_EQ(ApplyDiff(text, removed), "");
}

TEST(UnifiedDiff, EmptyFileAddedOrRemovedHasNoDiff) {
  EXPECT_EQ(FileDiff("empty", "", "", false, true), "");
  EXPECT_EQ(FileDiff("empty", "", "", true, false), "");
}

TEST(UnifiedDiff, ContentWithNulBytesIsStillDiffedAsText) {
  using std::string_literals::operator""s;
  EXPECT_EQ(UnifiedDiff("a\n\0b\nc\n"s, "a\n\0B\nc\n"s, "a/f", "b/f"),
            "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-\0b\n+\0B\n c\n"s);
}

// Random small texts over a tiny alphabet (many equal lines, so many ambiguous scripts), random
// edits, every context width: each diff must apply to give the new text exactly.
TEST(UnifiedDiff, RandomEditsApplyBackExactly) {
  std::mt19937 rng(20261207);  // NOLINT(cert-msc32-c,cert-msc51-cpp): fixed seed, reproducible
  const auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const auto random_line = [&] { return std::string(1, static_cast<char>('a' + pick(4))) + "\n"; };
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::string> lines(static_cast<std::size_t>(pick(30)));
    for (auto& line : lines) {
      line = random_line();
    }
    std::string before;
    for (const auto& line : lines) {
      before += line;
    }
    for (int edits = pick(6); edits > 0; --edits) {
      const auto at = static_cast<std::size_t>(pick(static_cast<int>(lines.size()) + 1));
      const int kind = pick(3);
      if (kind == 0 || lines.empty() || at == lines.size()) {
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), random_line());
      } else if (kind == 1) {
        lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(at));
      } else {
        lines[at] = random_line();
      }
    }
    std::string after;
    for (const auto& line : lines) {
      after += line;
    }
    // Sometimes one side lacks its final newline.
    if (pick(4) == 0 && !before.empty()) {
      before.pop_back();
    }
    if (pick(4) == 0 && !after.empty()) {
      after.pop_back();
    }
    const int context = pick(5);
    const auto diff = UnifiedDiff(before, after, "a/f", "b/f", context);
    EXPECT_EQ(diff.empty(), before == after);
    ASSERT_EQ(ApplyDiff(before, diff), after)
        << "round " << round << ", context " << context << "\n"
        << diff;
  }
}

// The old diff kept one copy of the Myers frontier per edit step: two 50,000-line files with
// scattered changes needed gigabytes. Completing here (the suite runs with the machine's normal
// memory) is the regression test; bench/diff_bench measures time and peak RSS.
TEST(UnifiedDiff, FiftyThousandLineFilesWithScatteredChanges) {
  const std::string before = Numbered("line ", 50000);
  std::string after;
  int changed = 0;
  for (int i = 0; i < 50000; ++i) {
    if (i % 500 == 250) {
      after += "edited " + std::to_string(i) + "\n";
      ++changed;
    } else if (i % 500 != 100) {  // and every 500th line removed
      after += "line " + std::to_string(i) + "\n";
    }
  }
  const auto diff = UnifiedDiff(before, after, "a/f", "b/f");
  EXPECT_EQ(ApplyDiff(before, diff), after);
  int removed = 0;
  int added = 0;
  for (const auto& line : Lines(diff)) {
    removed += line[0] == '-' && line.rfind("--- ", 0) != 0 ? 1 : 0;
    added += line[0] == '+' && line.rfind("+++ ", 0) != 0 ? 1 : 0;
  }
  EXPECT_EQ(added, changed);
  EXPECT_EQ(removed, changed + 100);
}

TEST(UnifiedDiff, FiftyThousandLineFilesWithNothingInCommon) {
  const std::string before = Numbered("old ", 50000);
  const std::string after = Numbered("new ", 50000);
  const auto diff = UnifiedDiff(before, after, "a/f", "b/f");
  EXPECT_EQ(diff.rfind("--- a/f\n+++ b/f\n@@ -1,50000 +1,50000 @@\n", 0), 0U);
  EXPECT_EQ(ApplyDiff(before, diff), after);
}

// Long files made of few distinct lines are the costly case for Myers' algorithm (every line
// matches many others); xdiff's heuristics keep it bounded, and the result must still be exact.
TEST(UnifiedDiff, FiftyThousandLinesOfFewDistinctValues) {
  std::mt19937 rng(7);  // NOLINT(cert-msc32-c,cert-msc51-cpp): fixed seed, reproducible
  std::string before;
  std::string after;
  for (int i = 0; i < 50000; ++i) {
    before += std::string(1, static_cast<char>('a' + rng() % 3)) + "\n";
    after += std::string(1, static_cast<char>('a' + rng() % 3)) + "\n";
  }
  EXPECT_EQ(ApplyDiff(before, UnifiedDiff(before, after, "a/f", "b/f")), after);
}

}  // namespace
}  // namespace obsforge::apply
