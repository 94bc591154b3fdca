// The device registry (plugin-contract.md §4 "Devices", §5 boots, §6): one
// entry per device id seen in a request, heartbeat or boot, holding its last
// heartbeat, boot bookkeeping, its request slots (pending requests and recent
// outcomes, used by the Correlator) and per-device counters.
//
// Bounds: at most `max_devices` entries; ids refused by the cap are counted in
// dropped(). A device silent (no heartbeat, boot or request) for twice
// `device_timeout` is removed by RemoveSilent(). Boots are also counted in a
// fixed window of 60 one-minute slots (boots_last_hour(), for the status page).
//
// Labels (plugin-contract.md §7.2): a heartbeat's firmware_version, iv and
// flashID are stored bounded by DeviceLabels (device_labels.h): "_invalid"
// when over-long or not printable ASCII, "_other" beyond 256 distinct values
// per label (placeholders included); a device whose combination of the three
// is beyond the 1,000 series of tickrmeter_devices_online is marked
// labels_folded and counts online under "_other" for all three. Boots are
// counted by the stored firmware_version, so the boot counter has the same
// bounded label set. labels_dropped()
// (tracking_dropped_total{table="labels"}) counts once per device and label
// each time the device reports a value folded into "_other" that differs from
// the one it reported for that label in its previous heartbeat, and once per
// device each time its stored combination changes to one that is folded: a
// heartbeat repeating what the device said before adds nothing, so the
// counter grows with the number of devices and new values that did not fit,
// not with heartbeat traffic. "_invalid" values are not counted there (no
// cap was reached); tickrmeter_devices_online{...="_invalid"} shows them.
//
// Ids are indices into a std::deque that only grows; freed entries are reused
// (keeping their buffers' capacity) under a new generation.
//
// Thread safety: not thread-safe; owned by the engine thread.
#ifndef TKMPROM_ENGINE_DEVICE_REGISTRY_H_
#define TKMPROM_ENGINE_DEVICE_REGISTRY_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "src/engine/backend.h"
#include "src/engine/device_labels.h"
#include "src/engine/payload_parser.h"
#include "src/engine/sliding_count.h"
#include "src/engine/string_index.h"
#include "tkmprom/config.h"

namespace tkmprom {

// Names one request slot of one device: (device id, index in its slots), in
// 32 bits, so that a RequestSlot, which holds two, is one cache line.
struct SlotRef {
  static constexpr uint32_t kNoDevice = (uint32_t{1} << 26) - 1;
  SlotRef() : device(kNoDevice), slot(0) {}
  SlotRef(uint32_t device_id, uint32_t slot_index) : device(device_id), slot(slot_index) {}
  uint32_t device : 26;  // kNoDevice: no slot (end of a list)
  uint32_t slot : 6;     // < Correlator::kMaxSlotsPerDevice
};
static_assert(sizeof(SlotRef) == 4);
static_assert(Config::kMaxDevicesLimit < SlotRef::kNoDevice, "device ids fit beside kNoDevice");

// One request of a device, pending or recently resolved.
// One cache line (64 bytes, aligned): a device's slots are scanned for each
// answer, and that scan is where the correlator waits for memory (issue 15,
// perf annotate). A pending slot needs when it was requested, a record only
// when it was resolved, so the two share time_ns.
struct alignas(64) RequestSlot {
  enum class State : uint8_t { kFree, kPending, kAnswered, kTimedOut };
  std::string symbol;  // the requested symbol, "" for a request without one
  // kPending: when requested; kAnswered / kTimedOut: when resolved.
  int64_t time_ns = 0;
  uint64_t seq = 0;    // request order, for "oldest" among equal times
  uint32_t label = 0;  // SymbolTable id the request was counted under
  State state = State::kFree;
  Backend backend = Backend::kUnknown;  // BackendLedger entry it was counted under
  // Neighbours in the Correlator's deadline queue; linked while kPending.
  SlotRef queue_prev;
  SlotRef queue_next;
};

static_assert(sizeof(RequestSlot) == 64, "see the member order");

// Requests and answers of one device for one symbol label, kept only with
// per_device_metrics.
struct DeviceSymbolCount {
  uint32_t symbol = 0;
  uint32_t symbol_generation = 0;
  uint64_t requests = 0;
  uint64_t responses = 0;
};

struct Device {
  // Clears everything but keeps the buffers' capacity, for reuse of the entry.
  void Reset();

  std::string id;
  bool in_use = false;
  uint32_t generation = 0;
  int64_t last_seen_ns = 0;  // heartbeat, boot or request

  // Last heartbeat; the numbers are -1 (xmc kAbsent) when it lacked them.
  bool has_heartbeat = false;
  int64_t last_heartbeat_ns = 0;
  // Stored as DeviceLabels bounds them: at most 32 bytes each.
  std::string firmware_version;
  std::string inner_version;
  std::string flash_id;
  // The three combined are beyond DeviceLabels::kMaxCombinations.
  bool labels_folded = false;
  // Hashes of the raw values of the last heartbeat (firmware_version, iv,
  // flashID), to count a folded value once per device (labels_dropped()).
  uint64_t reported_label_hash[DeviceLabels::kLabelCount] = {};
  int64_t battery = -1;
  int64_t vin = -1;
  int64_t uptime = -1;
  int64_t charging = -1;
  int64_t wifi_disconnects = -1;
  int64_t xmc = HeartbeatFields::kAbsent;

  // Boots (§5): the last TICKRMETERBOOT, whether anything parsable arrived on
  // the device topic since, and whether one arrived since the last heartbeat.
  bool announced = false;
  int64_t last_announce_ns = 0;
  bool heard_since_announce = false;
  bool announce_since_heartbeat = false;
  uint64_t boots = 0;

