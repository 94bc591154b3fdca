#include "src/ring/spsc_ring.h"

#include <cstring>

namespace tkmprom {

bool SpscRing::ValidCapacity(uint64_t capacity) {
  return capacity >= kMinCapacity && capacity <= (uint64_t{1} << 32) &&
         (capacity & (capacity - 1)) == 0;
}

void SpscRing::Init(RingHeader* header) {
  header->head.store(0, std::memory_order_relaxed);
  header->tail.store(0, std::memory_order_relaxed);
}

SpscRing::SpscRing(RingHeader* header, char* data, uint64_t capacity)
    : header_(header),
      data_(data),
      capacity_(capacity),
      mask_(capacity - 1),
      // A record may take at most half the ring, so a wrap never starves it.
      max_record_(static_cast<uint32_t>(capacity / 2 - 8)),
      // The producer is constructed by the ring's creator, before the ring is
      // shared; from then on its position lives here and is only written out.
      head_(header->head.load(std::memory_order_relaxed)),
      pending_head_(head_),
      cached_tail_(head_),
      tail_(header->tail.load(std::memory_order_relaxed)),
      next_tail_(tail_),
      cached_head_(tail_) {}

char* SpscRing::BeginWrite(uint32_t size) {
  if (size > max_record_) return nullptr;
  const uint64_t need = Align(sizeof(uint32_t) + size);
  uint64_t offset = head_ & mask_;
  const uint64_t contiguous = capacity_ - offset;
  const uint64_t total = contiguous < need ? contiguous + need : need;
  if (head_ + total - cached_tail_ > capacity_) {
    // Only a full-looking ring pays for reading the consumer's cache line.
    const uint64_t tail = header_->tail.load(std::memory_order_acquire);
    if (!Plausible(head_, tail)) {
      // Full, never space. Republishing our position lets a consumer that
      // resynchronises to it put the ring right again.
      header_->head.store(head_, std::memory_order_release);
      return nullptr;
    }
    cached_tail_ = tail;
    if (head_ + total - cached_tail_ > capacity_) return nullptr;
  }
  uint64_t start = head_;
  if (contiguous < need) {
    // Positions are 8-aligned, so at least 8 bytes remain for the marker.
    std::memcpy(data_ + offset, &kWrapMarker, sizeof(kWrapMarker));
    start += contiguous;
    offset = 0;
  }
  std::memcpy(data_ + offset, &size, sizeof(size));
  pending_head_ = start + need;
  return data_ + offset + sizeof(uint32_t);
}

void SpscRing::CommitWrite() {
  head_ = pending_head_;
  header_->head.store(head_, std::memory_order_release);
}

void SpscRing::Resync(uint64_t head) {
  ++resyncs_;
  tail_ = head;
  next_tail_ = head;
  cached_head_ = head;
  header_->tail.store(head, std::memory_order_release);
}

bool SpscRing::Peek(const char** data, uint32_t* size) {
  if (tail_ == cached_head_) {
    cached_head_ = header_->head.load(std::memory_order_acquire);
    if (tail_ == cached_head_) return false;
  }
  const uint64_t head = cached_head_;
  if (!Plausible(head, tail_)) {
    Resync(head);
    return false;
  }
  uint64_t offset = tail_ & mask_;
  uint32_t length = 0;
  std::memcpy(&length, data_ + offset, sizeof(length));
  uint64_t start = tail_;
  if (length == kWrapMarker) {
    start += capacity_ - offset;
    offset = 0;
    if (start >= head) {  // a marker with nothing published after it
      Resync(head);
      return false;
    }
    std::memcpy(&length, data_, sizeof(length));
  }
  // The record must be one the producer could have written, and lie wholly
  // inside what it has published; the data area's bounds follow from both.
  if (length > max_record_ || start + Align(sizeof(uint32_t) + length) > head ||
      offset + sizeof(uint32_t) + length > capacity_) {
    Resync(head);
    return false;
  }
  *data = data_ + offset + sizeof(uint32_t);
  *size = length;
  next_tail_ = start + Align(sizeof(uint32_t) + length);
  return true;
}

void SpscRing::Pop() {
  tail_ = next_tail_;
  header_->tail.store(tail_, std::memory_order_release);
}

uint64_t SpscRing::UsedBytes() const {
  return header_->head.load(std::memory_order_acquire) -
         header_->tail.load(std::memory_order_acquire);
}

}  // namespace tkmprom
