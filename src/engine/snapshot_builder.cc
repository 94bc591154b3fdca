#include "src/engine/snapshot_builder.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace tkmprom {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr char kUnknown[] = "unknown";

// Shortest decimal form that reads back exactly ("0.1", "60", "2592000").
std::string FormatBound(double v) {
  if (std::isinf(v)) return "+Inf";
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "0";
  return std::string(buf, ptr);
}

std::string OrUnknown(const std::string& s) { return s.empty() ? kUnknown : s; }

MetricFamily& Add(Snapshot* snap, const char* name, MetricType type, const char* help) {
  MetricFamily& f = snap->families.emplace_back();
  f.name = name;
  f.type = type;
  f.help = help;
  return f;
}

void Push(MetricFamily& f, const char* suffix, std::vector<Label> labels, double value) {
  Sample& s = f.samples.emplace_back();
  s.suffix = suffix;
  s.labels = std::move(labels);
  s.value = value;
}

double Seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

// The `le` label values of latency_buckets, "+Inf" last.
std::vector<std::string> BucketBounds(const std::vector<double>& bounds) {
  std::vector<std::string> out;
  for (double b : bounds) out.push_back(FormatBound(b));
  out.push_back("+Inf");
  return out;
}

// One labelled histogram: cumulative _bucket series, _sum and _count.
void PushHistogram(MetricFamily& f, const char* label, const std::string& value,
                   const std::vector<std::string>& bounds, const std::vector<uint64_t>& buckets,
                   double sum, uint64_t count) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    Push(f, "_bucket", {{label, value}, {"le", bounds[i]}}, static_cast<double>(cumulative));
  }
  Push(f, "_sum", {{label, value}}, sum);
  Push(f, "_count", {{label, value}}, static_cast<double>(count));
}