  // Correlation state, maintained by the Correlator.
  std::vector<RequestSlot> slots;
  uint32_t pending = 0;
  std::string learned_symbol;  // label of symbol-less requests; "" = unknown
  uint64_t requests = 0;
  uint64_t responses = 0;
  uint64_t errors = 0;
  uint64_t timeouts = 0;
  std::vector<DeviceSymbolCount> per_symbol;
};

// Approximate heap bytes of a DeviceRegistry, by part (memory_usage.h).
struct DeviceRegistryMemory {
  size_t entries = 0;     // the Device objects
  size_t strings = 0;     // heap of ids, stored labels and learned symbols
  size_t slots = 0;       // request slots (RequestSlot objects and their symbols' heap)
  size_t per_symbol = 0;  // per_device_metrics counters
  size_t index = 0;       // the id index and the free list
  size_t labels = 0;      // DeviceLabels catalog and boots by firmware
  size_t Total() const { return entries + strings + slots + per_symbol + index + labels; }
};

class DeviceRegistry {
 public:
  // TICKRMETERBOOT repeats within this interval without an answer are resends.
  static constexpr int64_t kBootDedupNs = 60'000'000'000;
  // Uptime drops from above this are the 32-bit millisecond wrap, not boots.
  static constexpr int64_t kUptimeWrapFloorS = 4294000;
  // The window of boots_last_hour(): kBootWindowSlots slots of kBootSlotNs.
  static constexpr int64_t kBootSlotNs = 60'000'000'000;
  static constexpr int kBootWindowSlots = 60;

  explicit DeviceRegistry(const Config& config);

  uint32_t Find(std::string_view id) const { return index_.Find(id); }
  // The device's entry, created if new; StringIndex::kNone when the table is
  // full (counted in dropped()). Marks the device seen at now_ns.
  uint32_t Touch(std::string_view id, int64_t now_ns);

  Device& Get(uint32_t id) { return entries_[id]; }
  const Device& Get(uint32_t id) const { return entries_[id]; }

  // A TICKRMETERBOOT from the device; true if it counts as a boot.
  bool OnBootAnnouncement(Device& d, int64_t now_ns);
  // Anything parsable on the device's own topic (stops boot deduplication).
  void OnDeviceTopic(Device& d) { d.heard_since_announce = true; }
  // A heartbeat; true if its uptime drop counts as a boot.
  bool OnHeartbeat(Device& d, const HeartbeatFields& hb, int64_t now_ns);

  // Removes devices silent for 2 × device_timeout, calling before(id, device)
  // first for each, which must settle its pending requests (see Remove()).
  // Skips the scan while no device can be due: last_seen_ns only grows, so
  // the earliest last_seen_ns left by the previous scan (or a new device's)
  // bounds the next removal.
  template <typename F>
  void RemoveSilent(int64_t now_ns, F&& before) {
    if (now_ns < next_removal_ns_) return;
    int64_t earliest = INT64_MAX;
    for (uint32_t id = 0; id < entries_.size(); ++id) {
      Device& d = entries_[id];
      if (!d.in_use) continue;
      if (now_ns - d.last_seen_ns < remove_after_ns_) {
        earliest = std::min(earliest, d.last_seen_ns);
        continue;
      }
      before(id, d);
      Remove(id);
    }
    next_removal_ns_ = RemovalDue(earliest);
  }

  // Removes one device now (it publishes through another broker).
  // REQUIRES: the device has no pending request (Correlator::ForgetDevice()
  // settled them), so none of its slots is linked in the deadline queue.
  void Remove(uint32_t id);

  bool Online(const Device& d, int64_t now_ns) const {
    return now_ns - d.last_seen_ns < online_ns_;
  }

  uint64_t dropped() const { return dropped_; }
  void CountDropped() { ++dropped_; }
  // Label values and combinations folded into "_other" (see the file comment).
  uint64_t labels_dropped() const { return labels_dropped_; }
  size_t size() const { return index_.size(); }
  const std::deque<Device>& entries() const { return entries_; }
  // Boots by firmware_version label: the stored (bounded) values, "unknown"
  // for none; at most DeviceLabels::kMaxValuesPerLabel keys.
  const std::map<std::string, uint64_t, std::less<>>& boots_by_firmware() const {
    return boots_by_firmware_;
  }
  // Boots counted in the last hour (59 to 60 minutes, by one-minute slots).
  uint64_t boots_last_hour(int64_t now_ns) const { return boots_window_.Sum(now_ns); }

  DeviceRegistryMemory Memory() const;

 private:
  void CountBoot(std::string_view firmware, int64_t now_ns);
  // Stores the heartbeat's three labels in `d`, bounded (see the file comment).
  void StoreLabels(Device& d, const HeartbeatFields& hb, bool first_heartbeat);

  // When a device last seen at `last_seen_ns` is due for removal (saturated).
  int64_t RemovalDue(int64_t last_seen_ns) const {
    int64_t due;
    if (__builtin_add_overflow(last_seen_ns, remove_after_ns_, &due)) {
      return remove_after_ns_ > 0 ? INT64_MAX : INT64_MIN;
    }
    return due;
  }

  int64_t online_ns_;
  int64_t remove_after_ns_;
  int64_t next_removal_ns_ = INT64_MAX;  // no device can be due before
  uint64_t max_devices_;
  std::deque<Device> entries_;
  std::vector<uint32_t> free_;
  StringIndex index_;
  uint64_t dropped_ = 0;
  DeviceLabels labels_;
  uint64_t labels_dropped_ = 0;
  std::map<std::string, uint64_t, std::less<>> boots_by_firmware_;
  SlidingCount boots_window_{kBootSlotNs, kBootWindowSlots};
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_DEVICE_REGISTRY_H_
