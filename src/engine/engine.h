// The TickrMeter engine: turns observed publishes into the contract's metrics
// (plugin-contract.md §4, §5): correlation of requests and answers, timeouts,
// per-symbol statistics and the device registry.
//
// Time: the engine has no clock of its own. Every observation carries the
// broker's monotonic timestamp, and Advance() moves the engine's notion of
// "now" (timeouts, expiry, online); tests drive both with a fake clock.
//
// Thread safety: not thread-safe. One thread (the companion's engine thread)
// owns an Engine and calls everything; other threads only read the Snapshots
// it builds.
#ifndef TKMPROM_ENGINE_ENGINE_H_
#define TKMPROM_ENGINE_ENGINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "src/common/restart_reason.h"
#include "tkmprom/config.h"
#include "tkmprom/message_kind.h"
#include "tkmprom/snapshot.h"

namespace tkmprom {

// One publish as the broker saw it. The views are valid during Observe() only.
struct Observation {
  MessageKind kind = MessageKind::kOther;
  int64_t timestamp_ns = 0;  // broker CLOCK_MONOTONIC at MOSQ_EVT_MESSAGE
  std::string_view client_id;
  std::string_view topic;
  std::string_view payload;   // may be shorter than payload_size (see truncated)
  uint32_t payload_size = 0;  // the publish's real payload length
  bool payload_truncated = false;
  bool bridged = false;  // sent by a client of plugin_opt_bridge_clients
};

// Counters kept outside the engine (in the shared memory the hook writes),
// passed in when a snapshot is built.
struct PluginCounters {
  uint64_t received[kMessageKindCount] = {};  // per MessageKind, counted by the hook
  uint64_t bridged[kMessageKindCount] = {};   // the same, for publishes over a bridge
  uint64_t observations_dropped = 0;
  uint64_t companion_restarts[kRestartReasonCount] = {};  // by RestartReason
  std::string version;
  std::string mosquitto_version;
  // CLOCK_MONOTONIC when the companion takes the snapshot: its
  // Snapshot::published_ns (the engine itself has no clock).
  int64_t published_ns = 0;
};

// Approximate heap bytes of the engine's tables by part, for memory reports
// (tools/bench/engine_replay). Estimates without malloc's chunk overhead.
struct EngineMemory {
  size_t devices = 0;  // entries in use (counts, not bytes)
  size_t symbols = 0;
  // Devices (DeviceRegistry).
  size_t device_entries = 0;     // Device objects
  size_t device_strings = 0;     // ids, stored labels, learned symbols
  size_t device_slots = 0;       // request slots (pending and recent outcomes)
  size_t device_per_symbol = 0;  // per_device_metrics counters
  size_t device_index = 0;       // id index
  size_t device_labels = 0;      // label catalog, boots by firmware
  // Symbols (SymbolTable).
  size_t symbol_entries = 0;  // SymbolEntry objects (sub-window array inline part)
  size_t symbol_names = 0;
  size_t symbol_buckets = 0;  // latency histograms
  size_t symbol_windows = 0;  // sub-windows and their quantile sketches
  size_t symbol_index = 0;
  size_t untracked_backends = 0;
  // The rest.
  size_t backends = 0;         // BackendLedger histograms
  size_t recent_timeouts = 0;  // strings of the status page's list
  size_t negative_topics = 0;  // custom device_id_pattern misses
  size_t Total() const {
    return device_entries + device_strings + device_slots + device_per_symbol + device_index +
           device_labels + symbol_entries + symbol_names + symbol_buckets + symbol_windows +
           symbol_index + untracked_backends + backends + recent_timeouts + negative_topics;
  }
};

class Engine {
 public:
  explicit Engine(const Config& config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Handles one publish. Never throws; unusable input is counted in
  // tickrmeter_messages_invalid_total. Also advances the clock to
  // obs.timestamp_ns if that is newer.
  void Observe(const Observation& obs);

  // Moves the clock to `now_ns` (ignored if older than the current clock):
  // times out requests, ages devices and symbols out.
  void Advance(int64_t now_ns);

  // The current state as an immutable snapshot.
  std::shared_ptr<const Snapshot> BuildSnapshot(const PluginCounters& plugin) const;

  // Where the tables' memory goes (approximate; see EngineMemory).
  EngineMemory MemoryUsage() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_ENGINE_H_
