// A lock-free single-producer/single-consumer ring of variable-length records
// in memory shared between processes (the broker's hook produces observations;
// the companion consumes them; log lines go the other way in rings of their own).
//
// Layout: a RingHeader (positions on separate cache lines) and a data area of
// a power-of-two size. Positions are byte counts that only grow; a record is
// a uint32 length, its bytes, and padding to 8. A record that does not fit
// before the end of the data area is preceded by a wrap marker.
//
// Thread safety: exactly one producer (one thread of one process at a time)
// calls BeginWrite/CommitWrite, and exactly one consumer calls Peek/Pop.
// Producer and consumer may run concurrently in different processes. A
// process that takes over a role (a restarted companion) constructs a new
// SpscRing over the same memory; positions are reloaded from shared memory.
// Nothing blocks, allocates or makes a system call.
#ifndef TKMPROM_RING_SPSC_RING_H_
#define TKMPROM_RING_SPSC_RING_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tkmprom {

struct RingHeader {
  alignas(64) std::atomic<uint64_t> head{0};  // written by the producer
  alignas(64) std::atomic<uint64_t> tail{0};  // written by the consumer
  alignas(64) uint64_t capacity = 0;          // bytes in the data area, a power of two
};

class SpscRing {
 public:
  // `data` has header->capacity bytes; Init() sets them up once, before any
  // process uses the ring.
  SpscRing(RingHeader* header, char* data);
  static void Init(RingHeader* header, uint64_t capacity);

  // The largest record size BeginWrite accepts.
  uint32_t MaxRecordSize() const { return max_record_; }

  // Producer: space for a record of `size` bytes, or nullptr when the ring is
  // full (or size is too large). Nothing is visible until CommitWrite().
  char* BeginWrite(uint32_t size);
  void CommitWrite();

  // Consumer: the oldest record, or false when empty. The bytes stay valid
  // and unchanged until Pop().
  bool Peek(const char** data, uint32_t* size);
  void Pop();

  // Bytes written and not yet consumed (approximate from either side).
  uint64_t UsedBytes() const;

 private:
  static constexpr uint32_t kWrapMarker = 0xFFFFFFFFu;
  static constexpr uint64_t Align(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

  RingHeader* header_;
  char* data_;
  uint64_t mask_;
  uint32_t max_record_;
  // Producer-local state.
  uint64_t head_;
  uint64_t pending_head_;
  uint64_t cached_tail_;
  // Consumer-local state.
  uint64_t tail_;
  uint64_t next_tail_;
  uint64_t cached_head_;
};

}  // namespace tkmprom

#endif  // TKMPROM_RING_SPSC_RING_H_
