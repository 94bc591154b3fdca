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

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_ENGINE_H_
