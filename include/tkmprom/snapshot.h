// What the engine thread hands to the HTTP threads: an immutable picture of
// every table at one moment, as typed views (per symbol, per backend, per
// device, fleet and plugin counters) that the exposition writer
// (src/exposition/snapshot_exposition.h), the JSON endpoints and the status
// page read directly, without touching the engine and without any
// intermediate list of labelled samples.
//
// Thread safety: built by the engine thread, then only read (through a
// shared_ptr<const Snapshot>) by any number of threads.
#ifndef TKMPROM_SNAPSHOT_H_
#define TKMPROM_SNAPSHOT_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tkmprom/metric_family.h"

namespace tkmprom {

// One symbol over the last quantile_window, for /api/v1/symbols/slowest.
struct SymbolWindow {
  std::string symbol;
  double avg_latency_s = 0;  // NaN when nothing was answered in the window
  double p95_latency_s = 0;  // NaN when nothing was answered in the window
  double timeout_rate = 0;   // timeouts / requests resolved in the window (0 if none)
  uint64_t requests = 0;     // requests seen in the window
  // Answers since start per latency bucket (not cumulative): one count per
  // Snapshot::latency_bounds entry, then one for above every bound.
  std::vector<uint64_t> latency_buckets;
  // The symbol's current quote backend (plugin-contract.md §7.5): that of its
  // last answer that named one, "unknown" before; "page" for the label
  // "_page", "unknown" for the labels "unknown" and "_other" (which stand
  // for many symbols).
  std::string backend = "unknown";

