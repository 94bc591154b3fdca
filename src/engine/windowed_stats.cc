#include "src/engine/windowed_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tkmprom {
namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

}  // namespace

WindowedStats::WindowedStats(int64_t window_ns, int slots)
    : window_ns_(std::max<int64_t>(window_ns, 1)) {
  slots = std::max(slots, 1);
  slot_ns_ = (window_ns_ - 1) / slots + 1;  // ceil without overflow
  slots_.resize(static_cast<size_t>(slots) + 1);
}

WindowedStats::Slot& WindowedStats::Current(int64_t now_ns) {
  // An earlier time than already seen lands in the current sub-window.
  latest_ns_ = std::max(latest_ns_, now_ns);
  if (latest_ns_ < current_end_ns_) return slots_[current_];
  const int64_t epoch = FloorDiv(latest_ns_, slot_ns_);
  const int64_t size = static_cast<int64_t>(slots_.size());
  current_ = static_cast<size_t>(((epoch % size) + size) % size);
  // The sub-window's end, saturated (epoch * slot_ns_ <= latest_ns_ fits).
  const int64_t start = epoch * slot_ns_;
  current_end_ns_ = start > INT64_MAX - slot_ns_ ? INT64_MAX : start + slot_ns_;
  Slot& slot = slots_[current_];
  if (slot.epoch != epoch) {
    slot.epoch = epoch;
    slot.requests = slot.resolved = slot.timeouts = 0;
    slot.latency.Clear();
  }
  return slot;
}

void WindowedStats::AddAnswer(int64_t now_ns, double latency_s) {
  Current(now_ns).latency.Add(latency_s);
}

void WindowedStats::AddRequest(int64_t now_ns) { SaturatingIncrement(Current(now_ns).requests); }

void WindowedStats::AddResolved(int64_t now_ns, bool timed_out) {
  Slot& slot = Current(now_ns);
  SaturatingIncrement(slot.resolved);
  if (timed_out) SaturatingIncrement(slot.timeouts);
}

template <typename F>
void WindowedStats::ForEachInWindow(int64_t now_ns, F&& f) const {
  now_ns = std::max(now_ns, latest_ns_);
  // Sub-windows overlapping (now - window, now]: epochs first..last.
  const int64_t start = now_ns < std::numeric_limits<int64_t>::min() + window_ns_
                            ? std::numeric_limits<int64_t>::min()
                            : now_ns - window_ns_;
  const int64_t first = FloorDiv(start, slot_ns_);
  const int64_t last = FloorDiv(now_ns, slot_ns_);
  for (const Slot& slot : slots_) {
    if (slot.epoch != kNoEpoch && slot.epoch >= first && slot.epoch <= last) f(slot);
  }
}

WindowedStats::View WindowedStats::Read(int64_t now_ns) const {
  View view;
  QuantileSketch latency;
  ForEachInWindow(now_ns, [&](const Slot& slot) {
    latency.Merge(slot.latency);
    view.requests += slot.requests;
    view.resolved += slot.resolved;
    view.timeouts += slot.timeouts;
  });
  view.answers = latency.Count();
  if (view.answers != 0) view.avg_latency_s = latency.Sum() / view.answers;
  for (int i = 0; i < 4; ++i) view.quantiles[i] = latency.Quantile(kQuantiles[i]);
  view.timeout_rate = view.resolved == 0 ? 0.0 : static_cast<double>(view.timeouts) / view.resolved;
  return view;
}

bool WindowedStats::Empty(int64_t now_ns) const {
  bool empty = true;
  ForEachInWindow(now_ns, [&](const Slot& slot) {
    if (slot.requests != 0 || slot.resolved != 0 || slot.latency.Count() != 0) empty = false;
  });
  return empty;
}

size_t WindowedStats::MemoryBytes() const {
  size_t bytes = sizeof(*this) + (slots_.capacity() - slots_.size()) * sizeof(Slot);
  for (const Slot& slot : slots_)
    bytes += sizeof(Slot) - sizeof(QuantileSketch) + slot.latency.MemoryBytes();
  return bytes;
}

}  // namespace tkmprom