void AddSymbolFamilies(const EngineTables& t, Snapshot* snap) {
  const SymbolTable& symbols = t.symbols;
  const bool per_device = t.config.per_device_metrics;
  MetricFamily& requests =
      Add(snap, "tickrmeter_stock_update_requests", MetricType::kCounter,
          "Stock update requests seen on STOCKPRICEUPDATE, by requested symbol "
          "(symbol-less requests under the symbol the device learned).");
  MetricFamily& responses = Add(snap, "tickrmeter_stock_update_responses", MetricType::kCounter,
                                "Stock update requests answered by a quote on the device topic.");
  MetricFamily& errors = Add(snap, "tickrmeter_stock_update_errors", MetricType::kCounter,
                             "Stock update requests answered by an error reply (NO_CONFIG, "
                             "Device Not Found, INVALID_FORMAT, page error, STOCK_ERROR).");
  MetricFamily& timeouts = Add(snap, "tickrmeter_symbol_timeout", MetricType::kCounter,
                               "Stock update requests unanswered after request_timeout.");
  MetricFamily& superseded =
      Add(snap, "tickrmeter_stock_update_superseded", MetricType::kCounter,
          "Stock update requests replaced by a newer request for the same device and symbol "
          "before any answer.");
  MetricFamily& pending = Add(snap, "tickrmeter_stock_update_pending", MetricType::kGauge,
                              "Stock update requests waiting for an answer now.");
  MetricFamily& latency =
      Add(snap, "tickrmeter_stock_update_latency_seconds", MetricType::kHistogram,
          "Request to answer time of answered stock update requests, as the broker saw both.");
  MetricFamily& avg = Add(snap, "tickrmeter_symbol_avg_latency_seconds", MetricType::kGauge,
                          "Mean latency of the answers in the last quantile_window (NaN when "
                          "none).");
  MetricFamily& summary =
      Add(snap, "tickrmeter_symbol_latency_seconds", MetricType::kSummary,
          "Latency quantiles (nearest rank, within 1 %) of the answers in the last "
          "quantile_window (NaN when none); _sum and _count cover all answers since start.");

  const std::vector<std::string> bounds = BucketBounds(symbols.bounds());
  static const char* const kQuantileNames[4] = {"0.5", "0.9", "0.95", "0.99"};

  snap->latency_bounds = symbols.bounds();
  const auto& entries = symbols.entries();
  snap->symbols.reserve(symbols.in_use());
  for (const SymbolEntry& e : entries) {
    if (!e.in_use) continue;
    const std::string& sym = e.name;
    auto one = [&sym] { return std::vector<Label>{{"symbol", sym}}; };
    if (!per_device) {
      Push(requests, "_total", one(), static_cast<double>(e.requests));
      Push(responses, "_total", one(), static_cast<double>(e.responses));
    }
    Push(errors, "_total", one(), static_cast<double>(e.errors));
    Push(timeouts, "_total", one(), static_cast<double>(e.timeouts));
    Push(superseded, "_total", one(), static_cast<double>(e.superseded));
    Push(pending, "", one(), static_cast<double>(e.pending));
    PushHistogram(latency, "symbol", sym, bounds, e.buckets, e.latency_sum, e.responses);

    const WindowedStats::View view = e.window.Read(t.now_ns);
    Push(avg, "", one(), view.answers == 0 ? kNaN : view.avg_latency_s);
    for (int q = 0; q < 4; ++q) {
      Push(summary, "", {{"symbol", sym}, {"quantile", kQuantileNames[q]}},
           view.answers == 0 ? kNaN : view.quantiles[q]);
    }
    Push(summary, "_sum", one(), e.latency_sum);
    Push(summary, "_count", one(), static_cast<double>(e.responses));

    SymbolWindow& w = snap->symbols.emplace_back();
    w.symbol = sym;
    w.avg_latency_s = view.answers == 0 ? kNaN : view.avg_latency_s;
    w.p95_latency_s = view.answers == 0 ? kNaN : view.quantiles[2];
    w.timeout_rate = view.timeout_rate;
    w.requests = view.requests;
    w.latency_buckets = e.buckets;
    w.backend = BackendName(e.is_other ? Backend::kUnknown : e.backend);
  }

  if (per_device) {
    // device_id is added to the request/response counters (§4).
    for (const Device& d : t.devices.entries()) {
      if (!d.in_use) continue;
      for (const DeviceSymbolCount& c : d.per_symbol) {
        const SymbolEntry& e = symbols.Get(c.symbol);
        if (!e.in_use || e.generation != c.symbol_generation) continue;
        Push(requests, "_total", {{"symbol", e.name}, {"device_id", d.id}},
             static_cast<double>(c.requests));
        Push(responses, "_total", {{"symbol", e.name}, {"device_id", d.id}},
             static_cast<double>(c.responses));
      }
    }
  }

  MetricFamily& unmatched =
      Add(snap, "tickrmeter_stock_update_unmatched_responses", MetricType::kCounter,
          "Answers that resolved no pending request: late (its request timed out), duplicate "
          "(its request was already answered) or unsolicited.");
  for (int r = 0; r < kUnmatchedCount; ++r) {
    const auto u = static_cast<Unmatched>(r);
    Push(unmatched, "_total", {{"reason", UnmatchedName(u)}},
         static_cast<double>(t.correlator.unmatched(u)));
  }
}

