#include "gitops/git_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/fs.h"
#include "gitops/test_repo.h"
#include <sys/stat.h>

namespace obsforge::gitops {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;
using testing::TestRepo;

// Every entry under `dir`: relative path -> content (files), "-> target" (links), "/" (dirs).
std::map<std::string, std::string> Listing(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::end(it); ++it) {
    const std::string rel = it->path().lexically_relative(dir).generic_string();
    if (it->is_symlink()) {
      out[rel] = "-> " + fs::read_symlink(it->path()).string();
    } else if (it->is_directory()) {
      out[rel] = "/";
    } else {
      out[rel] = core::ReadFile(it->path());
    }
  }
  return out;
}

mode_t Mode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

class GitSourceTest : public ::testing::Test {
 protected:
  GitSourceOptions Options(int keep = 5) {
    return {.url = remote_.Url(),
            .branch = "main",
            .cache_dir = tmp_.path() / "cache",
            .keep_checkouts = keep};
  }
  TempDir tmp_;
  TestRepo remote_{tmp_.path() / "remote.git"};
};

TEST_F(GitSourceTest, FetchReturnsTheBranchHead) {
  remote_.Commit({{"a.txt", "1"}}, "first");
  const std::string sha =
      remote_.Commit({{"a.txt", "2"}}, "Add the demo stack\n\nIt has Prometheus only.\n");
  GitSource source(Options());
  const auto head = source.Fetch();
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->sha, sha);
  EXPECT_EQ(head->author_name, "Ada Lovelace");
  EXPECT_EQ(head->author_email, "ada@example.com");
  EXPECT_EQ(head->summary, "Add the demo stack");
  EXPECT_EQ(head->message, "Add the demo stack\n\nIt has Prometheus only.\n");
  EXPECT_EQ(head->time, std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)));
}

TEST_F(GitSourceTest, PlainPathRemoteWorksToo) {
  const std::string sha = remote_.Commit({{"a.txt", "1"}}, "first");
  auto options = Options();
  options.url = remote_.dir().string();
  GitSource source(options);
  const auto head = source.Fetch();
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->sha, sha);
}

TEST_F(GitSourceTest, CheckoutHoldsExactlyTheCommitsFilesReadOnly) {
  remote_.Commit({{"old.yaml", "gone later"}}, "first");
  const std::string sha = remote_.Commit({{"stacks/demo.yaml", "kind: Stack\n"},
                                          {"alerts/demo/rules.yaml", "groups: []\n"},
                                          {"bin/tool.sh@x", "#!/bin/sh\n"},
                                          {"link.yaml@l", "stacks/demo.yaml"},
                                          {"empty.txt", ""}},
                                         "second");
  GitSource source(Options());
  ASSERT_TRUE(source.Fetch().ok());
  const auto dir = source.Checkout(sha);
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  EXPECT_EQ(*dir, tmp_.path() / "cache" / "checkouts" / sha);
  EXPECT_EQ(Listing(*dir), (std::map<std::string, std::string>{
                               {"alerts", "/"},
                               {"alerts/demo", "/"},
                               {"alerts/demo/rules.yaml", "groups: []\n"},
                               {"bin", "/"},
                               {"bin/tool.sh", "#!/bin/sh\n"},
                               {"empty.txt", ""},
                               {"link.yaml", "-> stacks/demo.yaml"},
                               {"stacks", "/"},
                               {"stacks/demo.yaml", "kind: Stack\n"},
                           }));
  EXPECT_EQ(Mode(*dir / "stacks/demo.yaml"), 0444);
  EXPECT_EQ(Mode(*dir / "bin/tool.sh"), 0555);
  EXPECT_EQ(Mode(*dir / "stacks"), 0555);
  EXPECT_EQ(Mode(*dir), 0555);
  EXPECT_TRUE(fs::exists(tmp_.path() / "cache" / "checkouts" / (sha + ".complete")));
}

TEST_F(GitSourceTest, CompleteCheckoutIsReusedAndIncompleteOneRebuilt) {
  const std::string sha = remote_.Commit({{"a.txt", "A"}}, "first");
  GitSource source(Options());
  ASSERT_TRUE(source.Fetch().ok());
  // Left by a crash before the marker was written: must not be trusted.
  const fs::path stale = tmp_.path() / "cache" / "checkouts" / sha;
  fs::create_directories(stale);
  core::WriteFileAtomic(stale / "junk.txt", "junk");
  const auto first = source.Checkout(sha);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(Listing(*first), (std::map<std::string, std::string>{{"a.txt", "A"}}));
  const auto inode = fs::status(*first / "a.txt").permissions();
  const auto second = source.Checkout(sha);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(fs::status(*second / "a.txt").permissions(), inode);
  // A fresh GitSource over the same cache reuses the marker-backed checkout.
  GitSource again(Options());
  const auto third = again.Checkout(sha);
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(Listing(*third), (std::map<std::string, std::string>{{"a.txt", "A"}}));
}

