#include "notify/damper.h"

#include <gtest/gtest.h>

namespace obsforge::notify {
namespace {

using std::chrono::seconds;
using Pair = std::pair<std::string, std::string>;

TEST(FlapDamper, AtMostOneMessagePerWindowAndTheLastStateWins) {
  FlapDamper damper(seconds(60));
  const FlapDamper::TimePoint t0{seconds(1000)};
  EXPECT_TRUE(damper.Offer("demo/dev", "degraded", t0));
  EXPECT_FALSE(damper.Offer("demo/dev", "ok", t0 + seconds(5)));
  EXPECT_FALSE(damper.Offer("demo/dev", "down", t0 + seconds(10)));
  EXPECT_TRUE(damper.Offer("demo/prod", "down", t0 + seconds(10)));  // keys are independent
  EXPECT_TRUE(damper.Due(t0 + seconds(59)).empty());
  EXPECT_EQ(damper.Due(t0 + seconds(60)), (std::vector<Pair>{{"demo/dev", "down"}}));
  EXPECT_TRUE(damper.Due(t0 + seconds(200)).empty());
}

TEST(FlapDamper, AFlapBackWithinTheWindowSendsNothingMore) {
  FlapDamper damper(seconds(60));
  const FlapDamper::TimePoint t0{seconds(1000)};
  EXPECT_TRUE(damper.Offer("k", "degraded", t0));
  EXPECT_FALSE(damper.Offer("k", "ok", t0 + seconds(1)));
  EXPECT_FALSE(damper.Offer("k", "degraded", t0 + seconds(2)));
  EXPECT_TRUE(damper.Due(t0 + seconds(61)).empty());
  EXPECT_TRUE(damper.Offer("k", "ok", t0 + seconds(61)));
}

TEST(FlapDamper, AKeyWithItsOwnWindowIsDampedByIt) {
  FlapDamper damper(seconds(300));
  damper.SetWindow("fast", seconds(10));
  damper.SetWindow("off", seconds(0));
  const FlapDamper::TimePoint t0{seconds(1000)};
  for (const std::string key : {"fast", "slow", "off"}) {
    EXPECT_TRUE(damper.Offer(key, "degraded", t0)) << key;
    EXPECT_EQ(damper.Offer(key, "ok", t0 + seconds(1)), key == "off") << key;
  }
  EXPECT_EQ(damper.Due(t0 + seconds(10)), (std::vector<Pair>{{"fast", "ok"}}));
  EXPECT_EQ(damper.Due(t0 + seconds(300)), (std::vector<Pair>{{"slow", "ok"}}));
}

TEST(FlapDamper, ZeroWindowNeverHolds) {
  FlapDamper damper(seconds(0));
  const FlapDamper::TimePoint t0{seconds(1000)};
  EXPECT_TRUE(damper.Offer("k", "degraded", t0));
  EXPECT_TRUE(damper.Offer("k", "ok", t0));
}

}  // namespace
}  // namespace obsforge::notify
