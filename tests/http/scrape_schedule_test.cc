// ScrapeSchedule: which snapshots are rendered ahead of a scrape, on a fake
// clock (seconds).
#include "src/http/scrape_schedule.h"

#include <gtest/gtest.h>

namespace tkmprom {
namespace {

int64_t S(double seconds) { return static_cast<int64_t>(seconds * 1e9) + 1'000'000'000'000; }

TEST(ScrapeScheduleTest, NothingBeforeTheFirstScrape) {
  ScrapeSchedule s;
  EXPECT_FALSE(s.ShouldPrepare(S(0)));
  EXPECT_EQ(s.last_ns(), 0);
}

TEST(ScrapeScheduleTest, EverySnapshotWhileTheCadenceIsUnknown) {
  ScrapeSchedule s;
  s.OnScrape(S(0));
  EXPECT_TRUE(s.ShouldPrepare(S(1)));
  EXPECT_TRUE(s.ShouldPrepare(S(299)));
  EXPECT_FALSE(s.ShouldPrepare(S(300)));  // nobody scrapes any more
}

TEST(ScrapeScheduleTest, OnlyShortlyBeforeTheNextScrapeIsDue) {
  ScrapeSchedule s;
  s.OnScrape(S(0));
  s.OnScrape(S(15));  // every 15 s: the next is due at 30 s
  EXPECT_FALSE(s.ShouldPrepare(S(16)));
  EXPECT_FALSE(s.ShouldPrepare(S(27.4)));
  EXPECT_TRUE(s.ShouldPrepare(S(27.5)));
  EXPECT_TRUE(s.ShouldPrepare(S(29)));
  EXPECT_TRUE(s.ShouldPrepare(S(40)));  // overdue: every snapshot until it comes
  s.OnScrape(S(30.2));
  EXPECT_FALSE(s.ShouldPrepare(S(31)));
  EXPECT_TRUE(s.ShouldPrepare(S(43)));
  EXPECT_FALSE(s.ShouldPrepare(S(330.2)));
}

TEST(ScrapeScheduleTest, ScrapersCloseTogetherMeanEverySnapshot) {
  ScrapeSchedule s;
  s.OnScrape(S(0));
  s.OnScrape(S(1));  // a second scraper (or a person) one second later
  for (double t = 1.1; t < 20; t += 1) EXPECT_TRUE(s.ShouldPrepare(S(t))) << t;
}

TEST(ScrapeScheduleTest, AClockThatDoesNotAdvanceKeepsTheInterval) {
  ScrapeSchedule s;
  s.OnScrape(S(0));
  s.OnScrape(S(10));
  s.OnScrape(S(10));  // two scrapes in the same nanosecond
  EXPECT_FALSE(s.ShouldPrepare(S(12)));
  EXPECT_TRUE(s.ShouldPrepare(S(18)));
}

}  // namespace
}  // namespace tkmprom