TEST_F(GitSourceTest, OldCheckoutsArePrunedKeepingTheNewest) {
  GitSource source(Options(/*keep=*/2));
  std::vector<std::string> shas;
  for (int i = 0; i < 3; ++i) {
    shas.push_back(remote_.Commit({{"n.txt", std::to_string(i)}}, "c" + std::to_string(i)));
    ASSERT_TRUE(source.Fetch().ok());
    ASSERT_TRUE(source.Checkout(shas.back()).ok());
  }
  const fs::path checkouts = tmp_.path() / "cache" / "checkouts";
  EXPECT_FALSE(fs::exists(checkouts / shas[0]));
  EXPECT_FALSE(fs::exists(checkouts / (shas[0] + ".complete")));
  EXPECT_TRUE(fs::exists(checkouts / shas[1] / "n.txt"));
  EXPECT_TRUE(fs::exists(checkouts / shas[2] / "n.txt"));
}

TEST_F(GitSourceTest, ForcePushRewindingTheBranchGivesTheNewHead) {
  const std::string a = remote_.Commit({{"v.txt", "a"}}, "a");
  const std::string b = remote_.Commit({{"v.txt", "b"}}, "b");
  GitSource source(Options());
  ASSERT_EQ(source.Fetch()->sha, b);
  remote_.ResetBranch(a);
  const auto rewound = source.Fetch();
  ASSERT_TRUE(rewound.ok()) << rewound.error().message;
  EXPECT_EQ(rewound->sha, a);
  const std::string c = remote_.CommitOn(a, {{"v.txt", "c"}}, "c replaces b");
  const auto head = source.Fetch();
  ASSERT_TRUE(head.ok()) << head.error().message;
  EXPECT_EQ(head->sha, c);
  const auto dir = source.Checkout(c);
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(core::ReadFile(*dir / "v.txt"), "c");
}

TEST_F(GitSourceTest, MissingBranchIsNotFound) {
  remote_.Commit({{"a.txt", "1"}}, "first");
  auto options = Options();
  options.branch = "release";
  GitSource source(options);
  const auto head = source.Fetch();
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(head.error().message, "branch 'release' not found in " + remote_.Url());
}

TEST_F(GitSourceTest, UnknownCommitIsNotFound) {
  remote_.Commit({{"a.txt", "1"}}, "first");
  GitSource source(Options());
  ASSERT_TRUE(source.Fetch().ok());
  const std::string sha(40, 'e');
  const auto dir = source.Checkout(sha);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().code, core::ErrorCode::kNotFound);
  EXPECT_THAT(dir.error().message, HasSubstr("commit " + sha + " not found: "));
  EXPECT_EQ(source.Checkout("../../etc").error().message, "not a commit sha: '../../etc'");
}

TEST_F(GitSourceTest, FetchErrorsNeverShowTheToken) {
  auto options = Options();
  options.url = "http://deploy:s3cr3t-url-token@127.0.0.1:1/obs.git";
  options.token = core::Secret("s3cr3t-option-token");
  GitSource source(options);
  const auto head = source.Fetch();
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, core::ErrorCode::kUpstream);
  EXPECT_THAT(head.error().message,
              HasSubstr("fetch of http://<secret>@127.0.0.1:1/obs.git failed: "));
  EXPECT_THAT(head.error().message, Not(HasSubstr("s3cr3t")));
}

TEST_F(GitSourceTest, MissingLocalRemoteIsAnUpstreamError) {
  auto options = Options();
  options.url = "file://" + (tmp_.path() / "nowhere.git").string();
  GitSource source(options);
  const auto head = source.Fetch();
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, core::ErrorCode::kUpstream);
  EXPECT_THAT(head.error().message, HasSubstr("fetch of " + options.url + " failed: "));
}

TEST(RedactUrlTest, HidesUserInfoOnly) {
  EXPECT_EQ(RedactUrl("https://x-access-token:abc@github.com/o/r.git"),
            "https://<secret>@github.com/o/r.git");
  EXPECT_EQ(RedactUrl("ssh://git@host/o/r.git"), "ssh://<secret>@host/o/r.git");
  EXPECT_EQ(RedactUrl("https://github.com/o/r.git"), "https://github.com/o/r.git");
  EXPECT_EQ(RedactUrl("https://github.com/o/r@v1.git"), "https://github.com/o/r@v1.git");
  EXPECT_EQ(RedactUrl("/srv/git/obs.git"), "/srv/git/obs.git");
}

}  // namespace
}  // namespace obsforge::gitops
