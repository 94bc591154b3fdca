// What the engine adds to the Snapshot for the status page: the recent
// timeouts ring, boots in the last hour (a sliding count of one-minute
// slots) and the per-symbol latency bucket counts, driven with a fake clock.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "src/engine/recent_timeouts.h"
#include "src/engine/sliding_count.h"
#include "tests/engine/engine_harness.h"

namespace tkmprom {
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kSecondNs = 1'000'000'000;

std::string Hb(const std::string& device, int uptime) {
  return R"({"status":"online","firmware_version":"70p","device":")" + device +
         R"(","battery":"87","vin":"1830","uptime":")" + std::to_string(uptime) +
         R"(","isCharging":"0","wflct":"3","iv":"elec+HB","xmc":"1","flashID":"C84016"})";
}

TEST(SlidingCountTest, CountsEventsInsideTheWindowOnly) {
  SlidingCount c(10 * kSecondNs, 6);  // one minute of 10 s slots
  EXPECT_EQ(c.Sum(0), 0u);
  c.Add(1 * kSecondNs);
  c.Add(9 * kSecondNs);
  c.Add(25 * kSecondNs);
  EXPECT_EQ(c.Sum(25 * kSecondNs), 3u);
  // The slot of 0-10 s stays in the window until the window's oldest slot
  // moves past it (at 60 s).
  EXPECT_EQ(c.Sum(59 * kSecondNs), 3u);
  EXPECT_EQ(c.Sum(60 * kSecondNs), 1u);
  EXPECT_EQ(c.Sum(79 * kSecondNs), 1u);
  EXPECT_EQ(c.Sum(80 * kSecondNs), 0u);
}

