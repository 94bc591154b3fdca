// A count of events over a sliding window made of fixed slots (for example
// 60 one-minute slots: "boots in the last hour"). Memory is fixed at
// construction; Add() and Sum() never allocate.
//
// The window at time `now` is the slot holding `now` and the slots - 1
// before it, so an event is counted for at least (slots - 1) × slot_ns and
// less than slots × slot_ns after it happened. Slots are aligned to
// multiples of slot_ns on the caller's clock and cleared lazily: a slot
// whose stamp is outside the window is ignored by Sum() and reset by the
// next Add() that lands in it.
//
// Time: a monotonic nanosecond clock passed in by the caller. An event
// older than the window is ignored.
//
// Thread safety: not thread-safe; owned by one thread.
#ifndef TKMPROM_ENGINE_SLIDING_COUNT_H_
#define TKMPROM_ENGINE_SLIDING_COUNT_H_

#include <cstdint>
#include <vector>

namespace tkmprom {

class SlidingCount {
 public:
  // slot_ns below 1 is taken as 1, slots below 1 as 1.
  SlidingCount(int64_t slot_ns, int slots);

  void Add(int64_t now_ns);
  // Events in the window ending at now_ns.
  uint64_t Sum(int64_t now_ns) const;

 private:
  struct Slot {
    int64_t index = INT64_MIN;  // now_ns / slot_ns of the events counted here
    uint64_t count = 0;
  };

  int64_t SlotIndex(int64_t now_ns) const;

  int64_t slot_ns_;
  std::vector<Slot> slots_;
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_SLIDING_COUNT_H_
