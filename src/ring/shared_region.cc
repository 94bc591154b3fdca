#include "src/ring/shared_region.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace tkmprom {
namespace {

constexpr size_t kPage = 4096;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

std::unique_ptr<SharedRegion> SharedRegion::Create(uint64_t message_ring_bytes,
                                                   std::string* error) {
  if (message_ring_bytes < 4096 || (message_ring_bytes & (message_ring_bytes - 1)) != 0) {
    *error = "message ring size must be a power of two of at least 4096 bytes";
    return nullptr;
  }
  // [counters][3 ring headers][message data][supervisor log][companion log]
  const size_t meta = RoundUp(sizeof(SharedCounters) + 3 * sizeof(RingHeader), kPage);
  const size_t size = meta + message_ring_bytes + 2 * kLogRingBytes;
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) {
    *error = std::string("mmap of the shared ring failed: ") + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<SharedRegion> region(new SharedRegion());
  region->base_ = base;
  region->size_ = size;
  char* p = static_cast<char*>(base);
  region->counters_ = new (p) SharedCounters();
  for (auto& c : region->counters_->received) c.store(0, std::memory_order_relaxed);
  region->counters_->dropped.store(0, std::memory_order_relaxed);
  region->counters_->companion_restarts.store(0, std::memory_order_relaxed);
  char* headers = p + RoundUp(sizeof(SharedCounters), alignof(RingHeader));
  region->message_header_ = new (headers) RingHeader();
  region->supervisor_log_header_ = new (headers + sizeof(RingHeader)) RingHeader();
  region->companion_log_header_ = new (headers + 2 * sizeof(RingHeader)) RingHeader();
  region->message_data_ = p + meta;
  region->supervisor_log_data_ = region->message_data_ + message_ring_bytes;
  region->companion_log_data_ = region->supervisor_log_data_ + kLogRingBytes;
  SpscRing::Init(region->message_header_, message_ring_bytes);
  SpscRing::Init(region->supervisor_log_header_, kLogRingBytes);
  SpscRing::Init(region->companion_log_header_, kLogRingBytes);
  return region;
}

SharedRegion::~SharedRegion() {
  if (base_ != nullptr) munmap(base_, size_);
}

bool WriteObservation(SpscRing* ring, MessageKind kind, int64_t timestamp_ns,
                      std::string_view client_id, std::string_view topic, const void* payload,
                      uint32_t payload_size, bool store_payload, uint8_t flags) {
  ObservationRecordHeader h;
  h.timestamp_ns = timestamp_ns;
  h.payload_size = payload_size;
  h.flags = flags & kBridged;
  uint32_t payload_len = store_payload ? payload_size : 0;
  if (payload_len > kMaxPayloadBytes) {
    payload_len = kMaxPayloadBytes;
    h.flags |= kPayloadTruncated;
  }
  if (topic.size() > kMaxTopicBytes) {
    topic = topic.substr(0, kMaxTopicBytes);
    h.flags |= kTopicTruncated;
  }
  if (client_id.size() > kMaxClientIdBytes) client_id = client_id.substr(0, kMaxClientIdBytes);
  h.payload_len = payload_len;
  h.client_id_len = static_cast<uint16_t>(client_id.size());
  h.topic_len = static_cast<uint16_t>(topic.size());
  h.kind = static_cast<uint8_t>(kind);
  h.reserved = 0;
  const uint32_t size =
      static_cast<uint32_t>(sizeof(h) + client_id.size() + topic.size() + payload_len);
  char* out = ring->BeginWrite(size);
  if (out == nullptr) return false;
  std::memcpy(out, &h, sizeof(h));
  out += sizeof(h);
  std::memcpy(out, client_id.data(), client_id.size());
  out += client_id.size();
  std::memcpy(out, topic.data(), topic.size());
  out += topic.size();
  if (payload_len != 0) std::memcpy(out, payload, payload_len);
  ring->CommitWrite();
  return true;
}

bool DecodeObservation(const char* data, uint32_t size, ObservationView* out) {
  ObservationRecordHeader h;
  if (size < sizeof(h)) return false;
  std::memcpy(&h, data, sizeof(h));
  const uint64_t need = uint64_t{sizeof(h)} + h.client_id_len + h.topic_len + h.payload_len;
  if (need != size || h.kind >= kMessageKindCount || h.payload_len > h.payload_size) return false;
  const char* p = data + sizeof(h);
  out->kind = static_cast<MessageKind>(h.kind);
  out->flags = h.flags;
  out->timestamp_ns = h.timestamp_ns;
  out->payload_size = h.payload_size;
  out->client_id = std::string_view(p, h.client_id_len);
  p += h.client_id_len;
  out->topic = std::string_view(p, h.topic_len);
  p += h.topic_len;
  out->payload = std::string_view(p, h.payload_len);
  return true;
}

bool WriteLog(SpscRing* ring, LogLevel level, std::string_view text) {
  if (text.size() > 1000) text = text.substr(0, 1000);
  char* out = ring->BeginWrite(static_cast<uint32_t>(1 + text.size()));
  if (out == nullptr) return false;
  out[0] = static_cast<char>(level);
  std::memcpy(out + 1, text.data(), text.size());
  ring->CommitWrite();
  return true;
}

bool DecodeLog(const char* data, uint32_t size, LogLevel* level, std::string_view* text) {
  if (size < 1 || static_cast<uint8_t>(data[0]) > static_cast<uint8_t>(LogLevel::kError)) {
    return false;
  }
  *level = static_cast<LogLevel>(data[0]);
  *text = std::string_view(data + 1, size - 1);
  return true;
}

}  // namespace tkmprom
