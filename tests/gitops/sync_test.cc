#include "gitops/sync.h"

#include <chrono>
#include <mutex>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/diagnostic.h"
#include "gitops/poller.h"
#include "gitops/test_repo.h"
#include "support/poll_until.h"

namespace obsforge::gitops {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::TempDir;
using testing::TestRepo;
using Outcome = SyncReport::Outcome;

std::string Stack(const std::string& name) {
  return "apiVersion: obsforge/v1\n"
         "kind: Stack\n"
         "metadata: {name: " +
         name +
         "}\n"
         "spec:\n"
         "  components:\n"
         "    prometheus: {enabled: true}\n"
         "  alerts:\n"
         "    - {path: alerts/*.yaml, type: prometheus}\n"
         "  environments:\n"
         "    dev: {runtime: {type: local}}\n"
         "    staging: {runtime: {type: local}}\n"
         "    prod: {runtime: {type: local}}\n";
}

const char* const kRules = "groups: []\n";

struct ApplyCall {
  std::string stack;
  CommitInfo commit;
  std::vector<std::string> apply;
  std::vector<std::string> plan;
  std::string rules;     // alerts/rules.yaml as the content source shows it
  std::string checkout;  // the content source's directory
};

class FakeTarget : public SyncTarget {
 public:
  core::Result<void> ApplyStack(const spec::StackSpec& stack,
                                const spec::ContentSource& content,
                                const CommitInfo& commit,
                                const std::vector<std::string>& apply_envs,
                                const std::vector<std::string>& plan_envs) override {
    applies.push_back({.stack = stack.name,
                       .commit = commit,
                       .apply = apply_envs,
                       .plan = plan_envs,
                       .rules = content.Read("alerts/rules.yaml").value_or("<missing>"),
                       .checkout = content.Directory().value_or("").string()});
    if (stack.name == fail_stack) {
      return core::MakeError(core::ErrorCode::kUpstream, "prometheus refused the config");
    }
    managed.insert(stack.name);
    return {};
  }
  core::Result<void> TeardownStack(const std::string& name, const CommitInfo& commit) override {
    teardowns.push_back(name + "@" + commit.sha);
    managed.erase(name);
    return {};
  }
  std::vector<std::string> ManagedStacks(const std::string& source_key) override {
    EXPECT_EQ(source_key, "test-source");
    return {managed.begin(), managed.end()};
  }

  std::vector<ApplyCall> applies;
  std::vector<std::string> teardowns;
  std::set<std::string> managed;
  std::string fail_stack;
};

class SyncTest : public ::testing::Test {
 protected:
  Syncer MakeSyncer(bool prune = false, RenderCheck check = {}) {
    return Syncer({.source_key = "test-source",
                   .path = "stacks/",
                   .auto_apply = {"dev", "staging"},
                   .prune = prune},
                  source_, target_, state_, std::move(check));
  }
  SourceState State() { return state_.Load("test-source").value(); }