// The tickrmeter_backend_* families (§7.5), every backend from the start,
// and their typed view.
void AddBackendFamilies(const EngineTables& t, Snapshot* snap) {
  MetricFamily& requests =
      Add(snap, "tickrmeter_backend_requests", MetricType::kCounter,
          "Stock update requests by quote backend: the backend of the requested symbol's last "
          "answer that named one (symbolType; page for page replies) when the request was "
          "counted, unknown before. Symbols folded into _other count under their own backend.");
  MetricFamily& responses = Add(snap, "tickrmeter_backend_responses", MetricType::kCounter,
                                "Requests answered by a quote, by the backend they were counted "
                                "under.");
  MetricFamily& errors = Add(snap, "tickrmeter_backend_errors", MetricType::kCounter,
                             "Requests answered by an error reply, by the backend they were "
                             "counted under.");
  MetricFamily& timeouts = Add(snap, "tickrmeter_backend_timeouts", MetricType::kCounter,
                               "Requests unanswered after request_timeout, by the backend they "
                               "were counted under.");
  MetricFamily& superseded =
      Add(snap, "tickrmeter_backend_superseded", MetricType::kCounter,
          "Requests replaced by a newer request for the same device and symbol before any "
          "answer, by the backend they were counted under.");
  MetricFamily& pending = Add(snap, "tickrmeter_backend_pending", MetricType::kGauge,
                              "Requests waiting for an answer now, by the backend they were "
                              "counted under.");
  MetricFamily& latency = Add(snap, "tickrmeter_backend_latency_seconds", MetricType::kHistogram,
                              "Request to answer time of answered requests, as the broker saw "
                              "both, by the backend they were counted under.");
  const std::vector<std::string> bounds = BucketBounds(t.symbols.bounds());
  snap->backends.reserve(kBackendCount);
  for (int i = 0; i < kBackendCount; ++i) {
    const auto backend = static_cast<Backend>(i);
    const BackendLedger::Entry& e = t.backends.Get(backend);
    const std::string name = BackendName(backend);
    auto one = [&name] { return std::vector<Label>{{"backend", name}}; };
    Push(requests, "_total", one(), static_cast<double>(e.requests));
    Push(responses, "_total", one(), static_cast<double>(e.responses));
    Push(errors, "_total", one(), static_cast<double>(e.errors));
    Push(timeouts, "_total", one(), static_cast<double>(e.timeouts));
    Push(superseded, "_total", one(), static_cast<double>(e.superseded));
    Push(pending, "", one(), static_cast<double>(e.pending));
    PushHistogram(latency, "backend", name, bounds, e.buckets, e.latency_sum, e.responses);

    BackendTotals& v = snap->backends.emplace_back();
    v.backend = name;
    v.requests = e.requests;
    v.responses = e.responses;
    v.errors = e.errors;
    v.timeouts = e.timeouts;
    v.superseded = e.superseded;
    v.pending = e.pending;
    v.latency_buckets = e.buckets;
    v.latency_sum = e.latency_sum;
  }
}

