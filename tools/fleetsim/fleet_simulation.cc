// FleetSimulation: client set-up, the run loop, publish bookkeeping, the
// backend's scheduled publishes and the summary. Device behaviour is in
// device_behavior.cc.
#include "fleet_simulation.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include "payloads.h"

namespace fleetsim {
namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

FleetSimulation::FleetSimulation(const Options& options, const volatile std::sig_atomic_t* stop)
    : options_(options),
      stop_(stop),
      pool_(options.symbols, options.slow_share, options.fail_share, options.seed),
      fleet_(MakeFleet(options.devices, pool_, options.rate_scale, options.error_device_share,
                       options.unclaimed_share, options.mixed_case_share, options.seed)),
      truth_(pool_, fleet_, options.request_timeout, options.ambiguity_margin,
             options.quantile_window),
      backend_(options, pool_, options.seed),
      rng_(SplitMix64(options.seed ^ 0x44455649434553ULL)) {
  for (const Device& d : fleet_) playlist_devices_ += d.mode == Mode::kPlaylist;
}

uint32_t FleetSimulation::NewRecord(Record record) {
  record.in_use = true;
  if (!free_records_.empty()) {
    uint32_t tag = free_records_.back();
    free_records_.pop_back();
    records_[tag] = std::move(record);
    return tag;
  }
  records_.push_back(std::move(record));
  return static_cast<uint32_t>(records_.size() - 1);
}

void FleetSimulation::FreeRecord(uint32_t tag) {
  records_[tag].in_use = false;
  records_[tag].reply.playlist.reset();
  free_records_.push_back(tag);
}

void FleetSimulation::Send(int client, const std::string& topic, const std::string& payload,
                           int qos, bool retain, Record record) {
  Kind kind = record.kind;
  uint32_t tag = NewRecord(std::move(record));
  if (!transport_->Publish(client, topic, payload, qos, retain, tag)) {
    ++refused_[static_cast<int>(kind)];
    const Record& r = records_[tag];
    if (r.kind == Kind::kDeviceMessage && r.reply.for_request != kNoRequest) {
      truth_.OnReplyCancelled(r.reply.for_request);
    }
    FreeRecord(tag);
  }
}

void FleetSimulation::Schedule(double when, PlannedPublish p, int device, uint32_t request) {
  Record r;
  r.kind = p.kind;
  r.device = device;
  r.reply = std::move(p.reply);
  r.reply.for_request = request == kNoRequest ? r.reply.for_request : request;
  r.effect = p.effect;
  r.extra_copy = p.extra_copy;
  Job job{p.sender, p.kind, std::move(p.topic),     std::move(p.payload),
          0,        false,  NewRecord(std::move(r))};
  uint32_t index;
  if (!free_jobs_.empty()) {
    index = free_jobs_.back();
    free_jobs_.pop_back();
    jobs_[index] = std::move(job);
  } else {
    index = static_cast<uint32_t>(jobs_.size());
    jobs_.push_back(std::move(job));
  }
  queue_.Push(when, EventType::kBackendPublish, device, 0, 0, index);
}

void FleetSimulation::BackendPublish(uint32_t index, double now) {
  (void)now;
  Job job = std::move(jobs_[index]);
  free_jobs_.push_back(index);
  int client = job.sender == Sender::kBackend
                   ? backend_base_ + static_cast<int>(rng_.Below(options_.backend_connections))
                   : (job.sender == Sender::kStream ? stream_client_ : web_client_);
  Record r = std::move(records_[job.record]);
  FreeRecord(job.record);
  Send(client, job.topic, job.payload, job.qos, job.retain, std::move(r));
}

void FleetSimulation::OnPublished(uint32_t tag, double now) {
  // Move the record out first: scheduling below may grow records_.
  Record r = std::move(records_[tag]);
  FreeRecord(tag);
  int k = static_cast<int>(r.kind);
  ++sent_[k];
  truth_.CountPublish(r.kind);
  switch (r.kind) {
    case Kind::kStockRequest: {
      uint32_t id = truth_.OnRequest(r.device, r.key, now);
      RequestDecision dec = backend_.OnRequest(fleet_[r.device], r.entry, id);
      if (dec.no_reply) truth_.OnNoReplyInjected(id);
      if (dec.late) truth_.OnLateInjected(id);
      for (PlannedPublish& p : dec.publishes) {
        double when = now + p.delay;
        uint32_t request = p.kind == Kind::kDeviceMessage ? id : kNoRequest;
        Schedule(when, std::move(p), r.device, request);
      }
      break;
    }
    case Kind::kDeviceMessage:
      truth_.OnDeviceMessage(r.device, r.reply, now);
      if (r.extra_copy && r.reply.for_request != kNoRequest) {
        truth_.OnDuplicateSent(r.reply.for_request);
      }
      queue_.Push(now, EventType::kReceive, r.device, static_cast<int>(r.effect));
      break;
    case Kind::kHeartbeat:
      truth_.OnHeartbeat(r.device, r.uptime, now);
      break;
    case Kind::kBoot:
      truth_.OnBootAnnouncement(r.device, r.resend, now);
      for (PlannedPublish& p : backend_.OnBoot(fleet_[r.device])) {
        double when = now + p.delay;
        Schedule(when, std::move(p), r.device, kNoRequest);
      }
      break;
    default:
      break;
  }
}

void FleetSimulation::OnPublishLost(uint32_t tag) {
  Record& r = records_[tag];
  ++lost_[static_cast<int>(r.kind)];
  if (r.kind == Kind::kDeviceMessage && r.reply.for_request != kNoRequest) {
    truth_.OnReplyCancelled(r.reply.for_request);
  }
  FreeRecord(tag);
}

void FleetSimulation::OnConnected(int client, double now) {
  queue_.Push(now, EventType::kConnected, client);
}

void FleetSimulation::OnDisconnected(int client, double now, bool expected) {
  queue_.Push(now, EventType::kDisconnected, client, expected ? 1 : 0);
}

bool FleetSimulation::Run() {
  cpu_start_ = CpuSeconds();
  const int n = options_.devices;
  backend_base_ = n;
  web_client_ = n + options_.backend_connections;
  stream_client_ = web_client_ + 1;
  service_connected_.assign(stream_client_ + 1, false);
  for (int i = 0; i < n; ++i) {
    if (!transport_->AddClient(i, ClientSpec{fleet_[i].id, 15, true})) return false;
  }
  for (int i = 0; i < options_.backend_connections; ++i) {
    if (!transport_->AddClient(backend_base_ + i,
                               ClientSpec{"sim-backend-" + std::to_string(i), 30, false})) {
      return false;
    }
  }
  if (!transport_->AddClient(web_client_, ClientSpec{"sim-web-0", 60, false}) ||
      !transport_->AddClient(stream_client_, ClientSpec{"sim-stream-0", 30, false})) {
    return false;
  }
  for (int c = backend_base_; c <= stream_client_; ++c) queue_.Push(0, EventType::kConnect, c);

  // Devices that stay connected join at --connect-rate; every configured
  // device's update timer starts at a random phase (§6.2).
  double ramp = 0.5;
  for (int i = 0; i < n; ++i) {
    Device& d = fleet_[i];
    bool stays = d.power == Power::kMains || d.device_class == DeviceClass::kUnclaimed;
    if (stays) {
      queue_.Push(ramp, EventType::kConnect, i);
      ramp += 1 / options_.connect_rate;
    }
    if (d.device_class == DeviceClass::kUnclaimed) {
      d.configured = false;
      queue_.Push(rng_.Uniform(0, 900), EventType::kBoot, i, 1, d.boot_generation);
      continue;
    }
    queue_.Push(rng_.Uniform(0, d.period), EventType::kTick, i, 0, d.tick_generation);
    if (d.device_class == DeviceClass::kNormal) {
      queue_.Push(rng_.Exponential(options_.boot_mean_days * 86400), EventType::kBoot, i, 0);
    }
  }
  ramp_end_ = ramp + 5;

  double first_poll = 30;
  if (options_.dump_path.empty()) {
    // The web backend polls on the minute.
    first_poll = 60 - static_cast<double>(std::time(nullptr) % 60);
  }
  queue_.Push(first_poll, EventType::kPoll);
  if (playlist_devices_ > 0 && options_.playlist_change_per_hour > 0) {
    double rate = playlist_devices_ * options_.playlist_change_per_hour / 3600;
    queue_.Push(rng_.Exponential(1 / rate), EventType::kPlaylistChange);
  }
  if (n > 0) queue_.Push(300, EventType::kFirmwareOffer, -1, 0);
  if (options_.progress) queue_.Push(1, EventType::kProgress);

  while (!queue_.empty()) {
    double next = queue_.top().time;
    if (!stopping_ && (*stop_ || next >= options_.duration)) {
      BeginStop(*stop_ ? transport_->Now() : std::max(options_.duration, transport_->Now()));
      continue;
    }
    if (stopping_ && next > drain_end_) break;
    transport_->RunUntil(next);
    if (!stopping_ && *stop_) continue;
    double now = transport_->Now();
    if (!ramp_snapshot_taken_ && now >= ramp_end_) {
      ramp_snapshot_taken_ = true;
      std::copy(std::begin(sent_), std::end(sent_), std::begin(sent_at_ramp_));
    }
    while (!queue_.empty() && queue_.top().time <= now) {
      Event e = queue_.Pop();
      max_lag_ = std::max(max_lag_, now - e.time);
      Dispatch(e, now);
      if (stopping_ && e.time > drain_end_) break;
    }
  }
  Finish();
  return true;
}

void FleetSimulation::BeginStop(double now) {
  stopping_ = true;
  stop_time_ = now;
  drain_end_ = now + options_.drain;
  std::copy(std::begin(sent_), std::end(sent_), std::begin(sent_at_stop_));
  if (options_.progress && !options_.progress_line) {
    std::fprintf(stderr, "fleetsim: stopping at t=%.1f s; draining backend replies for %.0f s\n",
                 now, options_.drain);
  }
}

void FleetSimulation::Finish() {
  if (!stopping_) BeginStop(transport_->Now());
  if (options_.progress_line) std::fputc('\n', stderr);
  // Replies still scheduled are cancelled, and recorded as such.
  while (!queue_.empty()) {
    Event e = queue_.Pop();
    if (e.type == EventType::kFirmwareOffer && e.arg == 1) {
      FirmwareOffer(1, e.device, transport_->Now());  // never leave an offer retained
      continue;
    }
    if (e.type != EventType::kBackendPublish) continue;
    Job& job = jobs_[e.ref];
    Record& r = records_[job.record];
    ++cancelled_[static_cast<int>(job.kind)];
    if (r.kind == Kind::kDeviceMessage && r.reply.for_request != kNoRequest) {
      truth_.OnReplyCancelled(r.reply.for_request);
    }
    FreeRecord(job.record);
  }
  double now = std::max(transport_->Now(), drain_end_);
  transport_->RunUntil(now);
  truth_.AdvanceTo(transport_->Now());
  end_time_ = transport_->Now();
  for (int c = 0; c <= stream_client_; ++c) transport_->Disconnect(c);
  double deadline = transport_->Now() + 5;
  while (!transport_->AllDisconnected() && transport_->Now() < deadline) {
    transport_->RunUntil(transport_->Now() + 0.1);
  }
}

void FleetSimulation::Dispatch(const Event& e, double now) {
  switch (e.type) {
    case EventType::kConnect:
      StartConnect(e.device, now);
      break;
    case EventType::kConnected:
      if (e.device >= options_.devices) {
        service_connected_[e.device] = true;
      } else {
        DeviceConnected(e.device, now);
      }
      break;
    case EventType::kDisconnected:
      if (e.device >= options_.devices) {
        service_connected_[e.device] = false;
        if (!e.arg && !(stopping_ && now >= drain_end_)) {
          ++unexpected_disconnects_;
          queue_.Push(now + 1, EventType::kConnect, e.device);
        }
      } else {
        DeviceDisconnected(e.device, now, e.arg != 0);
      }
      break;
    case EventType::kTick:
      Tick(e.device, e.gen, now);
      break;
    case EventType::kBurstStep:
      if (e.gen == fleet_[e.device].burst_generation && !stopping_) {
        RequestEntry(e.device, e.arg, now);
      }
      break;
    case EventType::kBurstEnd:
      BurstEnd(e.device, e.gen, now);
      break;
    case EventType::kSleep:
      Sleep(e.device, e.gen);
      break;
    case EventType::kReceive:
      Receive(e.device, static_cast<DeviceEffect>(e.arg), now);
      break;
    case EventType::kPoll:
      Poll(now);
      break;
    case EventType::kPollAnswer:
      if (!stopping_) HeartbeatAttempt(e.device, now);
      break;
    case EventType::kBoot:
      Boot(e.device, e.arg, e.gen, now);
      break;
    case EventType::kBootResend:
      BootResend(e.device, e.gen, now);
      break;
    case EventType::kBackendPublish:
      BackendPublish(e.ref, now);
      break;
    case EventType::kPlaylistChange:
      PlaylistChange(now);
      break;
    case EventType::kFirmwareOffer:
      FirmwareOffer(e.arg, e.device, now);
      break;
    case EventType::kProgress:
      Progress(now);
      break;
  }
}

void FleetSimulation::StartConnect(int client, double now) {
  if (client >= options_.devices) {
    if (!service_connected_[client]) transport_->Connect(client);
    return;
  }
  Device& d = fleet_[client];
  if (stopping_) return;
  if (d.conn == ConnState::kConnected || d.conn == ConnState::kConnecting) {
    // A rebooting device whose old connection is not closed yet tries again.
    if (d.booting) queue_.Push(now + 1, EventType::kConnect, client);
    return;
  }
  if (d.conn == ConnState::kWifi || d.conn == ConnState::kOffline) {
    d.conn = ConnState::kConnecting;
    ++connects_;
    transport_->Connect(client);
  }
}

void FleetSimulation::Progress(double now) {
  // The line keeps counting through the drain; lines a second stop with it.
  if (!stopping_ || options_.progress_line) queue_.Push(now + 1, EventType::kProgress);
  double dt = now - last_progress_time_;
  if (dt <= 0) return;
  auto rate = [&](Kind k) {
    int i = static_cast<int>(k);
    return static_cast<double>(sent_[i] - last_progress_sent_[i]) / dt;
  };
  uint64_t total = 0, delta = 0;
  for (int i = 0; i < kKindCount; ++i) {
    total += sent_[i];
    delta += sent_[i] - last_progress_sent_[i];
  }
  if (options_.progress_line) {
    // One line rewritten in place (\r, then clear to its end), within 80
    // columns.
    char phase[40];
    if (stopping_) {
      std::snprintf(phase, sizeof phase, "drain %2.0f s", now - stop_time_);
    } else {
      std::snprintf(phase, sizeof phase, "%4.0f/%.0f s", now, options_.duration);
    }
    std::fprintf(stderr,
                 "\rfleetsim %s | %4d devices | %4.0f req/s | %4.0f replies/s | %4zu pending"
                 "\033[K",
                 phase, devices_connected_, rate(Kind::kStockRequest), rate(Kind::kDeviceMessage),
                 truth_.pending());
    std::fflush(stderr);
  } else {
    std::fprintf(stderr,
                 "t=%6.1f dev=%5d req=%6.1f/s rep=%6.1f/s hb=%7.1f/s boot=%4.1f/s all=%7.1f/s "
                 "total=%llu pending=%zu queue=%zu lag=%.0fms %s\n",
                 now, devices_connected_, rate(Kind::kStockRequest), rate(Kind::kDeviceMessage),
                 rate(Kind::kHeartbeat), rate(Kind::kBoot), static_cast<double>(delta) / dt,
                 static_cast<unsigned long long>(total), truth_.pending(), queue_.size(),
                 max_lag_ * 1000, transport_->Status().c_str());
  }
  std::copy(std::begin(sent_), std::end(sent_), std::begin(last_progress_sent_));
  last_progress_time_ = now;
  max_lag_total_ = std::max(max_lag_total_, max_lag_);
  max_lag_ = 0;
}

nlohmann::json FleetSimulation::Summary() const {
  nlohmann::json j;
  truth_.ToJson(&j);
  const double traffic = std::max(stop_time_, 1e-9);
  const double steady = stop_time_ - ramp_end_;
  nlohmann::json rates = nlohmann::json::object(), steady_rates = nlohmann::json::object();
  nlohmann::json refused = nlohmann::json::object(), lost = nlohmann::json::object(),
                 cancelled = nlohmann::json::object();
  double all = 0, all_steady = 0;
  for (int i = 0; i < kKindCount; ++i) {
    const char* name = KindName(static_cast<Kind>(i));
    rates[name] = static_cast<double>(sent_at_stop_[i]) / traffic;
    all += static_cast<double>(sent_at_stop_[i]) / traffic;
    if (ramp_snapshot_taken_ && steady > 1) {
      double r = static_cast<double>(sent_at_stop_[i] - sent_at_ramp_[i]) / steady;
      steady_rates[name] = r;
      all_steady += r;
    }
    refused[name] = refused_[i];
    lost[name] = lost_[i];
    cancelled[name] = cancelled_[i];
  }
  rates["all"] = all;
  if (!steady_rates.empty()) steady_rates["all"] = all_steady;

  nlohmann::json run;
  run["mode"] = options_.dump_path.empty() ? "mqtt" : "dump";
  run["seed"] = options_.seed;
  run["devices"] = options_.devices;
  run["symbols"] = options_.symbols;
  run["rate_scale"] = options_.rate_scale;
  run["duplicates"] = options_.duplicates;
  run["request_timeout"] = options_.request_timeout;
  run["ambiguity_margin"] = options_.ambiguity_margin;
  run["latency"] = {{"median", options_.latency_median},
                    {"p95", options_.latency_p95},
                    {"cap", std::min(options_.latency_cap, options_.request_timeout - 2)},
                    {"min", options_.latency_min}};
  nlohmann::json profiles = nlohmann::json::object();
  for (int type = 0; type <= kMaxSymbolType; ++type) {
    const BackendProfile& p = ProfileOf(type);
    profiles[p.what] = {{"median_factor", p.median_factor},
                        {"spread_factor", p.spread_factor},
                        {"extra_no_reply_share", p.no_reply},
                        {"extra_late_share", p.late}};
  }
  run["backend_profiles"] = profiles;
  run["mixed_case_share"] = options_.mixed_case_share;
  run["quantile_window"] = options_.quantile_window;
  run["traffic_seconds"] = stop_time_;
  run["drain_seconds"] = options_.drain;
  run["end_seconds"] = end_time_;
  run["ramp_end_seconds"] = ramp_end_;
  run["rates_per_second"] = rates;
  run["steady_rates_per_second"] = steady_rates;  // after the connection ramp
  run["refused_publishes"] = refused;
  run["lost_publishes"] = lost;
  run["cancelled_publishes"] = cancelled;
  run["device_connects"] = connects_;
  run["unexpected_disconnects"] = unexpected_disconnects_;
  run["max_event_lag_seconds"] = std::max(max_lag_total_, max_lag_);
  run["cpu_seconds"] = CpuSeconds() - cpu_start_;
  j["run"] = run;

  nlohmann::json fleet;
  std::map<std::string, uint64_t> by_fw, by_shape, by_mode, by_power, by_class, by_iv, by_flash;
  static const char* const kModes[] = {"single", "playlist", "page"};
  static const char* const kClasses[] = {"normal", "removed_no_config", "unknown_not_found",
                                         "unclaimed"};
  static const char* const kShapes[] = {
      "current",          "fw44", "fw40_wflc", "fw38_wlc", "fw37_no_counter",
      "fw37_uptime_only", "fw31", "numeric"};
  std::vector<bool> touched(pool_.size(), false);
  uint64_t alerts = 0, low_battery = 0, entries = 0, mixed_case = 0;
  for (const Device& d : fleet_) {
    by_fw[d.firmware]++;
    by_shape[kShapes[static_cast<int>(d.shape)]]++;
    by_mode[kModes[static_cast<int>(d.mode)]]++;
    by_power[d.power == Power::kMains ? "mains" : "battery"]++;
    by_class[kClasses[static_cast<int>(d.device_class)]]++;
    by_iv[d.inner_version.empty() ? "unknown" : d.inner_version]++;
    by_flash[d.flash_id]++;
    alerts += d.alerts;
    low_battery += d.low_battery;
    if (d.mode == Mode::kPlaylist) {
      for (const PlaylistEntry& e : *d.playlist) {
        touched[e.symbol] = true;
        mixed_case += e.name != pool_.at(e.symbol).name;
      }
      entries += d.playlist->size();
    } else if (d.mode == Mode::kSingle) {
      touched[d.symbol] = true;
    }
  }
  fleet["by_firmware"] = by_fw;
  fleet["by_heartbeat_shape"] = by_shape;
  fleet["by_inner_version"] = by_iv;
  fleet["by_flash_id"] = by_flash;
  fleet["by_mode"] = by_mode;
  fleet["by_power"] = by_power;
  fleet["by_class"] = by_class;
  fleet["with_alerts"] = alerts;
  fleet["low_battery"] = low_battery;
  fleet["playlist_entries"] = entries;
  fleet["playlist_entries_mixed_case"] = mixed_case;
  fleet["symbols_configured"] = std::count(touched.begin(), touched.end(), true);
  uint64_t slow = 0, fails = 0, commodity = 0;
  std::map<std::string, uint64_t> by_backend;
  for (int i = 0; i < pool_.size(); ++i) {
    slow += pool_.at(i).slow;
    fails += pool_.at(i).fails;
    commodity += pool_.at(i).commodity;
    by_backend[BackendName(pool_.at(i).symbol_type)]++;
  }
  fleet["pool"] = {{"size", pool_.size()},
                   {"slow", slow},
                   {"failing", fails},
                   {"commodity", commodity},
                   {"by_backend", by_backend}};
  j["fleet"] = fleet;
  return j;
}

}  // namespace fleetsim
