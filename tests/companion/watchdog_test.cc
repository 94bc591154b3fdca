#include "src/companion/watchdog.h"

#include <gtest/gtest.h>

namespace tkmprom {
namespace {

constexpr int64_t kSecond = 1000000000;

TEST(WatchdogTest, StalledCounterWithRecordsWaitingIsHungAfterTenSeconds) {
  Watchdog w;
  w.Reset(0);
  EXPECT_FALSE(w.Check(0, 5, true));
  EXPECT_FALSE(w.Check(9 * kSecond, 5, true));
  EXPECT_FALSE(w.Check(10 * kSecond - 1, 5, true));
  EXPECT_TRUE(w.Check(10 * kSecond, 5, true));
  EXPECT_EQ(w.StalledNs(12 * kSecond), 12 * kSecond);
}

TEST(WatchdogTest, ProgressRestartsTheStall) {
  Watchdog w;
  w.Reset(0);
  EXPECT_FALSE(w.Check(0, 1, true));
  EXPECT_FALSE(w.Check(8 * kSecond, 2, true));
  EXPECT_FALSE(w.Check(17 * kSecond, 2, true));
  EXPECT_TRUE(w.Check(18 * kSecond, 2, true));
}

TEST(WatchdogTest, AnIdleCompanionWithAnEmptyRingIsNotHung) {
  Watchdog w;
  w.Reset(0);
  for (int64_t t = 0; t <= 60; ++t) EXPECT_FALSE(w.Check(t * kSecond, 7, false));
  // Records arrive while it still stands still: ten more seconds.
  EXPECT_FALSE(w.Check(61 * kSecond, 7, true));
  EXPECT_FALSE(w.Check(70 * kSecond, 7, true));
  EXPECT_TRUE(w.Check(71 * kSecond, 7, true));
}

TEST(WatchdogTest, ResetGivesANewCompanionItsOwnTenSeconds) {
  Watchdog w;
  w.Reset(0);
  EXPECT_FALSE(w.Check(0, 3, true));
  EXPECT_TRUE(w.Check(11 * kSecond, 3, true));
  w.Reset(11 * kSecond);
  EXPECT_FALSE(w.Check(11 * kSecond, 3, true));
  EXPECT_FALSE(w.Check(20 * kSecond, 3, true));
  EXPECT_TRUE(w.Check(21 * kSecond, 3, true));
}

}  // namespace
}  // namespace tkmprom
