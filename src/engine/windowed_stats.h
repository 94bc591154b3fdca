// One symbol's statistics over the sliding `quantile_window`
// (plugin-contract.md §2): the answers' latency sketch, sum and count behind
// tickrmeter_symbol_avg_latency_seconds and tickrmeter_symbol_latency_seconds
// (§4), and the requests, timeouts and resolved requests behind the slowest-
// symbols ranking (§3).
//
// Sub-windows: the window of `window_ns` is divided into `slots` sub-windows
// of slot_ns = ceil(window_ns / slots), aligned to multiples of slot_ns on the
// caller's clock. The window at time `now` covers every sub-window that
// overlaps (now - window_ns, now], so slots + 1 sub-windows are kept. An event
// at time t is therefore counted for at least window_ns and at most
// window_ns + slot_ns: it is in the view at every now with now - t <= window_ns
// and gone once now >= (floor(t / slot_ns) + 1) * slot_ns + window_ns.
// With the default 300 s window and 10 slots, events leave 300-330 s after
// they happened.
//
// Time: a monotonic nanosecond clock passed in by the caller; nothing here
// reads a clock. A `now_ns` earlier than the latest one seen counts as the
// latest (its event lands in the current sub-window; Read() reads the window
// at the latest time). A jump forward by more than the window leaves an empty
// window. Rotation is lazy: a sub-window is cleared when a write first lands
// in it again, reusing its memory; reads ignore sub-windows outside the window.
//
// Cost: the Add* methods are O(1) amortised and do not allocate once the
// sub-windows' sketches have grown to the symbol's latency range. Read()
// merges at most slots + 1 sketches into a local one.
//
// Thread safety: not thread-safe. One owner thread (the engine thread) calls
// everything; const methods may run concurrently only with other const
// methods.
#ifndef TKMPROM_ENGINE_WINDOWED_STATS_H_
#define TKMPROM_ENGINE_WINDOWED_STATS_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "src/engine/quantile_sketch.h"

namespace tkmprom {

class WindowedStats {
 public:
  // The quantiles View::quantiles holds, in order.
  static constexpr double kQuantiles[4] = {0.5, 0.9, 0.95, 0.99};
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  // window_ns below 1 is taken as 1 and slots below 1 as 1.
  explicit WindowedStats(int64_t window_ns, int slots = 10);

  // A successful answer with its latency (the sketch ignores NaN and
  // infinity). It is not counted as resolved: also call AddResolved().
  void AddAnswer(int64_t now_ns, double latency_s);
  void AddRequest(int64_t now_ns);
  // A request answered or errored (timed_out false) or timed out (true).
  void AddResolved(int64_t now_ns, bool timed_out);

  struct View {
    uint64_t answers = 0;
    double avg_latency_s = kNaN;                     // NaN when answers == 0
    double quantiles[4] = {kNaN, kNaN, kNaN, kNaN};  // kQuantiles; NaN when answers == 0
    uint64_t requests = 0;
    uint64_t resolved = 0;
    uint64_t timeouts = 0;
    double timeout_rate = 0;  // timeouts / resolved, 0 when resolved == 0
  };
  View Read(int64_t now_ns) const;
  bool Empty(int64_t now_ns) const;  // nothing at all in the window

  int64_t slot_ns() const { return slot_ns_; }
  // ++count, but UINT32_MAX stays UINT32_MAX.
  static void SaturatingIncrement(uint32_t& count) { count += count != UINT32_MAX; }
  size_t MemoryBytes() const;

 private:
  static constexpr int64_t kNoEpoch = INT64_MIN;
  // The counts are per sub-window and 32 bits (saturating at UINT32_MAX): even
  // the longest window, 86400 s in 10 sub-windows, needs half a million events
  // a second for one symbol to saturate. View sums them in 64 bits.
  struct Slot {
    int64_t epoch = kNoEpoch;  // floor(time / slot_ns_) of the sub-window held
    uint32_t requests = 0;
    uint32_t resolved = 0;
    uint32_t timeouts = 0;
    QuantileSketch latency;
  };
  static_assert(sizeof(Slot) <= 24 + sizeof(QuantileSketch), "see the member order");

  // The slot of the current sub-window at now_ns, cleared if it held an older one.
  Slot& Current(int64_t now_ns);
  // Calls f(slot) for every slot inside the window at now_ns.
  template <typename F>
  void ForEachInWindow(int64_t now_ns, F&& f) const;

  int64_t window_ns_;
  int64_t slot_ns_;
  int64_t latest_ns_ = INT64_MIN;  // latest now_ns written
  std::vector<Slot> slots_;        // slots + 1; epoch e lives at index e mod size
  // The current sub-window, cached so that writes within it skip the
  // divisions: slots_[current_] holds the epoch covering times up to (not
  // including) current_end_ns_, and latest_ns_ is in it while
  // latest_ns_ < current_end_ns_ (latest_ns_ never decreases).
  int64_t current_end_ns_ = INT64_MIN;
  size_t current_ = 0;
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_WINDOWED_STATS_H_
