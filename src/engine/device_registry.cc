#include "src/engine/device_registry.h"

#include <algorithm>
#include <cassert>
#include <functional>

#include "src/engine/memory_usage.h"

namespace tkmprom {

void Device::Reset() {
  id.clear();
  in_use = false;
  last_seen_ns = 0;
  has_heartbeat = false;
  last_heartbeat_ns = 0;
  firmware_version.clear();
  inner_version.clear();
  flash_id.clear();
  labels_folded = false;
  for (uint64_t& h : reported_label_hash) h = 0;
  battery = vin = uptime = charging = wifi_disconnects = -1;
  xmc = HeartbeatFields::kAbsent;
  announced = heard_since_announce = announce_since_heartbeat = false;
  last_announce_ns = 0;
  boots = 0;
  for (RequestSlot& s : slots) {
    // A pending slot is linked in the correlator's deadline queue (Remove()).
    assert(s.state != RequestSlot::State::kPending);
    s.state = RequestSlot::State::kFree;
  }
  pending = 0;
  learned_symbol.clear();
  requests = responses = errors = timeouts = 0;
  per_symbol.clear();
}

DeviceRegistry::DeviceRegistry(const Config& config)
    : online_ns_(Config::ToNanos(config.device_timeout_s)),
      remove_after_ns_(2 * Config::ToNanos(config.device_timeout_s)),
      max_devices_(config.max_devices) {
  index_.Reserve(std::min<uint64_t>(max_devices_, 8192));
}

uint32_t DeviceRegistry::Touch(std::string_view id, int64_t now_ns) {
  uint32_t n = index_.Find(id);
  if (n == StringIndex::kNone) {
    if (index_.size() >= max_devices_) {
      ++dropped_;
      return StringIndex::kNone;
    }
    if (!free_.empty()) {
      n = free_.back();
      free_.pop_back();
    } else {
      n = static_cast<uint32_t>(entries_.size());
      entries_.emplace_back();
    }
    Device& d = entries_[n];
    d.id.assign(id.data(), id.size());
    d.in_use = true;
    d.last_seen_ns = now_ns;
    index_.Insert(d.id, n);
    next_removal_ns_ = std::min(next_removal_ns_, RemovalDue(now_ns));
  }
  Device& d = entries_[n];
  d.last_seen_ns = std::max(d.last_seen_ns, now_ns);
  return n;
}

void DeviceRegistry::Remove(uint32_t id) {
  Device& d = entries_[id];
  index_.Erase(d.id);
  const uint32_t generation = d.generation + 1;
  d.Reset();
  d.generation = generation;
  free_.push_back(id);
}

void DeviceRegistry::CountBoot(std::string_view firmware, int64_t now_ns) {
  boots_window_.Add(now_ns);
  // `firmware` is a stored value, bounded by labels_: no cap needed here.
  if (firmware.empty()) firmware = kUnknownLabel;
  auto it = boots_by_firmware_.find(firmware);
  if (it == boots_by_firmware_.end()) {
    it = boots_by_firmware_.emplace(std::string(firmware), 0).first;
  }
  ++it->second;
}

void DeviceRegistry::StoreLabels(Device& d, const HeartbeatFields& hb, bool first_heartbeat) {
  const std::string_view raw[DeviceLabels::kLabelCount] = {hb.firmware_version, hb.inner_version,
                                                           hb.flash_id};
  std::string* stored[DeviceLabels::kLabelCount] = {&d.firmware_version, &d.inner_version,
                                                    &d.flash_id};
  uint16_t ids[DeviceLabels::kLabelCount];
  bool changed = first_heartbeat;
  for (int i = 0; i < DeviceLabels::kLabelCount; ++i) {
    const DeviceLabels::Stored s = labels_.Admit(static_cast<DeviceLabels::Which>(i), raw[i]);
    const uint64_t hash = std::hash<std::string_view>()(raw[i]);
    if (s.folded && (first_heartbeat || hash != d.reported_label_hash[i])) ++labels_dropped_;
    d.reported_label_hash[i] = hash;
    ids[i] = s.id;
    if (*stored[i] != s.value) {
      changed = true;
      // Stored values are at most 32 bytes: the capacity stays small, and
      // assigning an equal value again (the usual case) does not allocate.
      stored[i]->assign(s.value.data(), s.value.size());
    }
  }
  const bool folded = !labels_.AdmitCombination(ids[0], ids[1], ids[2]);
  if (folded && changed) ++labels_dropped_;
  d.labels_folded = folded;
}

bool DeviceRegistry::OnBootAnnouncement(Device& d, int64_t now_ns) {
  const bool resend =
      d.announced && now_ns - d.last_announce_ns < kBootDedupNs && !d.heard_since_announce;
  d.announced = true;
  d.last_announce_ns = now_ns;
  d.heard_since_announce = false;
  d.announce_since_heartbeat = true;
  if (resend) return false;
  ++d.boots;
  CountBoot(d.firmware_version, now_ns);
  return true;
}

bool DeviceRegistry::OnHeartbeat(Device& d, const HeartbeatFields& hb, int64_t now_ns) {
  const bool boot = d.has_heartbeat && hb.uptime >= 0 && d.uptime >= 0 && hb.uptime < d.uptime &&
                    d.uptime <= kUptimeWrapFloorS && !d.announce_since_heartbeat;
  d.announce_since_heartbeat = false;
  StoreLabels(d, hb, !d.has_heartbeat);
  d.has_heartbeat = true;
  d.last_heartbeat_ns = now_ns;
  d.battery = hb.battery;
  d.vin = hb.vin;
  d.uptime = hb.uptime;
  d.charging = hb.charging;
  d.wifi_disconnects = hb.wifi_disconnects;
  d.xmc = hb.xmc;
  if (boot) {
    ++d.boots;
    CountBoot(d.firmware_version, now_ns);
    // A booting device sends this heartbeat right before its TICKRMETERBOOT
    // (protocol §3.1): that announcement, and its resends, are this boot.
    d.announced = true;
    d.last_announce_ns = now_ns;
    d.heard_since_announce = false;
  }
  return boot;
}

DeviceRegistryMemory DeviceRegistry::Memory() const {
  DeviceRegistryMemory m;
  m.entries = HeapBytes(entries_);
  for (const Device& d : entries_) {
    m.strings += HeapBytes(d.id) + HeapBytes(d.firmware_version) + HeapBytes(d.inner_version) +
                 HeapBytes(d.flash_id) + HeapBytes(d.learned_symbol);
    m.slots += HeapBytes(d.slots);
    for (const RequestSlot& s : d.slots) m.slots += HeapBytes(s.symbol);
    m.per_symbol += HeapBytes(d.per_symbol);
  }
  m.index = index_.MemoryBytes() + HeapBytes(free_);
  m.labels = labels_.MemoryBytes() + HeapBytes(boots_by_firmware_);
  return m;
}

}  // namespace tkmprom
