#include "src/engine/engine.h"

#include <deque>
#include <string>

#include "src/engine/device_id_matcher.h"
#include "src/engine/engine_tables.h"
#include "src/engine/memory_usage.h"
#include "src/engine/payload_parser.h"
#include "src/engine/snapshot_builder.h"

namespace tkmprom {
namespace {

// Maintenance (device removal, symbol expiry) runs at most this often.
constexpr int64_t kMaintenanceIntervalNs = 1'000'000'000;
// Non-device topics remembered so the custom pattern's regex runs once each.
// Each is at most kMaxDeviceIdBytes long (PromoteOther()): 512 KiB at most.
constexpr size_t kMaxNegativeTopics = 4096;

int ParsedKindRow(MessageKind kind) {
  switch (kind) {
    case MessageKind::kStockRequest:
      return 0;
    case MessageKind::kDeviceMessage:
      return 1;
    case MessageKind::kHeartbeat:
      return 2;
    default:
      return 3;
  }
}

}  // namespace

class Engine::Impl {
 public:
  explicit Impl(const Config& config) : t_(config), matcher_(config) {}

  void Observe(const Observation& obs);
  void Advance(int64_t now_ns);
  EngineMemory MemoryUsage() const;
  std::shared_ptr<const Snapshot> Build(const PluginCounters& plugin) const {
    return BuildEngineSnapshot(t_, plugin, ++generation_);
  }

 private:
  void Invalid(MessageKind kind, InvalidReason reason) {
    ++t_.invalid[ParsedKindRow(kind)][static_cast<int>(reason)];
  }
  // True if `id` is a device id: a known device, or a match of the pattern.
  bool IsDeviceId(std::string_view id) const {
    if (id.size() > kMaxDeviceIdBytes) return false;
    if (matcher_.is_default()) return matcher_.Matches(id);
    return t_.devices.Find(id) != StringIndex::kNone || matcher_.Matches(id);
  }
  bool PromoteOther(std::string_view topic);

  void HandleRequest(const Observation& obs);
  void HandleDeviceMessage(const Observation& obs);
  void HandleHeartbeat(const Observation& obs);
  void HandleBoot(const Observation& obs);
  void HandleBridgedSighting(const Observation& obs);

