#include "src/engine/snapshot_builder.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace tkmprom {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr char kUnknown[] = "unknown";

std::string_view OrUnknown(const std::string& s) {
  return s.empty() ? std::string_view(kUnknown) : std::string_view(s);
}

double Seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }

void AddSymbols(const EngineTables& t, Snapshot* snap) {
  const SymbolTable& symbols = t.symbols;
  snap->latency_bounds = symbols.bounds();
  snap->symbols.reserve(symbols.in_use());
  // Position of each table entry in snap->symbols, for device_symbols.
  std::vector<uint32_t> position;
  if (snap->per_device_metrics) position.assign(symbols.entries().size(), 0);
  uint32_t index = 0;
  for (const SymbolEntry& e : symbols.entries()) {
    ++index;
    if (!e.in_use) continue;
    if (snap->per_device_metrics) position[index - 1] = static_cast<uint32_t>(snap->symbols.size());
    const WindowedStats::View view = e.window.Read(t.now_ns);
    SymbolWindow& w = snap->symbols.emplace_back();
    w.symbol = e.name;
    w.avg_latency_s = view.answers == 0 ? kNaN : view.avg_latency_s;
    w.p95_latency_s = view.answers == 0 ? kNaN : view.quantiles[2];
    w.timeout_rate = view.timeout_rate;
    w.requests = view.requests;
    w.latency_buckets = e.buckets;
    w.backend = BackendName(e.is_other ? Backend::kUnknown : e.backend);
    w.total_requests = e.requests;
    w.responses = e.responses;
    w.errors = e.errors;
    w.timeouts = e.timeouts;
    w.superseded = e.superseded;
    w.pending = e.pending;
    w.latency_sum = e.latency_sum;
    w.window_answers = view.answers;
    for (int q = 0; q < 4; ++q) w.quantiles[q] = view.answers == 0 ? kNaN : view.quantiles[q];
  }
  if (!snap->per_device_metrics) return;
  // device_id is added to the request/response counters (§4).
  for (const Device& d : t.devices.entries()) {
    if (!d.in_use) continue;
    for (const DeviceSymbolCount& c : d.per_symbol) {
      const SymbolEntry& e = symbols.Get(c.symbol);
      if (!e.in_use || e.generation != c.symbol_generation) continue;
      DeviceSymbolTotals& row = snap->device_symbols.emplace_back();
      row.device_id = d.id;
      row.symbol = position[c.symbol];
      row.requests = c.requests;
      row.responses = c.responses;
    }
  }
}

