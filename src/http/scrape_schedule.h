// When the engine thread should render /metrics ahead of a scrape.
//
// Rendering the exposition of a large fleet and gzipping it costs tens of
// milliseconds, far more than the engine's work at the fleet's real rate; a
// scrape that finds no render of the newest snapshot renders it itself and
// waits for it. Prometheus scrapes a target at a fixed interval, so only the
// snapshots published shortly before the next scrape is due need rendering
// ahead: ShouldPrepare() is true from kLeadNs before it is due (the time of
// the last scrape plus the time between the last two) until it arrives, and
// always while the cadence is unknown. Nothing is rendered ahead once nobody
// has scraped for kRecentNs. With several scrapers the interval is short and
// every snapshot is rendered, as without a schedule.
//
// Thread safety: OnScrape() from any HTTP thread, the rest from any thread;
// lock-free. Two scrapes racing can leave either's interval: both are real.
#ifndef TKMPROM_SRC_HTTP_SCRAPE_SCHEDULE_H_
#define TKMPROM_SRC_HTTP_SCRAPE_SCHEDULE_H_

#include <atomic>
#include <cstdint>

namespace tkmprom {

class ScrapeSchedule {
 public:
  static constexpr int64_t kRecentNs = int64_t{300} * 1'000'000'000;
  // More than two snapshot intervals (1 s), so that the snapshot that is
  // newest when the scrape arrives on time was rendered ahead.
  static constexpr int64_t kLeadNs = 2'500'000'000;

  // A /metrics request at `now_ns` (CLOCK_MONOTONIC).
  void OnScrape(int64_t now_ns) {
    const int64_t previous = last_ns_.exchange(now_ns, std::memory_order_relaxed);
    if (previous != 0 && now_ns > previous) {
      interval_ns_.store(now_ns - previous, std::memory_order_relaxed);
    }
  }

  // Whether a snapshot published at `now_ns` should be rendered ahead.
  bool ShouldPrepare(int64_t now_ns) const {
    const int64_t last = last_ns_.load(std::memory_order_relaxed);
    if (last == 0 || now_ns - last >= kRecentNs) return false;
    const int64_t interval = interval_ns_.load(std::memory_order_relaxed);
    return interval == 0 || now_ns >= last + interval - kLeadNs;
  }

  // The time of the last scrape; 0 before the first.
  int64_t last_ns() const { return last_ns_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> last_ns_{0};
  std::atomic<int64_t> interval_ns_{0};
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_SCRAPE_SCHEDULE_H_