  EngineTables t_;
  DeviceIdMatcher matcher_;
  PayloadParser parser_;
  // Topics (kOther) known not to match a custom device_id_pattern.
  StringIndex negative_topics_;
  std::deque<std::string> negative_topic_names_;
  int64_t next_maintenance_ns_ = INT64_MIN;
  mutable uint64_t generation_ = 0;
};

EngineMemory Engine::Impl::MemoryUsage() const {
  EngineMemory m;
  m.devices = t_.devices.size();
  m.symbols = t_.symbols.in_use();
  const DeviceRegistryMemory d = t_.devices.Memory();
  m.device_entries = d.entries;
  m.device_strings = d.strings;
  m.device_slots = d.slots;
  m.device_per_symbol = d.per_symbol;
  m.device_index = d.index;
  m.device_labels = d.labels;
  const SymbolTableMemory s = t_.symbols.Memory();
  m.symbol_entries = s.entries;
  m.symbol_names = s.names;
  m.symbol_buckets = s.buckets;
  m.symbol_windows = s.windows;
  m.symbol_index = s.index;
  m.untracked_backends = s.untracked;
  for (int b = 0; b < kBackendCount; ++b) {
    m.backends += HeapBytes(t_.backends.Get(static_cast<Backend>(b)).buckets);
  }
  const RecentTimeouts& recent = t_.correlator.recent_timeouts();
  for (size_t i = 0; i < recent.size(); ++i) {
    m.recent_timeouts +=
        HeapBytes(recent.FromNewest(i).device_id) + HeapBytes(recent.FromNewest(i).symbol);
  }
  m.negative_topics = negative_topics_.MemoryBytes() + HeapBytes(negative_topic_names_);
  for (const std::string& name : negative_topic_names_) m.negative_topics += HeapBytes(name);
  return m;
}

bool Engine::Impl::PromoteOther(std::string_view topic) {
  if (matcher_.is_default()) return false;
  // A longer topic names no device (IsDeviceId()), so it is neither matched
  // nor remembered: the cache held up to 4096 topics of up to 1 KiB (the
  // ring's topic cap) before issue 13.
  if (topic.size() > kMaxDeviceIdBytes) return false;
  if (t_.devices.Find(topic) != StringIndex::kNone) return true;
  // Only the first publish on a topic runs the regex; a miss is remembered.
  if (negative_topics_.Find(topic) != StringIndex::kNone) return false;
  if (matcher_.Matches(topic)) return true;
  if (negative_topics_.size() < kMaxNegativeTopics) {
    negative_topic_names_.emplace_back(topic);
    negative_topics_.Insert(negative_topic_names_.back(), 0);
  }
  return false;
}

void Engine::Impl::Advance(int64_t now_ns) {
  if (now_ns <= t_.now_ns) return;
  t_.now_ns = now_ns;
  t_.correlator.Sweep(now_ns);
  if (now_ns >= next_maintenance_ns_) {
    next_maintenance_ns_ = now_ns + kMaintenanceIntervalNs;
    t_.devices.RemoveSilent(
        now_ns, [this, now_ns](uint32_t id, Device&) { t_.correlator.ForgetDevice(id, now_ns); });
    t_.symbols.Expire(now_ns);
  }
}

void Engine::Impl::Observe(const Observation& obs) {
  Advance(obs.timestamp_ns);
  // A zero-length publish clears a retained message (protocol reference,
  // quirk 17): a deletion, counted by kind only, never an invalid message.
  const bool deletion = obs.payload_size == 0;
  if (deletion && obs.kind != MessageKind::kOther) return;
  if (obs.bridged) {
    // A request, heartbeat or boot that crossed a bridge was counted by the
    // broker where it entered the fleet (plugin_opt_bridged_publishes).
    switch (t_.config.bridged_publishes) {
      case BridgedPublishes::kNone:
        return;
      case BridgedPublishes::kAnswers:
        if (obs.kind != MessageKind::kDeviceMessage && obs.kind != MessageKind::kOther) {
          return HandleBridgedSighting(obs);
        }
        break;
      case BridgedPublishes::kAll:
        break;
    }
  }
  switch (obs.kind) {
    case MessageKind::kStockRequest:
      HandleRequest(obs);
      break;
    case MessageKind::kDeviceMessage:
      HandleDeviceMessage(obs);
      break;
    case MessageKind::kHeartbeat:
      HandleHeartbeat(obs);
      break;
    case MessageKind::kBoot:
      HandleBoot(obs);
      break;
    case MessageKind::kOther:
      if (PromoteOther(obs.topic)) {
        ++(obs.bridged ? t_.promoted_other_bridged : t_.promoted_other);
        if (!deletion) HandleDeviceMessage(obs);
      }
      break;
    default:
      // DEVICE_BOOTED echoes and the other kinds are counted by the hook only.
      break;
  }
}

void Engine::Impl::HandleRequest(const Observation& obs) {
  if (obs.payload_truncated) return Invalid(obs.kind, InvalidReason::kTruncated);
  RequestFields req;
  InvalidReason reason = InvalidReason::kJson;
  const bool parsed = parser_.ParseRequest(obs.payload, &req, &reason);
  // Another `type` (BOOT, …) is counted by kind only (§6), whatever else it lacks.
  if (reason == InvalidReason::kField && !req.type.empty() && req.type != "UPDATE") return;
  if (!parsed) return Invalid(obs.kind, reason);
  if (req.type != "UPDATE") return;
  if (!IsDeviceId(req.device)) return Invalid(obs.kind, InvalidReason::kDevice);
  const uint32_t id = t_.devices.Touch(req.device, obs.timestamp_ns);
  if (id == StringIndex::kNone) return;  // counted in tracking_dropped{devices}
  t_.correlator.OnRequest(id, req.symbol, obs.timestamp_ns);
}

void Engine::Impl::HandleDeviceMessage(const Observation& obs) {
  uint32_t id = t_.devices.Find(obs.topic);
  // In a bridged fleet every broker may see every answer; each device's
  // answers are counted by the broker the device publishes to, the one that
  // tracks it (README, "Bridged topologies").
  if (id == StringIndex::kNone && !t_.config.bridge_clients.empty()) return;
  if (obs.payload_truncated) return Invalid(MessageKind::kDeviceMessage, InvalidReason::kTruncated);
  DeviceMessageFields msg;
  InvalidReason reason;
  if (!parser_.ParseDeviceMessage(obs.payload, &msg, &reason)) {
    return Invalid(MessageKind::kDeviceMessage, reason);
  }
  if (id != StringIndex::kNone) t_.devices.OnDeviceTopic(t_.devices.Get(id));
  const AnswerKind kind = ClassifyAnswer(msg);
  if (kind == AnswerKind::kNotAnswer) return;
  if (id == StringIndex::kNone && t_.devices.size() >= t_.config.max_devices) {
    // Most likely an answer to a device the cap turned away.
    t_.devices.CountDropped();
    return;
  }
  t_.correlator.OnAnswer(id, kind, msg, obs.timestamp_ns);
}

void Engine::Impl::HandleHeartbeat(const Observation& obs) {
  if (obs.payload_truncated) return Invalid(obs.kind, InvalidReason::kTruncated);
  HeartbeatFields hb;
  InvalidReason reason;
  if (!parser_.ParseHeartbeat(obs.payload, &hb, &reason)) return Invalid(obs.kind, reason);
  if (!IsDeviceId(hb.device)) return Invalid(obs.kind, InvalidReason::kDevice);
  const uint32_t id = t_.devices.Touch(hb.device, obs.timestamp_ns);
  if (id == StringIndex::kNone) return;
  t_.devices.OnHeartbeat(t_.devices.Get(id), hb, obs.timestamp_ns);
}

void Engine::Impl::HandleBoot(const Observation& obs) {
  if (obs.payload_truncated) return Invalid(obs.kind, InvalidReason::kTruncated);
  BootFields boot;
  InvalidReason reason;
  if (!parser_.ParseBoot(obs.payload, &boot, &reason)) return Invalid(obs.kind, reason);
  if (!IsDeviceId(boot.device)) return Invalid(obs.kind, InvalidReason::kDevice);
  const uint32_t id = t_.devices.Touch(boot.device, obs.timestamp_ns);
  if (id == StringIndex::kNone) return;
  t_.devices.OnBootAnnouncement(t_.devices.Get(id), obs.timestamp_ns);
}

// A request, heartbeat or boot that crossed a bridge entered the fleet at
// another broker. If it names a device tracked here, the device now
// publishes there (devices reconnect to any edge): it is forgotten here, as
// if it had gone silent, so that it is online and correlated at one broker.
// Unusable payloads are counted by the broker where they entered.
void Engine::Impl::HandleBridgedSighting(const Observation& obs) {
  if (obs.payload_truncated || t_.devices.size() == 0) return;
  std::string_view device;
  InvalidReason reason;
  switch (obs.kind) {
    case MessageKind::kStockRequest: {
      RequestFields req;
      if (!parser_.ParseRequest(obs.payload, &req, &reason)) return;
      device = req.device;
      break;
    }
    case MessageKind::kHeartbeat: {
      HeartbeatFields hb;
      if (!parser_.ParseHeartbeat(obs.payload, &hb, &reason)) return;
      device = hb.device;
      break;
    }
    case MessageKind::kBoot: {
      BootFields boot;
      if (!parser_.ParseBoot(obs.payload, &boot, &reason)) return;
      device = boot.device;
      break;
    }
    default:
      return;
  }
  const uint32_t id = t_.devices.Find(device);
  if (id == StringIndex::kNone) return;
  t_.correlator.ForgetDevice(id, obs.timestamp_ns);
  t_.devices.Remove(id);
}

Engine::Engine(const Config& config) : impl_(std::make_unique<Impl>(config)) {}

Engine::~Engine() = default;

EngineMemory Engine::MemoryUsage() const { return impl_->MemoryUsage(); }

void Engine::Observe(const Observation& obs) {
  try {
    impl_->Observe(obs);
  } catch (...) {
    // Only allocation failure can get here; the observation is lost.
  }
}

void Engine::Advance(int64_t now_ns) {
  try {
    impl_->Advance(now_ns);
  } catch (...) {
  }
}

std::shared_ptr<const Snapshot> Engine::BuildSnapshot(const PluginCounters& plugin) const {
  try {
    return impl_->Build(plugin);
  } catch (...) {
    return std::make_shared<const Snapshot>();
  }
}

}  // namespace tkmprom