TEST(SlidingCountTest, ReusesSlotsAfterAWrapAndIgnoresTooOldEvents) {
  SlidingCount c(10 * kSecondNs, 6);
  c.Add(5 * kSecondNs);
  c.Add(65 * kSecondNs);  // same slot position, one window later: replaces it
  EXPECT_EQ(c.Sum(65 * kSecondNs), 1u);
  c.Add(6 * kSecondNs);  // older than what that slot holds now
  EXPECT_EQ(c.Sum(65 * kSecondNs), 1u);
  // A jump far ahead leaves an empty window.
  EXPECT_EQ(c.Sum(100'000 * kSecondNs), 0u);
}

TEST(SlidingCountTest, NegativeClockAlignsLikePositive) {
  SlidingCount c(10 * kSecondNs, 2);
  c.Add(-1);  // slot [-10 s, 0)
  EXPECT_EQ(c.Sum(-1), 1u);
  EXPECT_EQ(c.Sum(9 * kSecondNs), 1u);
  EXPECT_EQ(c.Sum(10 * kSecondNs), 0u);
}

TEST(RecentTimeoutsTest, KeepsTheNewestUpToCapacity) {
  RecentTimeouts r;
  EXPECT_EQ(r.size(), 0u);
  r.Record("D1", "AAPL", 1);
  r.Record("D2", "MSFT", 2);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r.FromNewest(0).device_id, "D2");
  EXPECT_EQ(r.FromNewest(1).symbol, "AAPL");
  for (int i = 0; i < 45; ++i) r.Record("D" + std::to_string(i), "S" + std::to_string(i), 10 + i);
  ASSERT_EQ(r.size(), RecentTimeouts::kCapacity);
  EXPECT_EQ(r.FromNewest(0).device_id, "D44");
  EXPECT_EQ(r.FromNewest(0).at_ns, 54);
  EXPECT_EQ(r.FromNewest(RecentTimeouts::kCapacity - 1).symbol, "S25");
}

TEST(StatusDataTest, RecentTimeoutsCarryDeviceLabelAndAge) {
  Config c;
  c.request_timeout_s = 2;
  EngineHarness h(c);
  h.Request(0, kDev, "MSFT");
  h.Request(500, kDev2);  // symbol-less, nothing learned: counted as "unknown"
  h.Request(1'000, kDev, "AAPL");
  h.Answer(1'100, kDev, PlaylistQuote("UPDATE", "AAPL", "MSFT,AAPL", 1));
  EXPECT_TRUE(h.Snap()->recent_timeouts.empty());
  h.Advance(5'000);
  auto snap = h.Snap();
  ASSERT_EQ(snap->recent_timeouts.size(), 2u);
  // Newest first: kDev2's deadline (2.5 s) after kDev's MSFT (2 s).
  EXPECT_EQ(snap->recent_timeouts[0].device_id, kDev2);
  EXPECT_EQ(snap->recent_timeouts[0].symbol, "unknown");
  EXPECT_NEAR(snap->recent_timeouts[0].age_s, 2.5, 1e-9);
  EXPECT_EQ(snap->recent_timeouts[1].device_id, kDev);
  EXPECT_EQ(snap->recent_timeouts[1].symbol, "MSFT");
  EXPECT_NEAR(snap->recent_timeouts[1].age_s, 3.0, 1e-9);
  // Ages follow the clock.
  h.Advance(65'000);
  EXPECT_NEAR(h.Snap()->recent_timeouts[1].age_s, 63.0, 1e-9);
}

TEST(StatusDataTest, RecentTimeoutsAreBoundedAndNewestFirst) {
  Config c;
  c.request_timeout_s = 1;
  EngineHarness h(c);
  for (int i = 0; i < 30; ++i) h.Request(i * 100, kDev, "S" + std::to_string(i));
  h.Advance(10'000);
  auto snap = h.Snap();
  ASSERT_EQ(snap->recent_timeouts.size(), RecentTimeouts::kCapacity);
  EXPECT_EQ(snap->recent_timeouts.front().symbol, "S29");
  EXPECT_EQ(snap->recent_timeouts.back().symbol, "S10");
  for (size_t i = 1; i < snap->recent_timeouts.size(); ++i) {
    EXPECT_LE(snap->recent_timeouts[i - 1].age_s, snap->recent_timeouts[i].age_s);
  }
}

TEST(StatusDataTest, BootsLastHourSlideOutAfterAnHour) {
  EngineHarness h;
  h.Boot(0, kDev);
  h.Boot(1'000, kDev);  // a resend: not a boot
  h.Heartbeat(2'000, Hb(kDev2, 5000));
  h.Heartbeat(3'000, Hb(kDev2, 10));  // uptime drop: a boot
  h.Boot(30 * kMinuteMs, kDev2);
  EXPECT_EQ(h.Snap()->boots_last_hour, 3u);
  EXPECT_EQ(h.V("tickrmeter_device_boots_total", {{"firmware_version", "unknown"}}), 1);
  h.Advance(59 * kMinuteMs);
  EXPECT_EQ(h.Snap()->boots_last_hour, 3u);
  // The first minute's slot leaves the window once the clock is in minute 60.
  h.Advance(61 * kMinuteMs);
  EXPECT_EQ(h.Snap()->boots_last_hour, 1u);
  h.Advance(91 * kMinuteMs);
  EXPECT_EQ(h.Snap()->boots_last_hour, 0u);
  // The counter keeps counting since start.
  EXPECT_EQ(h.V("tickrmeter_device_boots_total", {{"firmware_version", "70p"}}), 2);
}

TEST(StatusDataTest, LatencyBucketsPerSymbolMatchTheHistogram) {
  Config c;
  c.latency_buckets = {0.5, 2};
  EngineHarness h(c);
  h.Request(0, kDev, "MSFT");
  h.Answer(100, kDev, PlaylistQuote("UPDATE", "MSFT", "MSFT", 0));
  h.Request(1'000, kDev, "MSFT");
  h.Answer(2'500, kDev, PlaylistQuote("UPDATE", "MSFT", "MSFT", 0));
  h.Request(3'000, kDev, "MSFT");
  h.Answer(8'000, kDev, PlaylistQuote("UPDATE", "MSFT", "MSFT", 0));
  h.Request(9'000, kDev, "MSFT");
  h.Answer(9'200, kDev, PlaylistQuote("UPDATE", "MSFT", "MSFT", 0));
  auto snap = h.Snap();
  EXPECT_EQ(snap->latency_bounds, (std::vector<double>{0.5, 2}));
  ASSERT_EQ(snap->symbols.size(), 1u);
  EXPECT_EQ(snap->symbols[0].symbol, "MSFT");
  EXPECT_EQ(snap->symbols[0].latency_buckets, (std::vector<uint64_t>{2, 1, 1}));
}

}  // namespace
}  // namespace tkmprom
