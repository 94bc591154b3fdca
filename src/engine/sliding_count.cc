#include "src/engine/sliding_count.h"

#include <algorithm>

namespace tkmprom {

SlidingCount::SlidingCount(int64_t slot_ns, int slots)
    : slot_ns_(std::max<int64_t>(slot_ns, 1)), slots_(std::max(slots, 1)) {}

int64_t SlidingCount::SlotIndex(int64_t now_ns) const {
  // Floor division, so that negative clocks (tests) align like positive ones.
  int64_t q = now_ns / slot_ns_;
  if (now_ns % slot_ns_ != 0 && now_ns < 0) --q;
  return q;
}

void SlidingCount::Add(int64_t now_ns) {
  const int64_t index = SlotIndex(now_ns);
  const int64_t n = static_cast<int64_t>(slots_.size());
  Slot& s = slots_[((index % n) + n) % n];
  if (s.index == index) {
    ++s.count;
  } else if (s.index < index) {
    s.index = index;
    s.count = 1;
  }
  // s.index > index: the event is older than the window that slot now holds.
}

uint64_t SlidingCount::Sum(int64_t now_ns) const {
  const int64_t newest = SlotIndex(now_ns);
  const int64_t oldest = newest - static_cast<int64_t>(slots_.size()) + 1;
  uint64_t sum = 0;
  for (const Slot& s : slots_) {
    if (s.index >= oldest && s.index <= newest) sum += s.count;
  }
  return sum;
}

}  // namespace tkmprom
