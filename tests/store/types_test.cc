#include "store/types.h"

#include <gtest/gtest.h>

namespace obsforge::store {
namespace {

TEST(StoreTypes, NamesRoundTrip) {
  for (int i = 0; i < 8; ++i) {
    const auto kind = static_cast<OperationKind>(i);
    EXPECT_EQ(ParseOperationKind(Name(kind)), kind);
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(ParseOperationState(Name(static_cast<OperationState>(i))),
              static_cast<OperationState>(i));
    EXPECT_EQ(ParseStepState(Name(static_cast<StepState>(i))), static_cast<StepState>(i));
  }
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(ParseObjectKind(Name(static_cast<ObjectKind>(i))), static_cast<ObjectKind>(i));
  }
  EXPECT_EQ(ParseRevisionSource("git"), RevisionSource::kGit);
}

TEST(StoreTypes, WireNames) {
  EXPECT_STREQ(Name(OperationState::kRolledBack), "rolled_back");
  EXPECT_STREQ(Name(OperationKind::kTeardown), "teardown");
  EXPECT_STREQ(Name(ObjectKind::kContactPoint), "contact_point");
  EXPECT_STREQ(Name(ObjectKind::kLokiGroup), "loki_group");
  EXPECT_STREQ(Name(RevisionSource::kApi), "api");
  EXPECT_STREQ(Name(StepState::kSkipped), "skipped");
  EXPECT_EQ(ParseOperationKind("Apply"), std::nullopt);
  EXPECT_EQ(ParseObjectKind(""), std::nullopt);
}

TEST(StoreTypes, TerminalStates) {
  EXPECT_FALSE(IsTerminal(OperationState::kQueued));
  EXPECT_FALSE(IsTerminal(OperationState::kRunning));
  EXPECT_TRUE(IsTerminal(OperationState::kSucceeded));
  EXPECT_TRUE(IsTerminal(OperationState::kFailed));
  EXPECT_TRUE(IsTerminal(OperationState::kRolledBack));
  EXPECT_FALSE(IsTerminal(StepState::kPending));
  EXPECT_TRUE(IsTerminal(StepState::kSkipped));
}

TEST(StoreTypes, TimeConversionIsMilliseconds) {
  const auto t =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1'800'000'000'123));
  EXPECT_EQ(ToTimeMs(t), 1'800'000'000'123);
  EXPECT_EQ(FromTimeMs(1'800'000'000'123), t);
  EXPECT_EQ(ToTimeMs(t + std::chrono::microseconds(999)), 1'800'000'000'123);
}

}  // namespace
}  // namespace obsforge::store
