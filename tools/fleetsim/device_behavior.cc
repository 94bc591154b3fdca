// FleetSimulation: what each device does (protocol reference §2.2, §2.3,
// §3.1, §3.3, §3.5, §6.2) and the web backend's periodic traffic.
#include <algorithm>

#include "fleet_simulation.h"
#include "payloads.h"

namespace fleetsim {
namespace {

constexpr double kHeartbeatLimiter = 30;  // §3.3
constexpr double kBurstTimeout = 10;      // §2.1
constexpr double kBootResend = 10;        // §3.1
constexpr double kUnclaimedReboot = 900;  // §3.1
constexpr int kMaxPlaylistRequests = 10;  // §2.3

}  // namespace

void FleetSimulation::DeviceConnected(int i, double now) {
  Device& d = fleet_[i];
  if (d.conn != ConnState::kConnected) ++devices_connected_;
  d.conn = ConnState::kConnected;
  if (stopping_) return;
  HeartbeatAttempt(i, now);  // on every (re)connect, before subscribing
  if (d.booting) {
    d.booting = false;
    PublishBoot(i, false);
    HeartbeatAttempt(i, now);  // normally suppressed by the limiter
    if (SendsBootLog(d)) {
      Record r;
      r.kind = Kind::kLog;
      r.device = i;
      Send(i, "LOG/" + d.id, BootLogPayload(d), 0, false, std::move(r));
    }
    queue_.Push(now + kBootResend, EventType::kBootResend, i, 0, d.boot_generation);
    return;
  }
  if (d.burst_on_connect) {
    d.burst_on_connect = false;
    Burst(i, now);
  } else if (d.power == Power::kBattery && d.configured) {
    // Reconnected after a loss with nothing to do: back to sleep soon.
    queue_.Push(now + kBurstTimeout, EventType::kSleep, i, 0, d.awake_generation);
  }
}

void FleetSimulation::DeviceDisconnected(int i, double now, bool expected) {
  Device& d = fleet_[i];
  if (d.conn == ConnState::kConnected) --devices_connected_;
  d.conn = ConnState::kOffline;
  if (expected || stopping_) return;
  ++unexpected_disconnects_;
  bool wants_connection = d.power == Power::kMains || d.device_class == DeviceClass::kUnclaimed ||
                          d.burst_on_connect || d.booting || d.awaiting_boot_answer;
  // The firmware retries about every 2 s (§3.2).
  if (wants_connection) queue_.Push(now + 2, EventType::kConnect, i);
}

void FleetSimulation::Tick(int i, uint64_t gen, double now) {
  Device& d = fleet_[i];
  if (gen != d.tick_generation || stopping_) return;
  queue_.Push(now + d.period * rng_.Uniform(0.99, 1.01), EventType::kTick, i, 0, gen);
  if (!d.configured || d.device_class == DeviceClass::kUnclaimed) return;
  if (d.conn == ConnState::kConnected) {
    Burst(i, now);
    return;
  }
  d.burst_on_connect = true;
  if (d.power == Power::kBattery && d.conn == ConnState::kOffline) {
    // Wake up: WiFi takes 1-5 s before CONNECT (§6.2).
    ++d.awake_generation;
    d.conn = ConnState::kWifi;
    queue_.Push(now + rng_.Uniform(1, 5), EventType::kConnect, i);
  }
}

void FleetSimulation::RequestEntry(int i, int entry, double now) {
  (void)now;
  Device& d = fleet_[i];
  if (d.conn != ConnState::kConnected) return;
  Record r;
  r.kind = Kind::kStockRequest;
  r.device = i;
  r.entry = entry;
  if (entry >= 0) r.key = (*d.burst_playlist)[entry].name;
  // Built before the call: argument evaluation order would let std::move(r)
  // empty r.key first.
  const std::string payload = RequestPayload(d.id, r.key);
  Send(i, "STOCKPRICEUPDATE", payload, 0, false, std::move(r));
}

void FleetSimulation::Burst(int i, double now) {
  Device& d = fleet_[i];
  uint64_t gen = ++d.burst_generation;
  d.burst_done = false;
  RequestEntry(i, -1, now);
  if (d.mode == Mode::kPlaylist) {
    d.burst_playlist = d.playlist;
    int n = std::min<int>(kMaxPlaylistRequests, static_cast<int>(d.playlist->size()));
    d.expected_replies = n + 1;
    RequestEntry(i, 0, now);  // back to back with the no-symbol request
    for (int e = 1; e < n; ++e) {
      queue_.Push(now + 0.3 * e, EventType::kBurstStep, i, e, gen);
    }
    queue_.Push(now + 0.3 * n, EventType::kBurstEnd, i, 0, gen);
  } else {
    d.expected_replies = 1;
    BurstEnd(i, gen, now);
  }
}

void FleetSimulation::BurstEnd(int i, uint64_t gen, double now) {
  Device& d = fleet_[i];
  if (gen != d.burst_generation) return;
  d.burst_done = true;
  if (!stopping_) HeartbeatAttempt(i, now);
  if (d.power == Power::kBattery) {
    if (d.expected_replies <= 0) {
      Sleep(i, d.awake_generation);
    } else {
      queue_.Push(now + kBurstTimeout, EventType::kSleep, i, 0, d.awake_generation);
    }
  }
}

void FleetSimulation::Sleep(int i, uint64_t gen) {
  Device& d = fleet_[i];
  if (gen != d.awake_generation || d.power != Power::kBattery) return;
  if (d.conn != ConnState::kConnected || !d.configured || d.awaiting_boot_answer ||
      d.burst_on_connect || d.booting) {
    return;
  }
  ++d.awake_generation;
  ++d.wflct;  // the deliberate WiFi shutdown counts as a disconnect (§3.6)
  transport_->Disconnect(i);
}

void FleetSimulation::Receive(int i, DeviceEffect effect, double now) {
  Device& d = fleet_[i];
  if (d.conn != ConnState::kConnected) return;  // asleep or rebooting: lost
  d.awaiting_boot_answer = false;               // any parsable downlink stops boot resends
  switch (effect) {
    case DeviceEffect::kNone:
      break;
    case DeviceEffect::kAnswer:
      --d.expected_replies;
      if (d.power == Power::kBattery && d.burst_done && d.expected_replies <= 0) {
        Sleep(i, d.awake_generation);
      }
      break;
    case DeviceEffect::kBootQuote:
      if (!d.configured && !stopping_) {
        d.configured = true;
        uint64_t gen = ++d.tick_generation;
        queue_.Push(now + d.period * rng_.Uniform(0.99, 1.01), EventType::kTick, i, 0, gen);
        if (d.mode == Mode::kPlaylist) {
          Burst(i, now);  // a new playlist is run at once (§3.1 step 7)
        } else if (d.power == Power::kBattery) {
          queue_.Push(now + 0.5, EventType::kSleep, i, 0, d.awake_generation);
        }
      }
      break;
    case DeviceEffect::kBootNoConfig:
      break;
    case DeviceEffect::kDeviceReg:
      if (!d.reboot_scheduled && !stopping_) {
        d.reboot_scheduled = true;
        queue_.Push(now + kUnclaimedReboot, EventType::kBoot, i, 1, d.boot_generation);
      }
      break;
    case DeviceEffect::kPush:
      if (d.mode == Mode::kPlaylist && !stopping_) Burst(i, now);
      break;
  }
}

void FleetSimulation::Boot(int i, int scheduled, uint64_t gen, double now) {
  Device& d = fleet_[i];
  if (stopping_) return;
  if (scheduled) {
    if (gen != d.boot_generation) return;
  } else {
    queue_.Push(now + rng_.Exponential(options_.boot_mean_days * 86400), EventType::kBoot, i, 0);
  }
  truth_.OnRealBoot(i);
  ++d.boot_generation;
  ++d.tick_generation;
  ++d.burst_generation;
  ++d.awake_generation;
  d.booting = true;
  d.awaiting_boot_answer = true;
  d.configured = false;
  d.burst_on_connect = false;
  d.burst_done = true;
  d.reboot_scheduled = false;
  d.last_heartbeat = -1e18;
  d.boot_epoch = now;
  d.wflct = 0;
  if (d.conn == ConnState::kConnected || d.conn == ConnState::kConnecting) {
    transport_->Disconnect(i);
  }
  if (d.conn == ConnState::kWifi) d.conn = ConnState::kOffline;
  queue_.Push(now + rng_.Uniform(1, 5), EventType::kConnect, i);
}

void FleetSimulation::PublishBoot(int i, bool resend) {
  const Device& d = fleet_[i];
  Record r;
  r.kind = Kind::kBoot;
  r.device = i;
  r.resend = resend;
  Send(i, "TICKRMETERBOOT", BootPayload(d.id), 0, false, std::move(r));
}

void FleetSimulation::BootResend(int i, uint64_t gen, double now) {
  Device& d = fleet_[i];
  if (gen != d.boot_generation || !d.awaiting_boot_answer || stopping_) return;
  if (d.conn == ConnState::kConnected) {
    PublishBoot(i, true);
    HeartbeatAttempt(i, now);
  }
  queue_.Push(now + kBootResend, EventType::kBootResend, i, 0, gen);
}

void FleetSimulation::HeartbeatAttempt(int i, double now) {
  Device& d = fleet_[i];
  if (d.conn != ConnState::kConnected || now - d.last_heartbeat < kHeartbeatLimiter) return;
  d.last_heartbeat = now;
  Record r;
  r.kind = Kind::kHeartbeat;
  r.device = i;
  r.uptime = UptimeAt(d, now);
  Send(i, "DEVICESTATUS_RES", HeartbeatPayload(d, now, rng_), 0, false, std::move(r));
}

void FleetSimulation::Poll(double now) {
  if (stopping_) return;
  queue_.Push(now + 60, EventType::kPoll);
  Record r;
  r.kind = Kind::kStatusPoll;
  Send(web_client_, "DEVICESTATUS", PollPayload(), 1, false, std::move(r));
  // Every connected device answers within 0-2 s (§6.2), subject to the limiter.
  for (int i = 0; i < options_.devices; ++i) {
    if (fleet_[i].conn == ConnState::kConnected) {
      queue_.Push(now + rng_.Uniform(0, 2), EventType::kPollAnswer, i);
    }
  }
}

void FleetSimulation::PlaylistChange(double now) {
  if (stopping_) return;
  double rate = playlist_devices_ * options_.playlist_change_per_hour / 3600;
  queue_.Push(now + rng_.Exponential(1 / rate), EventType::kPlaylistChange);
  // Pick a configured playlist device.
  int i = -1;
  for (int tries = 0; tries < 100 && i < 0; ++tries) {
    int c = static_cast<int>(rng_.Below(fleet_.size()));
    if (fleet_[c].mode == Mode::kPlaylist && fleet_[c].configured) i = c;
  }
  if (i < 0) return;
  Device& d = fleet_[i];
  auto list = std::make_shared<Playlist>(*d.playlist);
  // best/worst playlists stay within one backend (device_model.h).
  int type = d.cycle_mode == 0 ? -1 : pool_.at((*list)[0].symbol).symbol_type;
  if (type >= 0 && pool_.CountOfType(type) <= static_cast<int>(list->size())) return;
  auto listed = [&](int s) {
    return std::any_of(list->begin(), list->end(),
                       [s](const PlaylistEntry& e) { return e.symbol == s; });
  };
  int fresh;
  do {
    fresh = type < 0 ? pool_.Draw(rng_) : pool_.DrawOfType(rng_, type);
  } while (listed(fresh));
  (*list)[rng_.Below(list->size())] = TypedEntry(pool_, fresh, options_.mixed_case_share, rng_);
  d.playlist = list;

  // The web pushes a NEW (QoS 1) and tells the streamer the symbols.
  Record push;
  push.kind = Kind::kDeviceMessage;
  push.device = i;
  const Symbol& first = pool_.at((*list)[0].symbol);
  push.reply.category = ReplyCategory::kNewAnswer;
  push.reply.symbol = first.reply_symbol;
  push.reply.symbol_type = first.symbol_type;
  push.reply.playlist = d.playlist;
  push.reply.symbol_index = 0;
  push.effect = DeviceEffect::kPush;
  Send(web_client_, d.id, PlaylistQuotePayload(d, *list, 0, first, "NEW", rng_), 1, false,
       std::move(push));
  std::string names = "[";
  for (size_t k = 0; k < list->size(); ++k) {
    names += (k ? ",\"" : "\"") + (*list)[k].name + "\"";
  }
  names += "]";
  Record other;
  other.kind = Kind::kOther;
  Send(web_client_, "ON_TV_SYMBOL_SUBSCRIBE", names, 1, false, std::move(other));
}

void FleetSimulation::FirmwareOffer(int clear, int i, double now) {
  // An operator offers firmware to one device (retained) and clears the
  // offer a minute later; devices do not act on it here.
  if (clear) {
    Record r;
    r.kind = Kind::kFirmwareUpdate;
    Send(web_client_, "FIRMWAREUPDATE/" + fleet_[i].id, "", 0, true, std::move(r));
    return;
  }
  if (stopping_) return;
  queue_.Push(now + 600, EventType::kFirmwareOffer, -1, 0);
  int target = static_cast<int>(rng_.Below(fleet_.size()));
  Record r;
  r.kind = Kind::kFirmwareUpdate;
  Send(web_client_, "FIRMWAREUPDATE/" + fleet_[target].id,
       "{\"version\":\"70p\",\"url\":\"https://firmware.example/tickrmeter\"}", 1, true,
       std::move(r));
  queue_.Push(now + 60, EventType::kFirmwareOffer, target, 1);
}

}  // namespace fleetsim