// Every backend from the start, in the order of §7.5.
void AddBackends(const EngineTables& t, Snapshot* snap) {
  snap->backends.reserve(kBackendCount);
  for (int i = 0; i < kBackendCount; ++i) {
    const auto backend = static_cast<Backend>(i);
    const BackendLedger::Entry& e = t.backends.Get(backend);
    BackendTotals& v = snap->backends.emplace_back();
    v.backend = BackendName(backend);
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

void AddDevices(const EngineTables& t, Snapshot* snap) {
  const DeviceRegistry& devices = t.devices;
  const int64_t now = t.now_ns;
  FleetTotals& fleet = snap->fleet;
  using Key = std::tuple<std::string_view, std::string_view, std::string_view>;
  std::map<Key, uint64_t> online;
  online[{kUnknown, kUnknown, kUnknown}] = 0;
  const std::string_view other(kOtherLabel);

  snap->devices.reserve(devices.size());
  for (const Device& d : devices.entries()) {
    if (!d.in_use) continue;
    const bool is_online = devices.Online(d, now);
    if (is_online) {
      ++fleet.online_total;
      if (d.labels_folded) {
        // Beyond DeviceLabels::kMaxCombinations (plugin-contract.md §7.2).
        ++online[{other, other, other}];
      } else {
        ++online[{OrUnknown(d.firmware_version), OrUnknown(d.inner_version),
                  OrUnknown(d.flash_id)}];
      }
      if (d.charging == 1) ++fleet.charging;
      if (d.battery >= 0) {
        for (int i = 0; i < 6; ++i)
          fleet.battery_le[i] += d.battery <= FleetTotals::kBatteryBounds[i];
      }
      if (d.uptime >= 0) {
        for (int i = 0; i < 5; ++i) fleet.uptime_le[i] += d.uptime <= FleetTotals::kUptimeBounds[i];
      }
    }
    DeviceState& s = snap->devices.emplace_back();
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
  fleet.online.reserve(online.size());
  for (const auto& [labels, n] : online) {
    fleet.online.push_back({std::string(std::get<0>(labels)), std::string(std::get<1>(labels)),
                            std::string(std::get<2>(labels)), n});
  }
  fleet.tracked = devices.size();
  snap->boots_last_hour = devices.boots_last_hour(now);
  fleet.boots_by_firmware.reserve(devices.boots_by_firmware().size());
  for (const auto& [fw, n] : devices.boots_by_firmware()) {
    fleet.boots_by_firmware.emplace_back(fw, n);
    fleet.boots_total += n;
  }
}

void AddPluginTotals(const EngineTables& t, const PluginCounters& p, Snapshot* snap) {
  PluginTotals& out = snap->plugin;
  // With a custom device_id_pattern the hook classifies device topics as
  // `other`; the engine's promotions move them to `device_message`.
  auto by_kind = [](std::vector<LabelledCount>* rows, const uint64_t* counts, uint64_t promoted) {
    promoted = std::min(promoted, counts[static_cast<int>(MessageKind::kOther)]);
    rows->reserve(kMessageKindCount);
    for (int k = 0; k < kMessageKindCount; ++k) {
      const auto kind = static_cast<MessageKind>(k);
      uint64_t n = counts[k];
      if (kind == MessageKind::kOther) n -= promoted;
      if (kind == MessageKind::kDeviceMessage) n += promoted;
      rows->push_back({MessageKindName(kind), n});
    }
  };
  by_kind(&out.messages, p.received, t.promoted_other);
  by_kind(&out.messages_bridged, p.bridged, t.promoted_other_bridged);
  out.invalid.reserve(kParsedKindCount * kInvalidReasonCount);
  for (int k = 0; k < kParsedKindCount; ++k) {
    for (int r = 0; r < kInvalidReasonCount; ++r) {
      out.invalid.push_back({MessageKindName(kParsedKinds[k]),
                             InvalidReasonName(static_cast<InvalidReason>(r)), t.invalid[k][r]});
    }
  }
  for (int r = 0; r < kUnmatchedCount; ++r) {
    const auto u = static_cast<Unmatched>(r);
    out.unmatched.push_back({UnmatchedName(u), t.correlator.unmatched(u)});
  }
  out.tracking_dropped = {{"devices", t.devices.dropped()},
                          {"symbols", t.symbols.dropped()},
                          {"pending", t.correlator.refused()},
                          {"labels", t.devices.labels_dropped()},
                          {"backends", t.symbols.untracked_backends().forgotten()}};
  out.observations_dropped = p.observations_dropped;
  for (int r = 0; r < kRestartReasonCount; ++r) {
    out.companion_restarts.push_back(
        {RestartReasonName(static_cast<RestartReason>(r)), p.companion_restarts[r]});
  }
  out.version = p.version;
  out.mosquitto_version = p.mosquitto_version;
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
  snap->from_engine = true;
  snap->published_ns = plugin.published_ns;
  snap->per_device_metrics = tables.config.per_device_metrics;
  snap->wall_clock_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  AddSymbols(tables, snap.get());
  AddBackends(tables, snap.get());
  AddDevices(tables, snap.get());
  AddPluginTotals(tables, plugin, snap.get());
  AddRecentTimeouts(tables, snap.get());
  return snap;
}

}  // namespace tkmprom
