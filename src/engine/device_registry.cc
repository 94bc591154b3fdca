#include "src/engine/device_registry.h"

#include <algorithm>
#include <cassert>

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
  if (firmware.empty()) firmware = "unknown";
  auto it = boots_by_firmware_.find(firmware);
  if (it == boots_by_firmware_.end()) {
    if (boots_by_firmware_.size() >= kMaxBootLabels) firmware = "_other";
    it = boots_by_firmware_.emplace(std::string(firmware), 0).first;
  }
  ++it->second;
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
  d.has_heartbeat = true;
  d.last_heartbeat_ns = now_ns;
  // Assigning equal strings reuses the capacity: no allocation per heartbeat.
  d.firmware_version.assign(hb.firmware_version.data(), hb.firmware_version.size());
  d.inner_version.assign(hb.inner_version.data(), hb.inner_version.size());
  d.flash_id.assign(hb.flash_id.data(), hb.flash_id.size());
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

}  // namespace tkmprom
