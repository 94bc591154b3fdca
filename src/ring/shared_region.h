// The memory the broker's hook shares with the processes it forks: the
// observation ring (hook -> companion), two log rings (supervisor -> broker,
// companion -> broker) and the counters that must outlive a companion restart.
//
// The region is an anonymous MAP_SHARED mapping created in the broker at init
// and inherited by fork(), so no name exists in /dev/shm and nothing is left
// behind when the processes end.
//
// Thread safety: each counter has one writer (named below) and is written
// with relaxed load+store (no read-modify-write is needed for one writer);
// readers in other processes load it relaxed. Each ring is SPSC (spsc_ring.h).
#ifndef TKMPROM_RING_SHARED_REGION_H_
#define TKMPROM_RING_SHARED_REGION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "src/ring/spsc_ring.h"
#include "tkmprom/message_kind.h"

namespace tkmprom {

struct SharedCounters {
  // Writer: the broker's hook.
  std::atomic<uint64_t> received[kMessageKindCount];  // from local clients
  std::atomic<uint64_t> bridged[kMessageKindCount];   // from plugin_opt_bridge_clients
  std::atomic<uint64_t> dropped;
  // Writer: the supervisor; the broker when it replaces a dead supervisor
  // (never both at once: the old supervisor is gone, the new one not forked).
  alignas(64) std::atomic<uint64_t> companion_restarts;
};

// Adds `n` to a counter that only the calling process writes.
inline void BumpSingleWriter(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

class SharedRegion {
 public:
  static constexpr uint64_t kDefaultMessageRingBytes = uint64_t{8} << 20;
  static constexpr uint64_t kLogRingBytes = uint64_t{64} << 10;

  // Maps and initialises a region; nullptr and *error on failure.
  // `message_ring_bytes` must be a power of two.
  static std::unique_ptr<SharedRegion> Create(uint64_t message_ring_bytes, std::string* error);
  ~SharedRegion();
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;

  SharedCounters& counters() { return *counters_; }
  RingHeader* message_ring_header() { return message_header_; }
  char* message_ring_data() { return message_data_; }
  RingHeader* supervisor_log_header() { return supervisor_log_header_; }
  char* supervisor_log_data() { return supervisor_log_data_; }
  RingHeader* companion_log_header() { return companion_log_header_; }
  char* companion_log_data() { return companion_log_data_; }

 private:
  SharedRegion() = default;
  void* base_ = nullptr;
  size_t size_ = 0;
  SharedCounters* counters_ = nullptr;
  RingHeader* message_header_ = nullptr;
  char* message_data_ = nullptr;
  RingHeader* supervisor_log_header_ = nullptr;
  char* supervisor_log_data_ = nullptr;
  RingHeader* companion_log_header_ = nullptr;
  char* companion_log_data_ = nullptr;
};

// --- Observation records (hook -> companion) --------------------------------

inline constexpr uint32_t kMaxClientIdBytes = 256;
inline constexpr uint32_t kMaxTopicBytes = 1024;
inline constexpr uint32_t kMaxPayloadBytes = 16384;

enum ObservationFlags : uint8_t {
  kPayloadTruncated = 1,  // longer than kMaxPayloadBytes: only a prefix is stored
  kTopicTruncated = 2,
  kBridged = 4,  // sent by a client of plugin_opt_bridge_clients
};

struct ObservationRecordHeader {
  int64_t timestamp_ns;
  uint32_t payload_size;  // the publish's real payload length
  uint32_t payload_len;   // bytes stored
  uint16_t client_id_len;
  uint16_t topic_len;
  uint8_t kind;
  uint8_t flags;
  uint16_t reserved;
};

struct ObservationView {
  MessageKind kind;
  uint8_t flags;
  int64_t timestamp_ns;
  uint32_t payload_size;
  std::string_view client_id;
  std::string_view topic;
  std::string_view payload;
};

// Producer: copies one observation into the ring. The payload is stored only
// when `store_payload` (KindNeedsPayload, or a topic the companion must
// classify). `flags` may carry kBridged. Returns false when the ring is full.
bool WriteObservation(SpscRing* ring, MessageKind kind, int64_t timestamp_ns,
                      std::string_view client_id, std::string_view topic, const void* payload,
                      uint32_t payload_size, bool store_payload, uint8_t flags = 0);

// Consumer: decodes a record; false if it is malformed (never trusts lengths).
bool DecodeObservation(const char* data, uint32_t size, ObservationView* out);

// --- Log records (companion/supervisor -> broker) ---------------------------

enum class LogLevel : uint8_t { kInfo = 0, kNotice = 1, kWarning = 2, kError = 3 };

// Writes one log line (truncated to 1000 bytes); false when the ring is full.
bool WriteLog(SpscRing* ring, LogLevel level, std::string_view text);
bool DecodeLog(const char* data, uint32_t size, LogLevel* level, std::string_view* text);

}  // namespace tkmprom

#endif  // TKMPROM_RING_SHARED_REGION_H_
