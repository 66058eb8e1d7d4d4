#include "notify/damper.h"

#include <gtest/gtest.h>

namespace obsforge::notify {
namespace {

using std::chrono::seconds;
using Pair = std::pair<std::string, std::string>;

const FlapDamper::TimePoint t0{seconds(1000)};

TEST(FlapDamper, AtMostOneFailureMessagePerWindowAndTheLastStateWins) {
  FlapDamper damper({.flap_window = seconds(60)});
  EXPECT_TRUE(damper.Offer("demo/dev", "degraded", false, t0));
  EXPECT_FALSE(damper.Offer("demo/dev", "down", false, t0 + seconds(10)));
  EXPECT_TRUE(damper.Offer("demo/prod", "down", false, t0 + seconds(10)));  // keys are independent
  EXPECT_TRUE(damper.Due(t0 + seconds(59)).empty());
  EXPECT_EQ(damper.Due(t0 + seconds(60)), (std::vector<Pair>{{"demo/dev", "down"}}));
  EXPECT_TRUE(damper.Due(t0 + seconds(200)).empty());
}

TEST(FlapDamper, ARecoveryWaitsItsOwnHoldNotTheFlapWindow) {
  FlapDamper damper({.flap_window = seconds(300), .recovery_hold = seconds(15)});
  EXPECT_TRUE(damper.Offer("k", "degraded", false, t0));
  EXPECT_FALSE(damper.Offer("k", "ok", true, t0 + seconds(20)));
  EXPECT_TRUE(damper.Due(t0 + seconds(34)).empty());
  EXPECT_EQ(damper.Due(t0 + seconds(35)), (std::vector<Pair>{{"k", "ok"}}));
}

TEST(FlapDamper, AFlapBackWithinTheHoldSendsNothingMore) {
  FlapDamper damper({.flap_window = seconds(60), .recovery_hold = seconds(15)});
  EXPECT_TRUE(damper.Offer("k", "degraded", false, t0));
  EXPECT_FALSE(damper.Offer("k", "ok", true, t0 + seconds(1)));
  EXPECT_FALSE(damper.Offer("k", "degraded", false, t0 + seconds(2)));
  EXPECT_TRUE(damper.Due(t0 + seconds(100)).empty());
  EXPECT_FALSE(damper.Offer("k", "ok", true, t0 + seconds(101)));
  EXPECT_EQ(damper.Due(t0 + seconds(116)), (std::vector<Pair>{{"k", "ok"}}));
}

TEST(FlapDamper, AKeyWithItsOwnPolicyIsDampedByIt) {
  FlapDamper damper({.flap_window = seconds(300)});
  damper.SetPolicy("fast", {.flap_window = seconds(10)});
  damper.SetPolicy("off", {.flap_window = seconds(0)});
  for (const std::string key : {"fast", "slow", "off"}) {
    EXPECT_TRUE(damper.Offer(key, "degraded", false, t0)) << key;
    EXPECT_EQ(damper.Offer(key, "down", false, t0 + seconds(1)), key == "off") << key;
  }
  EXPECT_EQ(damper.Due(t0 + seconds(10)), (std::vector<Pair>{{"fast", "down"}}));
  EXPECT_EQ(damper.Due(t0 + seconds(300)), (std::vector<Pair>{{"slow", "down"}}));
}

TEST(FlapDamper, ZeroWindowAndHoldNeverHold) {
  FlapDamper damper({.flap_window = seconds(0)});
  EXPECT_TRUE(damper.Offer("k", "degraded", false, t0));
  EXPECT_TRUE(damper.Offer("k", "ok", true, t0));
  EXPECT_FALSE(damper.Offer("k", "ok", true, t0));  // nothing new to say
}

}  // namespace
}  // namespace obsforge::notify
