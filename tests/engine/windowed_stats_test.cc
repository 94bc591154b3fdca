#include "src/engine/windowed_stats.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

#include <gtest/gtest.h>

// Counts heap allocations so that tests can check the hot path makes none.
namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace tkmprom {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kWindow = 300 * kSecond;  // quantile_window default
constexpr int64_t kSlot = 30 * kSecond;     // with the default 10 slots

// Nearest rank (plugin-contract.md §7.3): the sample of 1-based rank
// ceil(q * n), in integers (the quantiles have at most two decimals).
double ExactQuantile(std::vector<double> samples, double q) {
  std::sort(samples.begin(), samples.end());
  const size_t per_cent = static_cast<size_t>(std::llround(q * 100));
  const size_t rank = std::max<size_t>(1, (per_cent * samples.size() + 99) / 100);
  return samples[rank - 1];
}

// The time an event at t leaves the window (header: sub-window granularity).
int64_t ExpiresAt(int64_t t) { return (t / kSlot + 1) * kSlot + kWindow; }

TEST(WindowedStatsTest, NewIsEmptyAndNaN) {
  const WindowedStats stats(kWindow);
  EXPECT_TRUE(stats.Empty(0));
  const WindowedStats::View view = stats.Read(0);
  EXPECT_EQ(view.answers, 0u);
  EXPECT_TRUE(std::isnan(view.avg_latency_s));
  for (double q : view.quantiles) EXPECT_TRUE(std::isnan(q));
  EXPECT_EQ(view.requests, 0u);
  EXPECT_EQ(view.resolved, 0u);
  EXPECT_EQ(view.timeouts, 0u);
  EXPECT_EQ(view.timeout_rate, 0.0);
}

TEST(WindowedStatsTest, SlotLengthIsWindowOverSlotsRoundedUp) {
  EXPECT_EQ(WindowedStats(kWindow).slot_ns(), kSlot);
  EXPECT_EQ(WindowedStats(1000, 3).slot_ns(), 334);
  EXPECT_EQ(WindowedStats(0, 0).slot_ns(), 1);
}

TEST(WindowedStatsTest, CountsAndTimeoutRate) {
  WindowedStats stats(kWindow);
  const int64_t t0 = 1000 * kSecond;
  for (int i = 0; i < 10; ++i) stats.AddRequest(t0 + i * kSecond);
  stats.AddAnswer(t0 + 11 * kSecond, 0.5);
  stats.AddResolved(t0 + 11 * kSecond, false);
  stats.AddAnswer(t0 + 12 * kSecond, 1.5);
  stats.AddResolved(t0 + 12 * kSecond, false);
  stats.AddResolved(t0 + 13 * kSecond, false);  // an error answer
  stats.AddResolved(t0 + 40 * kSecond, true);
  const WindowedStats::View view = stats.Read(t0 + 41 * kSecond);
  EXPECT_FALSE(stats.Empty(t0 + 41 * kSecond));
  EXPECT_EQ(view.requests, 10u);
  EXPECT_EQ(view.answers, 2u);
  EXPECT_EQ(view.resolved, 4u);
  EXPECT_EQ(view.timeouts, 1u);
  EXPECT_DOUBLE_EQ(view.timeout_rate, 0.25);
  EXPECT_DOUBLE_EQ(view.avg_latency_s, 1.0);
  // Nearest rank of two answers: ceil(0.5 * 2) = 1, then the slower one.
  EXPECT_EQ(view.quantiles[0], 0.5);
  EXPECT_EQ(view.quantiles[1], 1.5);
  EXPECT_EQ(view.quantiles[3], 1.5);
}

TEST(WindowedStatsTest, SubWindowCountsSaturate) {
  uint32_t count = UINT32_MAX - 2;
  WindowedStats::SaturatingIncrement(count);
  EXPECT_EQ(count, UINT32_MAX - 1);
  WindowedStats::SaturatingIncrement(count);
  EXPECT_EQ(count, UINT32_MAX);
  WindowedStats::SaturatingIncrement(count);
  EXPECT_EQ(count, UINT32_MAX);  // not 0
}

TEST(WindowedStatsTest, RequestsWithoutAnswersHaveNaNLatency) {
  WindowedStats stats(kWindow);
  stats.AddRequest(5);
  stats.AddResolved(6, true);
  const WindowedStats::View view = stats.Read(7);
  EXPECT_FALSE(stats.Empty(7));
  EXPECT_EQ(view.answers, 0u);
  EXPECT_TRUE(std::isnan(view.avg_latency_s));
  for (double q : view.quantiles) EXPECT_TRUE(std::isnan(q));
  EXPECT_EQ(view.timeout_rate, 1.0);
}

TEST(WindowedStatsTest, EventLeavesAfterWindowPlusRestOfItsSubWindow) {
  for (int64_t t : {0 * kSecond, 10 * kSecond, kSlot - 1, 1234 * kSecond + 7}) {
    SCOPED_TRACE(t);
    WindowedStats stats(kWindow);
    stats.AddAnswer(t, 2.0);
    stats.AddRequest(t);
    // Always there while younger than the window.
    for (int64_t now : {t, t + kWindow / 2, t + kWindow}) {
      EXPECT_EQ(stats.Read(now).answers, 1u) << now;
      EXPECT_EQ(stats.Read(now).requests, 1u) << now;
    }
    const int64_t gone = ExpiresAt(t);
    EXPECT_GE(gone - t, kWindow);
    EXPECT_LE(gone - t, kWindow + kSlot);
    EXPECT_EQ(stats.Read(gone - 1).answers, 1u);
    EXPECT_FALSE(stats.Empty(gone - 1));
    const WindowedStats::View view = stats.Read(gone);
    EXPECT_EQ(view.answers, 0u);
    EXPECT_EQ(view.requests, 0u);
    EXPECT_TRUE(std::isnan(view.avg_latency_s));
    EXPECT_TRUE(stats.Empty(gone));
  }
}

// A steady stream, one answer per second with latency growing over time: at
// every read the view answers for exactly the events the documented rule
// keeps, within 1 % of their exact quantiles.
TEST(WindowedStatsTest, SlidingWindowMatchesExactQuantiles) {
  WindowedStats stats(kWindow);
  std::mt19937_64 rng(1);
  std::lognormal_distribution<double> dist(std::log(0.3), 1.29);
  struct Event {
    int64_t t;
    double latency;
  };
  std::vector<Event> events;
  const int64_t start = 5000 * kSecond + 123;
  for (int i = 0; i < 2000; ++i) {
    const int64_t now = start + i * kSecond;
    const double latency = dist(rng) * (1 + i / 500);
    stats.AddAnswer(now, latency);
    stats.AddResolved(now, i % 7 == 0);
    events.push_back({now, latency});
    if (i % 97 != 0) continue;
    std::vector<double> in_window;
    uint64_t timeouts = 0;
    for (const Event& e : events) {
      if (now < ExpiresAt(e.t)) {
        in_window.push_back(e.latency);
        if ((e.t - start) / kSecond % 7 == 0) ++timeouts;
      }
    }
    const WindowedStats::View view = stats.Read(now);
    ASSERT_EQ(view.answers, in_window.size());
    ASSERT_EQ(view.resolved, in_window.size());
    ASSERT_EQ(view.timeouts, timeouts);
    double sum = 0;
    for (double v : in_window) sum += v;
    EXPECT_NEAR(view.avg_latency_s, sum / in_window.size(), 1e-9);
    for (int k = 0; k < 4; ++k) {
      const double exact = ExactQuantile(in_window, WindowedStats::kQuantiles[k]);
      EXPECT_LE(std::fabs(view.quantiles[k] - exact), 0.01 * exact) << "i=" << i << " k=" << k;
    }
  }
}

TEST(WindowedStatsTest, ClockJumpExpiresEverything) {
  WindowedStats stats(kWindow);
  for (int i = 0; i < 300; ++i) {
    stats.AddRequest(i * kSecond);
    stats.AddAnswer(i * kSecond, 0.1);
  }
  // A jump by a whole number of rings lands on the same slot indices: the
  // stale contents must neither show up nor survive the next write.
  const int64_t later = 11 * kSlot * 1000;
  EXPECT_TRUE(stats.Empty(later));
  EXPECT_EQ(stats.Read(later).answers, 0u);
  stats.AddAnswer(later, 4.0);
  const WindowedStats::View view = stats.Read(later);
  EXPECT_EQ(view.answers, 1u);
  EXPECT_EQ(view.requests, 0u);
  EXPECT_EQ(view.quantiles[0], 4.0);
  EXPECT_EQ(stats.Read(later + kWindow * 1000).answers, 0u);
}

TEST(WindowedStatsTest, RepeatedEqualTimestamps) {
  WindowedStats stats(kWindow);
  for (int i = 0; i < 1000; ++i) {
    stats.AddRequest(42);
    stats.AddAnswer(42, 0.001 * (i + 1));
    stats.AddResolved(42, false);
  }
  const WindowedStats::View view = stats.Read(42);
  EXPECT_EQ(view.requests, 1000u);
  EXPECT_EQ(view.answers, 1000u);
  EXPECT_NEAR(view.quantiles[0], 0.5, 0.005);
  EXPECT_NEAR(view.quantiles[3], 0.99, 0.0099);
}

TEST(WindowedStatsTest, EarlierTimeCountsAsLatest) {
  WindowedStats stats(kWindow);
  const int64_t now = 1000 * kSecond;
  stats.AddAnswer(now, 1.0);
  // Far in the past: lands in the current sub-window instead of being lost
  // or written into an old one.
  stats.AddAnswer(now - 10 * kWindow, 3.0);
  stats.AddRequest(-5 * kSecond);
  EXPECT_EQ(stats.Read(now).answers, 2u);
  EXPECT_EQ(stats.Read(now).requests, 1u);
  // Reads at an earlier time read at the latest time.
  EXPECT_EQ(stats.Read(0).answers, 2u);
  EXPECT_FALSE(stats.Empty(0));
  // And it expires with the current sub-window.
  EXPECT_EQ(stats.Read(ExpiresAt(now) - 1).answers, 2u);
  EXPECT_EQ(stats.Read(ExpiresAt(now)).answers, 0u);
}

TEST(WindowedStatsTest, ReadDoesNotChangeState) {
  WindowedStats stats(kWindow);
  stats.AddAnswer(0, 1.0);
  // Reading far ahead must not clear anything the earlier window still holds.
  EXPECT_EQ(stats.Read(100 * kWindow).answers, 0u);
  EXPECT_EQ(stats.Read(kSecond).answers, 1u);
}

TEST(WindowedStatsTest, HotPathDoesNotAllocateInSteadyState) {
  WindowedStats stats(kWindow);
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> dist(std::log(0.001), std::log(60.0));
  auto run = [&](int64_t from_s, int64_t to_s) {
    for (int64_t s = from_s; s < to_s; ++s) {
      for (int k = 0; k < 20; ++k) {
        const int64_t now = s * kSecond + k;
        stats.AddRequest(now);
        stats.AddAnswer(now, std::exp(dist(rng)));
        stats.AddResolved(now, false);
      }
    }
  };
  run(0, 4 * 330);  // every sub-window has grown to the latency range
  const size_t bytes = stats.MemoryBytes();
  const uint64_t before = g_allocations.load();
  run(4 * 330, 8 * 330);
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_EQ(stats.MemoryBytes(), bytes);
}

TEST(WindowedStatsTest, TypicalSymbolFitsInFourKiB) {
  // ~50 answers per 300 s window, latencies lognormal (median 0.3 s, p99 6 s).
  WindowedStats stats(kWindow);
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> dist(std::log(0.3), 1.29);
  for (int i = 0; i < 500; ++i) {
    const int64_t now = i * 6 * kSecond;
    stats.AddRequest(now);
    stats.AddAnswer(now, dist(rng));
    stats.AddResolved(now, false);
  }
  std::printf("typical WindowedStats: %zu bytes\n", stats.MemoryBytes());
  EXPECT_LE(stats.MemoryBytes(), 4096u);
}

TEST(WindowedStatsTest, WorstCaseFitsInThirtyTwoKiB) {
  // Every sub-window dense, latencies spread log-uniformly over 1 ms .. 60 s.
  WindowedStats stats(kWindow);
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> dist(std::log(0.001), std::log(60.0));
  for (int64_t i = 0; i < 2 * 330 * 100; ++i) {
    const int64_t now = i * kSecond / 100;
    stats.AddAnswer(now, std::exp(dist(rng)));
    if (i % 1000 == 0) stats.AddAnswer(now, i % 2000 == 0 ? 0.001 : 60.0);
  }
  std::printf("worst-case WindowedStats: %zu bytes\n", stats.MemoryBytes());
  EXPECT_LE(stats.MemoryBytes(), 32768u);
}

}  // namespace
}  // namespace tkmprom
