// When the engine thread should build and render a snapshot ahead of a
// scrape.
//
// Rendering the exposition of a large fleet and gzipping it costs tens of
// milliseconds; a scrape that finds no fresh render waits for one.
// Prometheus scrapes a target at a fixed interval, so the next scrape is
// expected at the time of the last one plus the time between the last two
// (ScrapeSchedule). RenderAhead says when to build a snapshot for it: once
// per expected scrape, a lead time before it is due, unless the current
// snapshot will still be within the freshness bound when it arrives (as
// with scrapers close together). Nothing is built ahead before the second
// scrape or once nobody has scraped for kRecentNs; a scrape that comes
// unexpected asks for its snapshot itself (SnapshotHolder::GetFresh).
//
// Thread safety: ScrapeSchedule: OnScrape() from any HTTP thread, the rest
// from any thread; lock-free. Two scrapes racing can leave either's
// interval: both are real. RenderAhead belongs to the engine thread.
#ifndef TKMPROM_SRC_HTTP_SCRAPE_SCHEDULE_H_
#define TKMPROM_SRC_HTTP_SCRAPE_SCHEDULE_H_

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace tkmprom {

class ScrapeSchedule {
 public:
  static constexpr int64_t kRecentNs = int64_t{300} * 1'000'000'000;

  // A /metrics request at `now_ns` (CLOCK_MONOTONIC).
  void OnScrape(int64_t now_ns) {
    const int64_t previous = last_ns_.exchange(now_ns, std::memory_order_relaxed);
    if (previous != 0 && now_ns > previous) {
      interval_ns_.store(now_ns - previous, std::memory_order_relaxed);
    }
  }

  // When the next scrape is due, seen at `now_ns`; 0 when unknown (fewer
  // than two scrapes so far, or none for kRecentNs).
  int64_t NextExpectedNs(int64_t now_ns) const {
    const int64_t last = last_ns_.load(std::memory_order_relaxed);
    const int64_t interval = interval_ns_.load(std::memory_order_relaxed);
    if (last == 0 || interval == 0 || now_ns - last >= kRecentNs) return 0;
    return last + interval;
  }

  // The time of the last scrape; 0 before the first.
  int64_t last_ns() const { return last_ns_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> last_ns_{0};
  std::atomic<int64_t> interval_ns_{0};
};

class RenderAhead {
 public:
  // Builds start this long before a scrape is due (a render of the fleet
  // takes tens of milliseconds), and a snapshot counts as fresh enough for
  // a scrape only if it still is this long after the scrape was due (the
  // jitter of a scraper's cadence): 300 ms, or a third of the bound.
  explicit RenderAhead(int64_t max_age_ns)
      : max_age_ns_(max_age_ns), lead_ns_(std::min<int64_t>(300'000'000, max_age_ns / 3)) {}

  // Whether to build (and render) a snapshot at `now_ns`, with the next
  // scrape due at `expected_ns` (0: unknown) and the current snapshot
  // published at `current_published_ns` (INT64_MIN: none).
  bool ShouldBuild(int64_t now_ns, int64_t expected_ns, int64_t current_published_ns) {
    if (expected_ns == 0 || now_ns < expected_ns - lead_ns_ || expected_ns == prepared_for_) {
      return false;
    }
    prepared_for_ = expected_ns;
    return current_published_ns < expected_ns + lead_ns_ - max_age_ns_;
  }

 private:
  const int64_t max_age_ns_;
  const int64_t lead_ns_;
  int64_t prepared_for_ = 0;
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_SCRAPE_SCHEDULE_H_
