#include "src/ring/shared_region.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace tkmprom {
namespace {

constexpr size_t kPage = 4096;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

// [counters][ring header] rounded to a page, then the ring's data.
size_t SharedRegion::MetaBytes() {
  return RoundUp(RoundUp(sizeof(SharedCounters), alignof(RingHeader)) + sizeof(RingHeader), kPage);
}

bool SharedRegion::Map(int fd, uint64_t ring_bytes, std::string* error) {
  const size_t size = MetaBytes() + ring_bytes;
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    *error = std::string("mmap of the shared ring failed: ") + std::strerror(errno);
    return false;
  }
  fd_ = fd;
  base_ = base;
  size_ = size;
  ring_bytes_ = ring_bytes;
  char* p = static_cast<char*>(base);
  counters_ = reinterpret_cast<SharedCounters*>(p);
  message_header_ =
      reinterpret_cast<RingHeader*>(p + RoundUp(sizeof(SharedCounters), alignof(RingHeader)));
  message_data_ = p + MetaBytes();
  return true;
}

std::unique_ptr<SharedRegion> SharedRegion::Create(uint64_t message_ring_bytes,
                                                   std::string* error) {
  if (!SpscRing::ValidCapacity(message_ring_bytes)) {
    *error = "message ring size must be a power of two from 4096 bytes to 4 GiB";
    return nullptr;
  }
  const int fd = memfd_create("tkmprom-ring", MFD_CLOEXEC);
  if (fd < 0) {
    *error = std::string("memfd_create for the shared ring failed: ") + std::strerror(errno);
    return nullptr;
  }
  if (ftruncate(fd, static_cast<off_t>(MetaBytes() + message_ring_bytes)) != 0) {
    *error = std::string("sizing the shared ring failed: ") + std::strerror(errno);
    close(fd);
    return nullptr;
  }
  std::unique_ptr<SharedRegion> region(new SharedRegion());
  if (!region->Map(fd, message_ring_bytes, error)) {
    close(fd);
    return nullptr;
  }
  // A new memfd reads as zeros: constructing in place only makes it official.
  new (region->counters_) SharedCounters();
  new (region->message_header_) RingHeader();
  SpscRing::Init(region->message_header_);
  return region;
}

std::unique_ptr<SharedRegion> SharedRegion::Attach(int fd, uint64_t message_ring_bytes,
                                                   std::string* error) {
  struct stat st;
  if (!SpscRing::ValidCapacity(message_ring_bytes)) {
    *error = "invalid message ring size";
    return nullptr;
  }
  if (fstat(fd, &st) != 0) {
    *error = std::string("the shared ring's descriptor is unusable: ") + std::strerror(errno);
    return nullptr;
  }
  if (static_cast<uint64_t>(st.st_size) != MetaBytes() + message_ring_bytes) {
    *error = "the shared ring has " + std::to_string(st.st_size) + " bytes, expected " +
             std::to_string(MetaBytes() + message_ring_bytes);
    return nullptr;
  }
  std::unique_ptr<SharedRegion> region(new SharedRegion());
  if (!region->Map(fd, message_ring_bytes, error)) return nullptr;
  return region;
}

SharedRegion::~SharedRegion() {
  if (base_ != nullptr) munmap(base_, size_);
  if (fd_ >= 0) close(fd_);
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
  if (need != size || h.kind >= kMessageKindCount || h.payload_len > h.payload_size ||
      h.payload_len > kMaxPayloadBytes || h.topic_len > kMaxTopicBytes ||
      h.client_id_len > kMaxClientIdBytes) {
    return false;
  }
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

}  // namespace tkmprom