  TempDir tmp_;
  TestRepo remote_{tmp_.path() / "remote.git"};
  GitSource source_{{.url = remote_.Url(), .branch = "main", .cache_dir = tmp_.path() / "cache"}};
  FakeTarget target_;
  InMemorySourceStateStore state_;
};

TEST_F(SyncTest, NewCommitAppliesAutoEnvironmentsAndPlansTheRest) {
  const std::string sha = remote_.Commit(
      {{"stacks/web.yaml", Stack("web")}, {"alerts/rules.yaml", kRules}}, "Add web\n\nbody\n");
  auto syncer = MakeSyncer();
  const auto report = syncer.Sync();
  EXPECT_EQ(report.outcome, Outcome::kApplied) << report.Summary();
  EXPECT_EQ(report.Summary(), sha.substr(0, 7) + " applied: 1 stack");
  EXPECT_THAT(report.applied, ElementsAre("web"));
  ASSERT_EQ(target_.applies.size(), 1U);
  const auto& call = target_.applies[0];
  EXPECT_EQ(call.stack, "web");
  EXPECT_EQ(call.commit.sha, sha);
  EXPECT_EQ(call.commit.author_name, "Ada Lovelace");
  EXPECT_EQ(call.commit.author_email, "ada@example.com");
  EXPECT_EQ(call.commit.summary, "Add web");
  EXPECT_EQ(call.commit.message, "Add web\n\nbody\n");
  EXPECT_THAT(call.apply, ElementsAre("dev", "staging"));
  EXPECT_THAT(call.plan, ElementsAre("prod"));
  EXPECT_EQ(call.rules, kRules);  // the checkout is the stack root
  EXPECT_EQ(call.checkout, (tmp_.path() / "cache" / "checkouts" / sha).string());
  EXPECT_EQ(State(), (SourceState{.last_seen_sha = sha, .last_good_sha = sha}));

  // Same head again: nothing to do.
  const auto again = syncer.Sync();
  EXPECT_EQ(again.outcome, Outcome::kUnchanged);
  EXPECT_EQ(target_.applies.size(), 1U);
  // Forced: applied again.
  EXPECT_EQ(syncer.Sync(/*force=*/true).outcome, Outcome::kApplied);
  EXPECT_EQ(target_.applies.size(), 2U);
}

TEST_F(SyncTest, OnlyYamlFilesDirectlyUnderPathAreStacks) {
  remote_.Commit({{"stacks/a.yaml", Stack("a")},
                  {"stacks/b.yaml", Stack("b")},
                  {"stacks/notes.md", "not a stack"},
                  {"stacks/old/c.yaml", Stack("c")},
                  {"stacks/d.yml", Stack("d")},
                  {"top.yaml", Stack("top")},
                  {"alerts/rules.yaml", kRules}},
                 "several");
  auto syncer = MakeSyncer();
  const auto report = syncer.Sync();
  EXPECT_EQ(report.outcome, Outcome::kApplied) << report.Summary();
  EXPECT_THAT(report.applied, ElementsAre("a", "b"));
}

TEST_F(SyncTest, BrokenCommitAppliesNothingAndKeepsTheLastGood) {
  const std::string good = remote_.Commit(
      {{"stacks/a.yaml", Stack("a")}, {"stacks/b.yaml", Stack("b")}, {"alerts/rules.yaml", kRules}},
      "good");
  auto syncer = MakeSyncer();
  ASSERT_EQ(syncer.Sync().outcome, Outcome::kApplied);
  target_.applies.clear();

  std::string bad_b = Stack("b");
  bad_b.replace(bad_b.find("kind: Stack"), 11, "kind: Stak");
  const std::string broken = remote_.Commit({{"stacks/a.yaml", Stack("a") + "\n# changed\n"},
                                             {"stacks/b.yaml", bad_b},
                                             {"alerts/rules.yaml", kRules}},
                                            "break b");
  const auto report = syncer.Sync();
  EXPECT_EQ(report.outcome, Outcome::kBroken);
  std::vector<std::string> lines;
  for (const auto& d : report.diagnostics) {
    lines.push_back(d.ToString());
  }
  EXPECT_THAT(lines, ElementsAre("stacks/b.yaml:2:7: kind: kind must be \"Stack\""));
  EXPECT_EQ(report.Summary(), broken.substr(0, 7) + " broken: 1 problem, first: " + lines[0]);
  EXPECT_THAT(target_.applies, IsEmpty());  // not even the valid stack a
  EXPECT_THAT(target_.teardowns, IsEmpty());
  EXPECT_EQ(State(), (SourceState{.last_seen_sha = broken, .last_good_sha = good}));
  // Polling the same broken head again does not retry.
  EXPECT_EQ(syncer.Sync().outcome, Outcome::kUnchanged);

  const std::string fixed = remote_.Commit(
      {{"stacks/a.yaml", Stack("a")}, {"stacks/b.yaml", Stack("b")}, {"alerts/rules.yaml", kRules}},
      "fix b");
  const auto next = syncer.Sync();
  EXPECT_EQ(next.outcome, Outcome::kApplied) << next.Summary();
  ASSERT_EQ(target_.applies.size(), 2U);
  EXPECT_EQ(target_.applies[0].commit.sha, fixed);
  EXPECT_EQ(State(), (SourceState{.last_seen_sha = fixed, .last_good_sha = fixed}));
}

TEST_F(SyncTest, RenderFailureInAnyEnvironmentIsBroken) {
  remote_.Commit(
      {{"stacks/a.yaml", Stack("a")}, {"stacks/b.yaml", Stack("b")}, {"alerts/rules.yaml", kRules}},
      "c");
  std::vector<std::string> checked;
  auto syncer =
      MakeSyncer(false, [&](const spec::EnvironmentSpec& env, const spec::ContentSource& content) {
        checked.push_back(env.stack + "/" + env.env);
        EXPECT_TRUE(content.Read("alerts/rules.yaml").has_value());
        if (env.stack == "b" && env.env == "prod") {
          throw core::InputError(core::InputError::Kind::kRender,
                                 core::Diagnostic{.file = "templates/prometheus/main.jsonnet",
                                                  .line = 3,
                                                  .column = 7,
                                                  .message = "field does not exist: foo"});
        }
      });
  const auto report = syncer.Sync();
  EXPECT_EQ(report.outcome, Outcome::kBroken);
  ASSERT_EQ(report.diagnostics.size(), 1U);
  EXPECT_EQ(report.diagnostics[0].ToString(),
            "templates/prometheus/main.jsonnet:3:7: field does not exist: foo");
  EXPECT_THAT(checked, ElementsAre("a/dev", "a/staging", "a/prod", "b/dev", "b/staging", "b/prod"));
  EXPECT_THAT(target_.applies, IsEmpty());
  EXPECT_EQ(State().last_good_sha, "");
}

TEST_F(SyncTest, DuplicateStackNamesAndMissingFolderAreBroken) {
  remote_.Commit({{"stacks/a.yaml", Stack("same")},
                  {"stacks/b.yaml", Stack("same")},
                  {"alerts/rules.yaml", kRules}},
                 "dup");
  auto syncer = MakeSyncer();
  auto report = syncer.Sync();
  EXPECT_EQ(report.outcome, Outcome::kBroken);
  ASSERT_EQ(report.diagnostics.size(), 1U);
  EXPECT_EQ(report.diagnostics[0].ToString(),
            "stacks/b.yaml: metadata.name: stack 'same' is also defined in stacks/a.yaml");

  const std::string moved = remote_.Commit({{"other/a.yaml", Stack("a")}}, "moved away");
  report = syncer.Sync();
  EXPECT_EQ(report.outcome, Outcome::kBroken);
  ASSERT_EQ(report.diagnostics.size(), 1U);
  EXPECT_EQ(report.diagnostics[0].ToString(),
            "stacks: folder 'stacks' does not exist at commit " + moved.substr(0, 7));
  EXPECT_THAT(target_.applies, IsEmpty());
}

TEST_F(SyncTest, ForcePushRewindingTheBranchAppliesTheNewHead) {
  const std::string a =
      remote_.Commit({{"stacks/web.yaml", Stack("web")}, {"alerts/rules.yaml", "# a\n"}}, "a");
  auto syncer = MakeSyncer();
  ASSERT_EQ(syncer.Sync().outcome, Outcome::kApplied);
  remote_.Commit({{"stacks/web.yaml", Stack("web")}, {"alerts/rules.yaml", "# b\n"}}, "b");
  ASSERT_EQ(syncer.Sync().outcome, Outcome::kApplied);
  // b is force-pushed away: c replaces it on top of a.
  const std::string c =
      remote_.CommitOn(a, {{"stacks/web.yaml", Stack("web")}, {"alerts/rules.yaml", "# c\n"}}, "c");
  const auto report = syncer.Sync();
  EXPECT_EQ(report.outcome, Outcome::kApplied) << report.Summary();
  ASSERT_EQ(target_.applies.size(), 3U);
  EXPECT_EQ(target_.applies[2].commit.sha, c);
  EXPECT_EQ(target_.applies[2].rules, "# c\n");
  // A pure rewind to a: a is the head again and is applied (not considered already seen).
  remote_.ResetBranch(a);
  const auto rewound = syncer.Sync();
  EXPECT_EQ(rewound.outcome, Outcome::kApplied);
  ASSERT_EQ(target_.applies.size(), 4U);
  EXPECT_EQ(target_.applies[3].commit.sha, a);
  EXPECT_EQ(target_.applies[3].rules, "# a\n");
  EXPECT_EQ(State(), (SourceState{.last_seen_sha = a, .last_good_sha = a}));
}

TEST_F(SyncTest, RemovedStackIsOrphanedWithoutPrune) {
  remote_.Commit(
      {{"stacks/a.yaml", Stack("a")}, {"stacks/b.yaml", Stack("b")}, {"alerts/rules.yaml", kRules}},
      "two");
  auto syncer = MakeSyncer(/*prune=*/false);
  ASSERT_EQ(syncer.Sync().outcome, Outcome::kApplied);
  remote_.Commit({{"stacks/a.yaml", Stack("a")}, {"alerts/rules.yaml", kRules}}, "drop b");
  const auto report = syncer.Sync();
  EXPECT_EQ(report.outcome, Outcome::kApplied);
  EXPECT_THAT(report.orphaned, ElementsAre("b"));
  EXPECT_THAT(report.torn_down, IsEmpty());
  EXPECT_THAT(target_.teardowns, IsEmpty());
  EXPECT_EQ(report.Summary().substr(8), "applied: 1 stack, 1 orphaned");
}

TEST_F(SyncTest, RemovedStackIsTornDownWithPrune) {
  remote_.Commit(
      {{"stacks/a.yaml", Stack("a")}, {"stacks/b.yaml", Stack("b")}, {"alerts/rules.yaml", kRules}},
      "two");
  auto syncer = MakeSyncer(/*prune=*/true);
  ASSERT_EQ(syncer.Sync().outcome, Outcome::kApplied);
  const std::string drop =
      remote_.Commit({{"stacks/a.yaml", Stack("a")}, {"alerts/rules.yaml", kRules}}, "drop b");
  const auto report = syncer.Sync();
  EXPECT_EQ(report.outcome, Outcome::kApplied);
  EXPECT_THAT(report.torn_down, ElementsAre("b"));
  EXPECT_THAT(report.orphaned, IsEmpty());
  EXPECT_THAT(target_.teardowns, ElementsAre("b@" + drop));
}

TEST_F(SyncTest, FailedApplyIsReportedAndNotMarkedGood) {
  const std::string sha = remote_.Commit(
      {{"stacks/a.yaml", Stack("a")}, {"stacks/b.yaml", Stack("b")}, {"alerts/rules.yaml", kRules}},
      "two");
  target_.fail_stack = "a";
  auto syncer = MakeSyncer();
  const auto report = syncer.Sync();
  EXPECT_EQ(report.outcome, Outcome::kFailed);
  EXPECT_THAT(report.applied, ElementsAre("b"));
  EXPECT_THAT(report.failures, ElementsAre("a: prometheus refused the config"));
  EXPECT_EQ(State(), (SourceState{.last_seen_sha = sha, .last_good_sha = ""}));
}

TEST_F(SyncTest, FetchFailureIsReported) {
  auto syncer = MakeSyncer();  // the remote has no commit yet
  const auto report = syncer.Sync();
  EXPECT_EQ(report.outcome, Outcome::kFailed);
  EXPECT_THAT(report.failures, ElementsAre("fetch: branch 'main' not found in " + remote_.Url()));
  EXPECT_EQ(report.Summary(),
            "(no commit) failed: 0 stacks, 1 failed, first: fetch: branch 'main' not found in " +
                remote_.Url());
}

// The whole loop with real time: a commit pushed while the poller runs is applied within the
// poll interval; a webhook-style TriggerNow applies the next one at once.
TEST_F(SyncTest, PollerAppliesNewCommitsWithinTheInterval) {
  remote_.Commit({{"stacks/a.yaml", Stack("a")}, {"alerts/rules.yaml", kRules}}, "one");
  auto syncer = MakeSyncer();
  std::mutex mu;
  std::vector<std::string> heads;
  core::SystemClock clock;
  Poller poller(
      [&] {
        const auto report = syncer.Sync();
        if (report.outcome == Outcome::kApplied) {
          std::lock_guard lock(mu);
          heads.push_back(report.commit.sha);
        }
      },
      clock, {.interval = 200ms, .recheck = 200ms});
  // Fails the test unless the poller applies `sha`.
  auto applied = [&](const std::string& sha) {
    EXPECT_TRUE(obsforge::testing::PollUntil(
        [&] {
          std::lock_guard lock(mu);
          return !heads.empty() && heads.back() == sha;
        },
        60s))
        << sha << " never applied";
  };
  poller.Start();
  const std::string two =
      remote_.Commit({{"stacks/a.yaml", Stack("a") + "#2\n"}, {"alerts/rules.yaml", kRules}}, "2");
  // Applied by the poller alone, with no trigger (a bound on how soon would time the machine).
  applied(two);
  // Long interval now irrelevant: a trigger applies at once.
  const std::string three =
      remote_.Commit({{"stacks/a.yaml", Stack("a") + "#3\n"}, {"alerts/rules.yaml", kRules}}, "3");
  poller.TriggerNow();
  applied(three);
  poller.Stop();
}

}  // namespace
}  // namespace obsforge::gitops