  // Since start: the tickrmeter_stock_update_* and symbol_timeout counters
  // and the pending gauge (requests = responses + errors + timeouts +
  // superseded + pending), and the latency histogram's _sum.
  uint64_t total_requests = 0;
  uint64_t responses = 0;
  uint64_t errors = 0;
  uint64_t timeouts = 0;
  uint64_t superseded = 0;
  uint64_t pending = 0;
  double latency_sum = 0;
  // Answers in the window and their quantiles 0.5, 0.9, 0.95, 0.99 (NaN
  // when none): tickrmeter_symbol_latency_seconds.
  uint64_t window_answers = 0;
  double quantiles[4] = {
      std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN(),
      std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
};

// With per_device_metrics: one device's requests and answers for one symbol.
struct DeviceSymbolTotals {
  std::string device_id;
  uint32_t symbol = 0;  // index into Snapshot::symbols
  uint64_t requests = 0;
  uint64_t responses = 0;
};

// One quote backend since start (plugin-contract.md §7.5), the values of the
// tickrmeter_backend_* families: requests = responses + errors + timeouts +
// superseded + pending.
struct BackendTotals {
  std::string backend;  // the `backend` label value
  uint64_t requests = 0;
  uint64_t responses = 0;
  uint64_t errors = 0;
  uint64_t timeouts = 0;
  uint64_t superseded = 0;
  uint64_t pending = 0;
  // Answers per latency bucket (not cumulative), as SymbolWindow's.
  std::vector<uint64_t> latency_buckets;
  double latency_sum = 0;
};

// One request that timed out, for the status page's recent timeouts.
struct TimeoutEvent {
  std::string device_id;
  std::string symbol;  // the label the request was counted under
  double age_s = 0;    // since its deadline passed, at built_at_ns
};

// One device's current state, for /api/v1/devices/<id>. Optional numeric
// fields are negative when never reported.
struct DeviceState {
  std::string device_id;
  std::string firmware_version;  // "" until a heartbeat said it
  std::string inner_version;
  std::string flash_id;
  bool online = false;
  double last_seen_age_s = 0;        // since the last heartbeat, boot or request
  double last_heartbeat_age_s = -1;  // -1: no heartbeat yet
  int64_t battery = -1;
  int64_t vin = -1;
  int64_t uptime_s = -1;
  int64_t charging = -1;  // 0 / 1, -1 unknown
  int64_t wifi_disconnects = -1;
  int64_t xmc = -1;
  uint64_t boots = 0;
  uint64_t requests = 0;
  uint64_t responses = 0;
  uint64_t errors = 0;
  uint64_t timeouts = 0;
  uint64_t pending = 0;
  std::string last_symbol;  // symbol learned for symbol-less requests, "" if none
};

// Online devices with one combination of heartbeat labels
// (tickrmeter_devices_online).
struct OnlineCombination {
  std::string firmware_version;  // "unknown", "_invalid", "_other" as exported
  std::string inner_version;
  std::string flash_id;
  uint64_t devices = 0;
};

// The fleet as a whole: the tickrmeter_devices_* and device_boots families.
struct FleetTotals {
  static constexpr int kBatteryBounds[6] = {10, 25, 50, 75, 90, 100};
  static constexpr double kUptimeBounds[5] = {3600, 86400, 604800, 2592000,
                                              std::numeric_limits<double>::infinity()};
  // Ascending by (firmware, inner, flash); ("unknown", "unknown", "unknown")
  // is always present, with 0 when no such device is online.
  std::vector<OnlineCombination> online;
  uint64_t online_total = 0;
  uint64_t tracked = 0;
  uint64_t charging = 0;
  uint64_t battery_le[6] = {};  // online devices with battery <= kBatteryBounds[i]
  uint64_t uptime_le[5] = {};   // online devices with uptime <= kUptimeBounds[i]
  std::vector<std::pair<std::string, uint64_t>> boots_by_firmware;  // ascending by firmware
  uint64_t boots_total = 0;
};

// A count under one label value; `label` points to static storage (the
// engine's fixed name tables).
struct LabelledCount {
  const char* label = "";
  uint64_t value = 0;
};

// tickrmeter_messages_invalid_total{kind, reason}.
struct InvalidCount {
  const char* kind = "";
  const char* reason = "";
  uint64_t value = 0;
};

// The plugin's and the engine's own counters.
struct PluginTotals {
  std::vector<LabelledCount> messages;          // by kind, every kind
  std::vector<LabelledCount> messages_bridged;  // by kind, every kind
  std::vector<InvalidCount> invalid;            // every parsed kind x reason
  std::vector<LabelledCount> unmatched;         // by reason
  std::vector<LabelledCount> tracking_dropped;  // by table
  uint64_t observations_dropped = 0;
  std::vector<LabelledCount> companion_restarts;  // by reason
  std::string version;
  std::string mosquitto_version;
};

struct Snapshot {
  uint64_t generation = 0;  // increases with every snapshot the engine builds
  int64_t built_at_ns = 0;  // engine clock (broker monotonic) when built
  // CLOCK_MONOTONIC when the companion published it (0 in tests): its age
  // against the freshness bound.
  int64_t published_ns = 0;
  double wall_clock_s = 0;  // Unix time when built, for last_seen timestamps
  bool per_device_metrics = false;
  // Built by the engine: the views below are exported. False in snapshots
  // made by hand (tests, tools), which export `families` only.
  bool from_engine = false;

  std::vector<SymbolWindow> symbols;               // every tracked symbol, unordered
  std::vector<DeviceSymbolTotals> device_symbols;  // with per_device_metrics only
  // Every backend, in the order of §7.5 (stock … fxon, page, unknown).
  std::vector<BackendTotals> backends;
  std::vector<DeviceState> devices;  // every tracked device
  FleetTotals fleet;
  PluginTotals plugin;
  std::vector<double> latency_bounds;         // finite bucket bounds (s), ascending
  std::vector<TimeoutEvent> recent_timeouts;  // the last ones, newest first (at most 20)
  uint64_t boots_last_hour = 0;               // device boots counted in the last hour
  // Families rendered verbatim after the views above. The engine leaves it
  // empty; tests and tools use it to serve arbitrary expositions.
  std::vector<MetricFamily> families;

  // The device with this id, or nullptr. Linear: for one API request.
  const DeviceState* FindDevice(std::string_view id) const {
    for (const DeviceState& d : devices) {
      if (d.device_id == id) return &d;
    }
    return nullptr;
  }
};

}  // namespace tkmprom

#endif  // TKMPROM_SNAPSHOT_H_
