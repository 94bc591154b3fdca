// The last few requests that timed out (device, symbol label, when), for the
// status page's "recent timeouts" list. A fixed ring: recording overwrites
// the oldest entry and reuses its strings' capacity, so the steady state
// allocates nothing (a name longer than any before it in that entry may
// grow its buffer once).
//
// Thread safety: not thread-safe; owned by the engine thread.
#ifndef TKMPROM_ENGINE_RECENT_TIMEOUTS_H_
#define TKMPROM_ENGINE_RECENT_TIMEOUTS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tkmprom {

class RecentTimeouts {
 public:
  // Entries kept; older ones are overwritten.
  static constexpr size_t kCapacity = 20;

  struct Entry {
    std::string device_id;
    std::string symbol;  // the label the request was counted under
    int64_t at_ns = 0;   // when its deadline passed (engine clock)
  };

  RecentTimeouts();

  void Record(std::string_view device_id, std::string_view symbol, int64_t at_ns);

  size_t size() const { return size_; }
  // The i-th most recently recorded entry, 0 the newest; i < size().
  const Entry& FromNewest(size_t i) const {
    return entries_[(next_ + kCapacity - 1 - i) % kCapacity];
  }

 private:
  std::array<Entry, kCapacity> entries_;
  size_t next_ = 0;  // where the next record goes
  size_t size_ = 0;
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_RECENT_TIMEOUTS_H_
