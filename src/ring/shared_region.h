// The memory the broker's hook shares with the processes it starts: the
// observation ring (hook -> companion) and the counters that must outlive a
// companion restart.
//
// The region lives in a memfd the broker creates at init and hands to its
// children by descriptor (they are started by fork-and-exec and map it with
// Attach), so no name exists in /dev/shm and nothing is left behind when the
// processes end. Log lines travel through a pipe instead (log_pipe.h), whose
// kernel-bounded records the broker can read without trusting anyone.
//
// Trust: everything here is writable by the companion, the process that
// parses hostile input. The broker writes its counters from copies of its
// own and never reads them back; the only shared value it reads is the
// ring's consumer position, which SpscRing range-checks.
//
// Thread safety: each counter has one writer (named below) and is written
// with relaxed stores; readers in other processes load it relaxed. The ring
// is SPSC (spsc_ring.h).
#ifndef TKMPROM_RING_SHARED_REGION_H_
#define TKMPROM_RING_SHARED_REGION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "src/common/restart_reason.h"
#include "src/ring/spsc_ring.h"
#include "tkmprom/message_kind.h"

namespace tkmprom {

struct SharedCounters {
  // Writer: the broker's hook (stores of its own counts).
  std::atomic<uint64_t> received[kMessageKindCount];  // from local clients
  std::atomic<uint64_t> bridged[kMessageKindCount];   // from plugin_opt_bridge_clients
  std::atomic<uint64_t> dropped;
  // Writer: the broker, when it replaced a dead supervisor (the companion
  // went with it), by how the supervisor ended.
  std::atomic<uint64_t> supervisor_restarts[kRestartReasonCount];
  // Writer: the supervisor, when it replaced the companion.
  alignas(64) std::atomic<uint64_t> companion_restarts[kRestartReasonCount];
  // Writer: the companion's engine thread, once per loop; read by the
  // supervisor's watchdog.
  alignas(64) std::atomic<uint64_t> engine_progress;
};

// Stores `value` into a counter that only the calling process writes.
inline void StoreCounter(std::atomic<uint64_t>& counter, uint64_t value) {
  counter.store(value, std::memory_order_relaxed);
}

// Adds `n` to a counter that only the calling process writes and that no
// other process is trusted with (the supervisor's and companion's own).
inline void BumpSingleWriter(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

class SharedRegion {
 public:
  static constexpr uint64_t kDefaultMessageRingBytes = uint64_t{8} << 20;

  // Creates a memfd of the right size and maps it; nullptr and *error on
  // failure. `message_ring_bytes` must satisfy SpscRing::ValidCapacity.
  static std::unique_ptr<SharedRegion> Create(uint64_t message_ring_bytes, std::string* error);
  // Maps the memfd `fd` created by Create() with the same ring size; nullptr
  // and *error if its size is not what that ring size implies.
  static std::unique_ptr<SharedRegion> Attach(int fd, uint64_t message_ring_bytes,
                                              std::string* error);
  ~SharedRegion();
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;

  // The memfd (owned by the region; close-on-exec).
  int fd() const { return fd_; }
  uint64_t message_ring_bytes() const { return ring_bytes_; }
  SharedCounters& counters() { return *counters_; }
  RingHeader* message_ring_header() { return message_header_; }
  char* message_ring_data() { return message_data_; }
  // A producer or consumer of the message ring.
  SpscRing MessageRing() { return SpscRing(message_header_, message_data_, ring_bytes_); }

 private:
  SharedRegion() = default;
  static size_t MetaBytes();
  bool Map(int fd, uint64_t ring_bytes, std::string* error);

  int fd_ = -1;
  void* base_ = nullptr;
  size_t size_ = 0;
  uint64_t ring_bytes_ = 0;
  SharedCounters* counters_ = nullptr;
  RingHeader* message_header_ = nullptr;
  char* message_data_ = nullptr;
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

// The longest record WriteObservation() writes.
inline constexpr uint32_t kMaxObservationRecordBytes =
    sizeof(ObservationRecordHeader) + kMaxClientIdBytes + kMaxTopicBytes + kMaxPayloadBytes;

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

// Consumer: decodes a record (a private copy); false if it is malformed: no
// length is trusted, and every cap of the producer is checked again.
bool DecodeObservation(const char* data, uint32_t size, ObservationView* out);

}  // namespace tkmprom

#endif  // TKMPROM_RING_SHARED_REGION_H_
