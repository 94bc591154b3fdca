// A lock-free single-producer/single-consumer ring of variable-length records
// in memory shared between processes: the broker's hook produces
// observations, the companion consumes them.
//
// Layout: a RingHeader (positions on separate cache lines) and a data area of
// a power-of-two size. Positions are byte counts that only grow; a record is
// a uint32 length, its bytes, and padding to 8. A record that does not fit
// before the end of the data area is preceded by a wrap marker.
//
// Trust: the two sides live in different processes, and the consumer's
// process parses hostile input, so neither side trusts what the other can
// write. Each side keeps the capacity it was given by its creator and its
// own position locally; the only shared values it reads are the other
// side's position and, for the consumer, the record lengths and markers.
// - The producer range-checks the consumer's position on every reload: a
//   position that is ahead of the producer's, more than a capacity behind
//   it, or not 8-aligned reads as "full" (never as "space"), so a wild write
//   in the consumer's process can cost observations but never makes the
//   producer write outside the data area. It then republishes its own
//   position, so that a consumer that resynchronises (below) heals the ring.
// - The consumer checks its position against the producer's and every
//   length and wrap marker against the bytes actually published before it
//   hands a record out; on any inconsistency it drops everything published
//   so far (skips to the producer's position) and counts a resync.
//
// Thread safety: exactly one producer (one thread of one process at a time)
// calls BeginWrite/CommitWrite, and exactly one consumer calls Peek/Pop.
// Producer and consumer may run concurrently in different processes. A
// process that takes over the consumer role (a restarted companion)
// constructs a new SpscRing over the same memory; the consumer's position is
// reloaded from shared memory and checked before use. Nothing blocks,
// allocates or makes a system call.
#ifndef TKMPROM_RING_SPSC_RING_H_
#define TKMPROM_RING_SPSC_RING_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tkmprom {

struct RingHeader {
  alignas(64) std::atomic<uint64_t> head{0};  // written by the producer
  alignas(64) std::atomic<uint64_t> tail{0};  // written by the consumer
};

class SpscRing {
 public:
  static constexpr uint64_t kMinCapacity = 4096;

  // True for a capacity SpscRing accepts: a power of two, at least
  // kMinCapacity and at most 2^32.
  static bool ValidCapacity(uint64_t capacity);

  // `data` has `capacity` bytes (ValidCapacity); the capacity comes from the
  // ring's creator, never from shared memory. Init() zeroes the positions
  // once, before any process uses the ring.
  SpscRing(RingHeader* header, char* data, uint64_t capacity);
  static void Init(RingHeader* header);

  // The largest record size BeginWrite accepts.
  uint32_t MaxRecordSize() const { return max_record_; }

  // Producer: space for a record of `size` bytes, or nullptr when the ring is
  // full (or size is too large, or the consumer's position is implausible).
  // Nothing is visible until CommitWrite().
  char* BeginWrite(uint32_t size);
  void CommitWrite();

  // Consumer: the oldest record, or false when empty. `*size` <=
  // MaxRecordSize() and the record lies inside the data area. The bytes stay
  // valid until Pop(), but the producer's process can write them at any
  // time: copy them out and decode the copy.
  bool Peek(const char** data, uint32_t* size);
  void Pop();

  // Consumer: times Peek found the shared state inconsistent and skipped to
  // the producer's position.
  uint64_t resyncs() const { return resyncs_; }

  // Bytes written and not yet consumed (approximate from either side; a
  // value above the capacity means the positions are inconsistent).
  uint64_t UsedBytes() const;

 private:
  static constexpr uint32_t kWrapMarker = 0xFFFFFFFFu;
  static constexpr uint64_t Align(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

  // True if `tail` is a position the consumer can have, given `head`.
  bool Plausible(uint64_t head, uint64_t tail) const {
    return head - tail <= capacity_ && (tail & 7) == 0 && (head & 7) == 0;
  }
  void Resync(uint64_t head);

  RingHeader* header_;
  char* data_;
  uint64_t capacity_;
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
  uint64_t resyncs_ = 0;
};

}  // namespace tkmprom

#endif  // TKMPROM_RING_SPSC_RING_H_