void AddDeviceFamilies(const EngineTables& t, Snapshot* snap) {
  const DeviceRegistry& devices = t.devices;
  const int64_t now = t.now_ns;
  static const int kBatteryBounds[] = {10, 25, 50, 75, 90, 100};
  static const double kUptimeBounds[] = {3600, 86400, 604800, 2592000,
                                         std::numeric_limits<double>::infinity()};
  uint64_t battery_le[6] = {};
  uint64_t uptime_le[5] = {};
  uint64_t charging = 0;
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> online;
  online[{kUnknown, kUnknown, kUnknown}] = 0;

  const bool per_device = t.config.per_device_metrics;
  MetricFamily* dev_battery = nullptr;
  MetricFamily* dev_uptime = nullptr;
  MetricFamily* dev_vin = nullptr;
  MetricFamily* dev_wifi = nullptr;
  MetricFamily* dev_charging = nullptr;
  MetricFamily* dev_seen = nullptr;
  std::vector<MetricFamily> per;
  double wall_now_s = 0;
  if (per_device) {
    per.resize(6);
    const char* names[6][2] = {
        {"tickrmeter_device_battery_level", "Battery percentage (0-100) of the last heartbeat."},
        {"tickrmeter_device_uptime_seconds", "Uptime reported by the last heartbeat."},
        {"tickrmeter_device_vin_level", "Raw 12-bit ADC supply reading of the last heartbeat."},
        {"tickrmeter_device_wifi_disconnects",
         "WiFi disconnect events since boot (wflct/wflc/wlc) of the last heartbeat."},
        {"tickrmeter_device_charging", "1 if the last heartbeat reported isCharging 1."},
        {"tickrmeter_device_last_seen_timestamp_seconds",
         "Unix time of the device's last heartbeat, boot or request."}};
    for (int i = 0; i < 6; ++i) {
      per[i].name = names[i][0];
      per[i].help = names[i][1];
      per[i].type = MetricType::kGauge;
    }
    dev_battery = &per[0];
    dev_uptime = &per[1];
    dev_vin = &per[2];
    dev_wifi = &per[3];
    dev_charging = &per[4];
    dev_seen = &per[5];
    wall_now_s =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  }

  snap->devices.reserve(devices.size());
  for (const Device& d : devices.entries()) {
    if (!d.in_use) continue;
    const bool is_online = devices.Online(d, now);
    if (is_online) {
      if (d.labels_folded) {
        // Beyond DeviceLabels::kMaxCombinations (plugin-contract.md §7.2).
        const std::string other(kOtherLabel);
        ++online[{other, other, other}];
      } else {
        ++online[{OrUnknown(d.firmware_version), OrUnknown(d.inner_version),
                  OrUnknown(d.flash_id)}];
      }
      if (d.charging == 1) ++charging;
      if (d.battery >= 0) {
        for (int i = 0; i < 6; ++i) battery_le[i] += d.battery <= kBatteryBounds[i];
      }
      if (d.uptime >= 0) {
        for (int i = 0; i < 5; ++i) uptime_le[i] += d.uptime <= kUptimeBounds[i];
      }
    }
    if (per_device) {
      auto id = [&d] { return std::vector<Label>{{"device_id", d.id}}; };
      if (d.battery >= 0) Push(*dev_battery, "", id(), static_cast<double>(d.battery));
      if (d.uptime >= 0) Push(*dev_uptime, "", id(), static_cast<double>(d.uptime));
      if (d.vin >= 0) Push(*dev_vin, "", id(), static_cast<double>(d.vin));
      if (d.wifi_disconnects >= 0) {
        Push(*dev_wifi, "", id(), static_cast<double>(d.wifi_disconnects));
      }
      if (d.charging >= 0) Push(*dev_charging, "", id(), static_cast<double>(d.charging));
      Push(*dev_seen, "", id(), wall_now_s - Seconds(now - d.last_seen_ns));
    }

    DeviceState& s = snap->devices[d.id];
    s.device_id = d.id;
    s.firmware_version = d.firmware_version;
    s.inner_version = d.inner_version;
    s.flash_id = d.flash_id;
    s.online = is_online;
    s.last_seen_age_s = Seconds(now - d.last_seen_ns);
    s.last_heartbeat_age_s = d.has_heartbeat ? Seconds(now - d.last_heartbeat_ns) : -1;
    s.battery = d.battery;
    s.vin = d.vin;
    s.uptime_s = d.uptime;
    s.charging = d.charging;
    s.wifi_disconnects = d.wifi_disconnects;
    s.xmc = d.xmc == HeartbeatFields::kAbsent ? -1 : d.xmc;
    s.boots = d.boots;
    s.requests = d.requests;
    s.responses = d.responses;
    s.errors = d.errors;
    s.timeouts = d.timeouts;
    s.pending = d.pending;
    s.last_symbol = d.learned_symbol;
  }

  MetricFamily& online_f =
      Add(snap, "tickrmeter_devices_online", MetricType::kGauge,
          "Online devices (heartbeat, boot or request younger than device_timeout), by the "
          "labels of their last heartbeat (unknown when missing, _invalid when longer than 32 "
          "bytes or not printable ASCII, _other beyond 256 values per label or 1000 "
          "combinations).");
  for (const auto& [labels, n] : online) {
    Push(online_f, "",
         {{"firmware_version", std::get<0>(labels)},
          {"inner_version", std::get<1>(labels)},
          {"flash_id", std::get<2>(labels)}},
         static_cast<double>(n));
  }
  Push(Add(snap, "tickrmeter_devices_tracked", MetricType::kGauge, "Devices held in memory."), "",
       {}, static_cast<double>(devices.size()));
  Push(Add(snap, "tickrmeter_devices_charging", MetricType::kGauge,
           "Online devices whose last heartbeat reported isCharging 1."),
       "", {}, static_cast<double>(charging));
  snap->boots_last_hour = devices.boots_last_hour(now);
  MetricFamily& boots = Add(snap, "tickrmeter_device_boots", MetricType::kCounter,
                            "Device boots, each counted once (boot announcement resends, "
                            "DEVICE_BOOTED echoes excluded; uptime drops included), by the "
                            "firmware_version of the device's last heartbeat.");
  for (const auto& [fw, n] : devices.boots_by_firmware()) {
    Push(boots, "_total", {{"firmware_version", fw}}, static_cast<double>(n));
  }
  MetricFamily& battery =
      Add(snap, "tickrmeter_devices_battery_level", MetricType::kGauge,
          "Online devices whose last reported battery percentage is <= upper_bound (current "
          "fleet, cumulative like histogram buckets).");
  for (int i = 0; i < 6; ++i) {
    Push(battery, "", {{"upper_bound", std::to_string(kBatteryBounds[i])}},
         static_cast<double>(battery_le[i]));
  }
  MetricFamily& uptime =
      Add(snap, "tickrmeter_devices_uptime_seconds", MetricType::kGauge,
          "Online devices whose last reported uptime is <= upper_bound seconds (current fleet, "
          "cumulative like histogram buckets).");
  for (int i = 0; i < 5; ++i) {
    Push(uptime, "", {{"upper_bound", FormatBound(kUptimeBounds[i])}},
         static_cast<double>(uptime_le[i]));
  }
  for (MetricFamily& f : per) snap->families.push_back(std::move(f));
}

