#pragma once

// A store with some of everything in it, for tests that copy or check whole stores.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "store/store.h"
#include "support/fake_clock.h"

namespace obsforge::store::testing {

/// The rows Populate leaves, over every table.
inline constexpr std::int64_t kPopulatedRows = 2 + 3 + 2 + 4 + 6 + 3 + 2 + 2 + 1 + 1 + 2;

// Fills `s` with some of everything it keeps, including rows since pruned (their ids must not
// come back), text that needs care (quotes, newlines, non-ASCII) and every enum.
inline void Populate(Store& s, obsforge::testing::FakeClock& clock) {
  ASSERT_TRUE(s.CreateStack("alpha", {.spec_json = R"({"a":"it's \"quoted\"\nand ünïcödé ✓"})",
                                      .spec_hash = "h1",
                                      .actor = "alice"}));
  clock.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(s.UpdateSpec("alpha",
                           {.spec_json = "{\"a\":2}",
                            .spec_hash = "h2",
                            .source = RevisionSource::kGit,
                            .commit_sha = "abc123",
                            .commit_author = "Bob <bob@example.com>",
                            .commit_message = "line one\nline two",
                            .actor = "gitops:main"},
                           1));
  ASSERT_TRUE(s.CreateStack("beta", {.spec_json = "{}"}));
  ASSERT_TRUE(s.UpsertEnvironment({.stack = "alpha",
                                   .env = "dev",
                                   .applied_revision = 2,
                                   .last_good_revision = 1,
                                   .bundle_hash = "b2",
                                   .state = "ready",
                                   .message = "ok"}));
  ASSERT_TRUE(s.UpsertEnvironment({.stack = "beta", .env = "prod", .state = "failed"}));
  for (int i = 0; i < 3; ++i) {
    auto op = s.CreateOperation({.kind = OperationKind::kApply,
                                 .stack = "alpha",
                                 .env = "dev",
                                 .revision = 2,
                                 .actor = "alice"});
    ASSERT_TRUE(op);
    ASSERT_TRUE(s.AppendStep(op->id, "render", StepState::kSucceeded));
    auto step = s.AppendStep(op->id, "apply", StepState::kRunning);
    ASSERT_TRUE(step);
    ASSERT_TRUE(s.UpdateStep(op->id, *step, StepState::kFailed, "exit 1: boom"));
    ASSERT_TRUE(s.UpdateOperationState(
        op->id, {.state = OperationState::kFailed, .error = "boom", .result_json = "{\"x\":1}"}));
  }
  ASSERT_TRUE(s.CreateOperation({.kind = OperationKind::kTeardown, .stack = "gone"}));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(s.AppendHealthEvent({.stack = "alpha",
                                     .env = "dev",
                                     .component = "prometheus",
                                     .check = "ready",
                                     .from_state = "ok",
                                     .to_state = "failing",
                                     .at = ToTimeMs(clock.Now()) + i,
                                     .message = "event " + std::to_string(i)}));
  }
  ASSERT_EQ(*s.PruneHealthEvents(ToTimeMs(clock.Now()) + 2), 2);
  ASSERT_TRUE(s.UpsertProvisionedObject({.stack = "alpha",
                                         .env = "dev",
                                         .kind = ObjectKind::kDashboard,
                                         .uid = "dash-1",
                                         .content_hash = "c1",
                                         .remote_version = 7,
                                         .remote_id = 42}));
  ASSERT_TRUE(s.UpsertProvisionedObject(
      {.stack = "alpha", .env = "dev", .kind = ObjectKind::kFolder, .uid = "folder"}));
  std::vector<std::int64_t> outbox;
  for (int i = 0; i < 4; ++i) {
    auto id =
        s.EnqueueOutbox("slack:{secret: HOOK}", "{\"text\":\"m" + std::to_string(i) + "\"}", 0);
    ASSERT_TRUE(id);
    outbox.push_back(*id);
  }
  ASSERT_TRUE(s.MarkOutboxDelivered(outbox[0]));
  ASSERT_TRUE(s.MarkOutboxDropped(outbox[1], "HTTP 404"));
  ASSERT_TRUE(s.MarkOutboxAttempt(outbox[2], ToTimeMs(clock.Now()) + 5000, "HTTP 500"));
  clock.Advance(std::chrono::seconds(10));
  ASSERT_EQ(*s.PruneOutbox(ToTimeMs(clock.Now())), 2);
  const std::int64_t last = *s.EnqueueOutbox("slack:{secret: HOOK}", "{\"text\":\"last\"}", 0);
  ASSERT_TRUE(s.MarkOutboxDelivered(last));
  ASSERT_EQ(*s.PruneOutbox(ToTimeMs(clock.Now()) + 1), 1);  // the largest id is gone
  ASSERT_TRUE(
      s.PutGitState({.source_key = "main", .last_seen_sha = "s1", .last_applied_sha = "s0"}));
  ASSERT_TRUE(s.RecordWebhookDelivery("delivery-1"));
  // Sealed values as the application stores them; one of a stack that does not exist (yet).
  ASSERT_TRUE(
      s.PutSecret({.stack = "alpha", .key = "TOKEN", .sealed = "v1.c2VhbGVk", .key_id = "k1"}));
  ASSERT_TRUE(
      s.PutSecret({.stack = "later", .key = "api.key", .sealed = "v1.b3RoZXI=", .key_id = "k1"}));
}

}  // namespace obsforge::store::testing
