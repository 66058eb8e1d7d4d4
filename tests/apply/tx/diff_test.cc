#include "apply/diff.h"

#include <string>

#include <gtest/gtest.h>

namespace obsforge::apply {
namespace {

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

}  // namespace
}  // namespace obsforge::apply