void AddPluginFamilies(const EngineTables& t, const PluginCounters& p, Snapshot* snap) {
  // With a custom device_id_pattern the hook classifies device topics as
  // `other`; the engine's promotions move them to `device_message`.
  auto add_by_kind = [](MetricFamily& family, const uint64_t* counts, uint64_t promoted) {
    promoted = std::min(promoted, counts[static_cast<int>(MessageKind::kOther)]);
    for (int k = 0; k < kMessageKindCount; ++k) {
      const auto kind = static_cast<MessageKind>(k);
      uint64_t n = counts[k];
      if (kind == MessageKind::kOther) n -= promoted;
      if (kind == MessageKind::kDeviceMessage) n += promoted;
      Push(family, "_total", {{"kind", MessageKindName(kind)}}, static_cast<double>(n));
    }
  };
  add_by_kind(Add(snap, "tickrmeter_messages", MetricType::kCounter,
                  "Publishes the broker received from its own clients, by kind (publishes from "
                  "bridge_clients are in tickrmeter_messages_bridged_total)."),
              p.received, t.promoted_other);
  add_by_kind(Add(snap, "tickrmeter_messages_bridged", MetricType::kCounter,
                  "Publishes the broker received over a bridge (from a client of "
                  "bridge_clients), by kind; counted in tickrmeter_messages_total by the broker "
                  "where they entered the fleet."),
              p.bridged, t.promoted_other_bridged);
  MetricFamily& invalid =
      Add(snap, "tickrmeter_messages_invalid", MetricType::kCounter,
          "TickrMeter messages that could not be used, by kind and reason (json: not a JSON "
          "object; field: missing or mistyped field; device: device id not matching "
          "device_id_pattern; truncated: payload cut by the hook).");
  for (int k = 0; k < kParsedKindCount; ++k) {
    for (int r = 0; r < kInvalidReasonCount; ++r) {
      Push(invalid, "_total",
           {{"kind", MessageKindName(kParsedKinds[k])},
            {"reason", InvalidReasonName(static_cast<InvalidReason>(r))}},
           static_cast<double>(t.invalid[k][r]));
    }
  }
  MetricFamily& dropped = Add(snap, "tickrmeter_tracking_dropped", MetricType::kCounter,
                              "Entries not stored because a cap was reached (devices: "
                              "max_devices; symbols: max_symbols, folded into _other; pending: "
                              "request slots per device; labels: device label values beyond "
                              "256 per label or combinations beyond 1000, folded into _other, "
                              "once per device and new value; backends: backends of symbols "
                              "outside the symbol table forgotten beyond 16384 names).");
  Push(dropped, "_total", {{"table", "devices"}}, static_cast<double>(t.devices.dropped()));
  Push(dropped, "_total", {{"table", "symbols"}}, static_cast<double>(t.symbols.dropped()));
  Push(dropped, "_total", {{"table", "pending"}}, static_cast<double>(t.correlator.refused()));
  Push(dropped, "_total", {{"table", "labels"}}, static_cast<double>(t.devices.labels_dropped()));
  Push(dropped, "_total", {{"table", "backends"}},
       static_cast<double>(t.symbols.untracked_backends().forgotten()));
  Push(Add(snap, "tickrmeter_observations_dropped", MetricType::kCounter,
           "Publishes the broker could not hand to the companion (ring full, companion down)."),
       "_total", {}, static_cast<double>(p.observations_dropped));
  MetricFamily& restarts =
      Add(snap, "tickrmeter_companion_restarts", MetricType::kCounter,
          "Times the companion was replaced, by reason: exit (it exited), signal (it was "
          "killed), hung (its engine made no progress for 10 s while observations waited).");
  for (int r = 0; r < kRestartReasonCount; ++r) {
    Push(restarts, "_total", {{"reason", RestartReasonName(static_cast<RestartReason>(r))}},
         static_cast<double>(p.companion_restarts[r]));
  }
  Push(Add(snap, "tickrmeter_build_info", MetricType::kGauge, "Build information; always 1."), "",
       {{"version", p.version}, {"mosquitto_version", p.mosquitto_version}}, 1);
}

