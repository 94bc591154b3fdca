// The supervisor's watchdog: decides that a companion is hung when its
// engine made no progress (the counter it bumps once per loop in shared
// memory did not change) for kStallNs while records waited in the ring.
// A companion that waits for records while the ring is empty is idle, not
// hung.
//
// Thread safety: not thread-safe; owned by the supervisor's thread. Time is
// passed in (a fake clock in tests).
#ifndef TKMPROM_COMPANION_WATCHDOG_H_
#define TKMPROM_COMPANION_WATCHDOG_H_

#include <cstdint>

namespace tkmprom {

class Watchdog {
 public:
  static constexpr int64_t kStallNs = int64_t{10} * 1000000000;

  // A new companion started at `now_ns`.
  void Reset(int64_t now_ns) {
    last_change_ns_ = now_ns;
    seen_ = false;
  }

  // One look at the shared state; true when the companion is hung.
  bool Check(int64_t now_ns, uint64_t progress, bool records_waiting) {
    if (!records_waiting) {
      // An empty ring needs no progress: the stall is counted from the
      // first look that finds records waiting and the counter standing still.
      seen_ = false;
      return false;
    }
    if (!seen_ || progress != last_progress_) {
      seen_ = true;
      last_progress_ = progress;
      last_change_ns_ = now_ns;
      return false;
    }
    return now_ns - last_change_ns_ >= kStallNs;
  }

  // How long the counter has stood still with records waiting.
  int64_t StalledNs(int64_t now_ns) const { return now_ns - last_change_ns_; }

 private:
  bool seen_ = false;
  uint64_t last_progress_ = 0;
  int64_t last_change_ns_ = 0;
};

}  // namespace tkmprom

#endif  // TKMPROM_COMPANION_WATCHDOG_H_
