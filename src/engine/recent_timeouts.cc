#include "src/engine/recent_timeouts.h"

namespace tkmprom {
namespace {

// Room for a device id and an ordinary symbol without growing later.
constexpr size_t kReservedChars = 32;

}  // namespace

RecentTimeouts::RecentTimeouts() {
  for (Entry& e : entries_) {
    e.device_id.reserve(kReservedChars);
    e.symbol.reserve(kReservedChars);
  }
}

void RecentTimeouts::Record(std::string_view device_id, std::string_view symbol, int64_t at_ns) {
  Entry& e = entries_[next_];
  e.device_id.assign(device_id.data(), device_id.size());
  e.symbol.assign(symbol.data(), symbol.size());
  e.at_ns = at_ns;
  next_ = (next_ + 1) % kCapacity;
  if (size_ < kCapacity) ++size_;
}

}  // namespace tkmprom