void AddRecentTimeouts(const EngineTables& t, Snapshot* snap) {
  const RecentTimeouts& recent = t.correlator.recent_timeouts();
  snap->recent_timeouts.reserve(recent.size());
  for (size_t i = 0; i < recent.size(); ++i) {
    const RecentTimeouts::Entry& e = recent.FromNewest(i);
    snap->recent_timeouts.push_back({e.device_id, e.symbol, Seconds(t.now_ns - e.at_ns)});
  }
  // Recorded in the order they were settled, which follows the deadlines;
  // sorting keeps "newest first" true should another settling path appear.
  std::stable_sort(snap->recent_timeouts.begin(), snap->recent_timeouts.end(),
                   [](const TimeoutEvent& a, const TimeoutEvent& b) { return a.age_s < b.age_s; });
}

}  // namespace

std::shared_ptr<const Snapshot> BuildEngineSnapshot(const EngineTables& tables,
                                                    const PluginCounters& plugin,
                                                    uint64_t generation) {
  auto snap = std::make_shared<Snapshot>();
  snap->generation = generation;
  snap->built_at_ns = tables.now_ns == INT64_MIN ? 0 : tables.now_ns;
  // Builders hold references to families while adding more: never reallocate.
  snap->families.reserve(64);
  AddSymbolFamilies(tables, snap.get());
  AddBackendFamilies(tables, snap.get());
  AddDeviceFamilies(tables, snap.get());
  AddPluginFamilies(tables, plugin, snap.get());
  AddRecentTimeouts(tables, snap.get());
  return snap;
}

}  // namespace tkmprom
