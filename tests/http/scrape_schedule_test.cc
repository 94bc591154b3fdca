// ScrapeSchedule and RenderAhead: when a snapshot is built ahead of a
// scrape, on a fake clock (seconds).
#include "src/http/scrape_schedule.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace tkmprom {
namespace {

int64_t S(double seconds) { return static_cast<int64_t>(seconds * 1e9) + 1'000'000'000'000; }
constexpr int64_t kNone = INT64_MIN;
constexpr int64_t kOneSecond = 1'000'000'000;

TEST(ScrapeScheduleTest, NothingExpectedBeforeTheSecondScrape) {
  ScrapeSchedule s;
  EXPECT_EQ(s.NextExpectedNs(S(0)), 0);
  EXPECT_EQ(s.last_ns(), 0);
  s.OnScrape(S(0));
  EXPECT_EQ(s.NextExpectedNs(S(1)), 0);
}

TEST(ScrapeScheduleTest, TheLastScrapePlusTheInterval) {
  ScrapeSchedule s;
  s.OnScrape(S(0));
  s.OnScrape(S(15));
  EXPECT_EQ(s.NextExpectedNs(S(16)), S(30));
  s.OnScrape(S(30.2));
  EXPECT_EQ(s.NextExpectedNs(S(31)), S(30.2) + (S(30.2) - S(15)));
  EXPECT_EQ(s.NextExpectedNs(S(330.2)), 0);  // nobody scrapes any more
}

TEST(ScrapeScheduleTest, AClockThatDoesNotAdvanceKeepsTheInterval) {
  ScrapeSchedule s;
  s.OnScrape(S(0));
  s.OnScrape(S(10));
  s.OnScrape(S(10));  // two scrapes in the same nanosecond
  EXPECT_EQ(s.NextExpectedNs(S(12)), S(20));
}

TEST(RenderAheadTest, OnceShortlyBeforeEachScrape) {
  RenderAhead r(kOneSecond);
  EXPECT_FALSE(r.ShouldBuild(S(16), 0, kNone));         // cadence unknown
  EXPECT_FALSE(r.ShouldBuild(S(29.69), S(30), kNone));  // too early
  EXPECT_TRUE(r.ShouldBuild(S(29.7), S(30), kNone));
  EXPECT_FALSE(r.ShouldBuild(S(29.8), S(30), S(29.7)));  // once per expected scrape
  EXPECT_FALSE(r.ShouldBuild(S(40), S(30), S(29.7)));
  EXPECT_TRUE(r.ShouldBuild(S(44.7), S(45), S(29.7)));
}

TEST(RenderAheadTest, NotWhileTheCurrentSnapshotStaysFresh) {
  RenderAhead r(kOneSecond);
  // Scrapes 5 ms apart: the snapshot from 0.2 s ago is fresh at the next one.
  EXPECT_FALSE(r.ShouldBuild(S(10), S(10.005), S(9.8)));
  // It would be 1.005 s old when the next scrape is due, with 0.3 s of slack.
  EXPECT_TRUE(r.ShouldBuild(S(10.6), S(10.605), S(9.9)));
  EXPECT_FALSE(r.ShouldBuild(S(10.61), S(10.615), S(10.6)));
}

TEST(RenderAheadTest, LeadShrinksWithAShortBound) {
  RenderAhead r(kOneSecond / 10);  // 100 ms: lead 33 ms
  EXPECT_FALSE(r.ShouldBuild(S(9.96), S(10), kNone));
  EXPECT_TRUE(r.ShouldBuild(S(9.97), S(10), kNone));
}

}  // namespace
}  // namespace tkmprom
