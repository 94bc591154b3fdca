#include "src/ring/spsc_ring.h"

#include <cstring>

namespace tkmprom {

void SpscRing::Init(RingHeader* header, uint64_t capacity) {
  header->head.store(0, std::memory_order_relaxed);
  header->tail.store(0, std::memory_order_relaxed);
  header->capacity = capacity;
}

SpscRing::SpscRing(RingHeader* header, char* data)
    : header_(header),
      data_(data),
      mask_(header->capacity - 1),
      // A record may take at most half the ring, so a wrap never starves it.
      max_record_(static_cast<uint32_t>(header->capacity / 2 - 8)),
      head_(header->head.load(std::memory_order_relaxed)),
      pending_head_(head_),
      cached_tail_(header->tail.load(std::memory_order_acquire)),
      tail_(header->tail.load(std::memory_order_relaxed)),
      next_tail_(tail_),
      cached_head_(header->head.load(std::memory_order_acquire)) {}

char* SpscRing::BeginWrite(uint32_t size) {
  if (size > max_record_) return nullptr;
  const uint64_t need = Align(sizeof(uint32_t) + size);
  const uint64_t capacity = mask_ + 1;
  uint64_t offset = head_ & mask_;
  const uint64_t contiguous = capacity - offset;
  const uint64_t total = contiguous < need ? contiguous + need : need;
  if (head_ + total - cached_tail_ > capacity) {
    // Only a full-looking ring pays for reading the consumer's cache line.
    cached_tail_ = header_->tail.load(std::memory_order_acquire);
    if (head_ + total - cached_tail_ > capacity) return nullptr;
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

bool SpscRing::Peek(const char** data, uint32_t* size) {
  if (tail_ == cached_head_) {
    cached_head_ = header_->head.load(std::memory_order_acquire);
    if (tail_ == cached_head_) return false;
  }
  uint64_t offset = tail_ & mask_;
  uint32_t length = 0;
  std::memcpy(&length, data_ + offset, sizeof(length));
  uint64_t start = tail_;
  if (length == kWrapMarker) {
    start += (mask_ + 1) - offset;
    offset = 0;
    std::memcpy(&length, data_, sizeof(length));
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
