#include "apply/revisions.h"

#include <gtest/gtest.h>

#include "apply/tx/tx_test_util.h"
#include "core/fs.h"
#include <sys/stat.h>

namespace obsforge::apply {
namespace {

namespace fs = std::filesystem;
using testing::MakeBundle;
using testing::TempDir;

render::Bundle Numbered(int i) {
  return MakeBundle({{"prometheus/prometheus.yml", "rev: " + std::to_string(i) + "\n"},
                     {"prometheus/rules/a.yaml", "groups: []\n"},
                     {"MANIFEST.json", "{}\n"}});
}

TEST(RevisionStore, WriteLoadSwapAndLastGood) {
  TempDir dir;
  auto store = RevisionStore::Open(dir.path());
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_FALSE(store->Current());
  EXPECT_FALSE(store->LastGood());

  const auto bundle = Numbered(1);
  auto n = store->Write(bundle);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(core::ReadFile(dir.path() / "revisions/1/prometheus/rules/a.yaml"), "groups: []\n");
  EXPECT_EQ(core::ReadFile(dir.path() / "revisions/1/COMPLETE"), bundle.ContentHash());
  EXPECT_EQ(store->Hash(1), bundle.ContentHash());
  EXPECT_FALSE(store->Current()) << "Write must not move current";

  ASSERT_TRUE(store->SetCurrent(1));
  EXPECT_EQ(store->Current(), 1);
  EXPECT_EQ(fs::read_symlink(dir.path() / "current"), fs::path("revisions/1"));
  EXPECT_EQ(core::ReadFile(dir.path() / "current/prometheus/prometheus.yml"), "rev: 1\n");
  ASSERT_TRUE(store->MarkLastGood(1));
  EXPECT_EQ(store->LastGood(), 1);
  EXPECT_EQ(core::ReadFile(dir.path() / "last_good"), "1\n");

  auto loaded = store->Load(1);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(*loaded, bundle);

  ASSERT_EQ(*store->Write(Numbered(2)), 2);
  ASSERT_TRUE(store->SetCurrent(2));
  EXPECT_EQ(core::ReadFile(dir.path() / "current/prometheus/prometheus.yml"), "rev: 2\n");
  EXPECT_EQ(store->List(), (std::vector<int>{1, 2}));
}

TEST(RevisionStore, LoadRejectsMissingAndCorruptRevisions) {
  TempDir dir;
  auto store = RevisionStore::Open(dir.path());
  ASSERT_TRUE(store);
  auto missing = store->Load(7);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "revision 7 does not exist or is incomplete");

  ASSERT_TRUE(store->Write(Numbered(1)));
  core::WriteFileAtomic(dir.path() / "revisions/1/prometheus/prometheus.yml", "tampered\n");
  auto corrupt = store->Load(1);
  ASSERT_FALSE(corrupt);
  EXPECT_EQ(corrupt.error().message, "revision 1 in " + (dir.path() / "revisions/1").string() +
                                         " does not match its recorded hash");
  EXPECT_FALSE(store->SetCurrent(9));
}

TEST(RevisionStore, ReservedMarkerNameIsRefused) {
  TempDir dir;
  auto store = RevisionStore::Open(dir.path());
  ASSERT_TRUE(store);
  auto n = store->Write(MakeBundle({{"COMPLETE", "x"}}));
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().message, "a bundle may not contain a top-level file named COMPLETE");
  EXPECT_TRUE(store->List().empty());
}

TEST(RevisionStore, OpenDeletesIncompleteRevisionsAndRepointsCurrentAtLastGood) {
  TempDir dir;
  {
    auto store = RevisionStore::Open(dir.path());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->Write(Numbered(1)));
    ASSERT_TRUE(store->SetCurrent(1));
    ASSERT_TRUE(store->MarkLastGood(1));
  }
  // A crash while writing revision 2: files but no COMPLETE, and `current` already moved to it.
  core::WriteFileAtomic(dir.path() / "revisions/2/prometheus/prometheus.yml", "half");
  fs::remove(dir.path() / "current");
  fs::create_symlink("revisions/2", dir.path() / "current");
  core::WriteFileAtomic(dir.path() / "current.tmp.123", "");
  fs::create_directories(dir.path() / "revisions/.trash-0/x");

  auto store = RevisionStore::Open(dir.path());
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_FALSE(fs::exists(dir.path() / "revisions/2"));
  EXPECT_FALSE(fs::exists(dir.path() / "revisions/.trash-0"));
  EXPECT_FALSE(fs::exists(dir.path() / "current.tmp.123"));
  EXPECT_EQ(store->Current(), 1);
  EXPECT_EQ(store->List(), std::vector<int>{1});
  EXPECT_EQ(*store->Write(Numbered(3)), 2) << "numbers of deleted incomplete revisions are reused";
}

// A plan or a status read beside an apply must not "recover" the revision the apply is writing
// (under load, plans answered 500 "does not match its recorded hash" and applies failed with
// "cannot open directory revisions/3/loki").
TEST(RevisionStore, PeekReadsWithoutTouchingARevisionBeingWritten) {
  TempDir dir;
  {
    auto store = RevisionStore::Open(dir.path());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->Write(Numbered(1)));
    ASSERT_TRUE(store->SetCurrent(1));
    ASSERT_TRUE(store->MarkLastGood(1));
  }
  core::WriteFileAtomic(dir.path() / "revisions/2/prometheus/prometheus.yml", "being written");
  const RevisionStore peek = RevisionStore::Peek(dir.path());
  EXPECT_EQ(peek.Current(), 1);
  EXPECT_EQ(peek.LastGood(), 1);
  auto loaded = peek.Load(1);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->ContentHash(), Numbered(1).ContentHash());
  EXPECT_FALSE(peek.Load(2).ok());  // incomplete: never used
  EXPECT_TRUE(fs::exists(dir.path() / "revisions/2/prometheus/prometheus.yml"));
}

TEST(RevisionStore, OpenWithCurrentOnMissingRevisionAndNoLastGoodRemovesCurrent) {
  TempDir dir;
  fs::create_directories(dir.path() / "revisions");
  fs::create_symlink("revisions/5", dir.path() / "current");
  auto store = RevisionStore::Open(dir.path());
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->Current());
  EXPECT_FALSE(fs::is_symlink(fs::symlink_status(dir.path() / "current")));
}

TEST(RevisionStore, PruneKeepsNewestTenPlusLastGood) {
  TempDir dir;
  auto store = RevisionStore::Open(dir.path());
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Write(Numbered(1)));
  ASSERT_TRUE(store->SetCurrent(1));
  ASSERT_TRUE(store->MarkLastGood(1));
  for (int i = 2; i <= 14; ++i) {
    auto n = store->Write(Numbered(i));
    ASSERT_TRUE(n);
    ASSERT_TRUE(store->SetCurrent(*n));
  }
  ASSERT_TRUE(store->Prune());
  EXPECT_EQ(store->List(), (std::vector<int>{1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}));
  ASSERT_TRUE(store->MarkLastGood(14));
  EXPECT_EQ(store->List(), (std::vector<int>{5, 6, 7, 8, 9, 10, 11, 12, 13, 14}));
  EXPECT_EQ(*store->Write(Numbered(15)), 15);
}

}  // namespace
}  // namespace obsforge::apply
