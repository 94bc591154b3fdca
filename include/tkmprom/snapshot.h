// What the engine thread hands to the HTTP threads: an immutable picture of
// every table at one moment, rendered by the exposition writer, the JSON
// endpoints and the status page without touching the engine.
//
// Thread safety: built by the engine thread, then only read (through a
// shared_ptr<const Snapshot>) by any number of threads.
#ifndef TKMPROM_SNAPSHOT_H_
#define TKMPROM_SNAPSHOT_H_

#include <cstdint>
#include <string>
#include <unordered_map>
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

struct Snapshot {
  uint64_t generation = 0;  // increases with every snapshot the engine builds
  int64_t built_at_ns = 0;  // engine clock (broker monotonic) when built
  std::vector<MetricFamily> families;
  std::vector<SymbolWindow> symbols;  // every tracked symbol, unordered
  // Every backend, in the order of §7.5 (stock … fxon, page, unknown).
  std::vector<BackendTotals> backends;
  std::unordered_map<std::string, DeviceState> devices;
  std::vector<double> latency_bounds;         // finite bucket bounds (s), ascending
  std::vector<TimeoutEvent> recent_timeouts;  // the last ones, newest first (at most 20)
  uint64_t boots_last_hour = 0;               // device boots counted in the last hour
};

}  // namespace tkmprom

#endif  // TKMPROM_SNAPSHOT_H_
