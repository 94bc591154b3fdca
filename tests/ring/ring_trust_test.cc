// The ring's sides do not trust what the other process can write
// (spsc_ring.h): every shared field the broker reads, and every length,
// marker and position the companion reads, corrupted on purpose.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "src/ring/spsc_ring.h"

namespace tkmprom {
namespace {

constexpr uint64_t kCapacity = 4096;
constexpr size_t kGuard = 4096;
constexpr char kCanary = '\x5A';

// A ring whose data area sits between two guard areas that nothing may touch.
class GuardedRing {
 public:
  GuardedRing() : memory_(kGuard + kCapacity + kGuard, kCanary) { SpscRing::Init(&header_); }
  SpscRing Make() { return SpscRing(&header_, data(), kCapacity); }
  char* data() { return memory_.data() + kGuard; }
  RingHeader& header() { return header_; }
  bool GuardsIntact() const {
    for (size_t i = 0; i < kGuard; ++i) {
      if (memory_[i] != kCanary || memory_[kGuard + kCapacity + i] != kCanary) return false;
    }
    return true;
  }
  bool Inside(const char* p, uint32_t size) {
    return p >= data() && p + size <= data() + kCapacity;
  }

 private:
  RingHeader header_;
  std::vector<char> memory_;
};

bool Write(SpscRing* ring, size_t size, char fill = 'r') {
  char* p = ring->BeginWrite(static_cast<uint32_t>(size));
  if (p == nullptr) return false;
  std::memset(p, fill, size);
  ring->CommitWrite();
  return true;
}

// Writes 100-byte records until the ring refuses one, so that the producer
// has to read the consumer's position for the next.
void Fill(SpscRing* producer) {
  for (int i = 0; i < 1000 && Write(producer, 100); ++i) {
  }
}

// --- The producer (the broker) reads only the consumer's position ----------

TEST(RingTrustTest, ProducerWritesAgainOnceAnHonestConsumerCaughtUp) {
  GuardedRing g;
  SpscRing producer = g.Make();
  Fill(&producer);
  EXPECT_FALSE(Write(&producer, 100));
  g.header().tail.store(g.header().head.load());
  EXPECT_TRUE(Write(&producer, 100));
}

TEST(RingTrustTest, ProducerReadsATailAheadOfItsHeadAsFull) {
  GuardedRing g;
  SpscRing producer = g.Make();
  Fill(&producer);
  g.header().tail.store(g.header().head.load() + 64);  // "consumed" what was never written
  EXPECT_FALSE(Write(&producer, 100));
  EXPECT_TRUE(g.GuardsIntact());
}

TEST(RingTrustTest, ProducerReadsATailMoreThanACapacityBehindAsFull) {
  GuardedRing g;
  SpscRing producer = g.Make();
  Fill(&producer);
  g.header().tail.store(g.header().head.load() - kCapacity - 8);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(Write(&producer, 100)) << i;
  EXPECT_TRUE(g.GuardsIntact());
}

TEST(RingTrustTest, ProducerReadsAMisalignedTailAsFull) {
  GuardedRing g;
  SpscRing producer = g.Make();
  Fill(&producer);
  g.header().tail.store(g.header().head.load() - 3);
  EXPECT_FALSE(Write(&producer, 100));
  EXPECT_TRUE(g.GuardsIntact());
}

TEST(RingTrustTest, ProducerRecoversOnceANewConsumerResynchronises) {
  GuardedRing g;
  SpscRing producer = g.Make();
  Fill(&producer);
  const uint64_t head = g.header().head.load();
  g.header().tail.store(~uint64_t{0} - 5);  // a wild write
  g.header().head.store(12345);             // and another one
  EXPECT_FALSE(Write(&producer, 100));
  EXPECT_EQ(g.header().head.load(), head);  // the producer put its position back
  SpscRing consumer = g.Make();             // a restarted companion
  const char* d;
  uint32_t n;
  EXPECT_FALSE(consumer.Peek(&d, &n));
  EXPECT_EQ(consumer.resyncs(), 1u);
  ASSERT_TRUE(Write(&producer, 100, 'n'));
  ASSERT_TRUE(consumer.Peek(&d, &n));
  EXPECT_EQ(n, 100u);
  EXPECT_EQ(d[0], 'n');
  EXPECT_TRUE(g.GuardsIntact());
}

// Whatever the consumer's process writes into the tail, the producer never
// writes outside the data area and never hands out space it does not have.
TEST(RingTrustTest, RandomTailsNeverMakeTheProducerWriteOutside) {
  GuardedRing g;
  SpscRing producer = g.Make();
  std::mt19937_64 rng(7);
  uint64_t accepted = 0;
  for (int i = 0; i < 200000; ++i) {
    const uint64_t head = g.header().head.load();
    switch (rng() % 4) {
      case 0:
        g.header().tail.store(rng());
        break;
      case 1:
        g.header().tail.store(head - (rng() % (2 * kCapacity)));
        break;
      case 2:
        g.header().tail.store(head + (rng() % 64));
        break;
      default:
        g.header().tail.store(head);  // an honest, caught-up consumer
        break;
    }
    const uint32_t size = static_cast<uint32_t>(rng() % (producer.MaxRecordSize() + 16));
    char* p = producer.BeginWrite(size);
    if (p == nullptr) continue;
    ASSERT_TRUE(g.Inside(p, size)) << "iteration " << i;
    std::memset(p, 'w', size);
    producer.CommitWrite();
    ++accepted;
  }
  EXPECT_GT(accepted, 1000u);  // honest consumers still get records
  EXPECT_TRUE(g.GuardsIntact());
}

// --- The consumer (the companion) reads positions, lengths and markers -----

TEST(RingTrustTest, ConsumerSkipsARecordWhoseLengthRunsPastWhatWasPublished) {
  GuardedRing g;
  SpscRing producer = g.Make();
  SpscRing consumer = g.Make();
  ASSERT_TRUE(Write(&producer, 16));
  const uint32_t huge = 1000;  // below the cap, beyond the head
  std::memcpy(g.data(), &huge, sizeof(huge));
  const char* d;
  uint32_t n;
  EXPECT_FALSE(consumer.Peek(&d, &n));
  EXPECT_EQ(consumer.resyncs(), 1u);
  ASSERT_TRUE(Write(&producer, 16, 'k'));
  ASSERT_TRUE(consumer.Peek(&d, &n));
  EXPECT_EQ(n, 16u);
  EXPECT_EQ(d[0], 'k');
}

TEST(RingTrustTest, ConsumerSkipsALengthOverTheCap) {
  GuardedRing g;
  SpscRing producer = g.Make();
  SpscRing consumer = g.Make();
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(Write(&producer, 100));
  const uint32_t over = 0x7FFFFFF0u;
  std::memcpy(g.data(), &over, sizeof(over));
  const char* d;
  uint32_t n;
  EXPECT_FALSE(consumer.Peek(&d, &n));
  EXPECT_EQ(consumer.resyncs(), 1u);
  EXPECT_EQ(consumer.UsedBytes(), 0u);
}

TEST(RingTrustTest, ConsumerSkipsAWrapMarkerWithNothingAfterIt) {
  GuardedRing g;
  SpscRing producer = g.Make();
  SpscRing consumer = g.Make();
  ASSERT_TRUE(Write(&producer, 16));
  const uint32_t marker = 0xFFFFFFFFu;
  std::memcpy(g.data(), &marker, sizeof(marker));
  const char* d;
  uint32_t n;
  EXPECT_FALSE(consumer.Peek(&d, &n));
  EXPECT_EQ(consumer.resyncs(), 1u);
}

TEST(RingTrustTest, ConsumerResynchronisesAfterImplausiblePositions) {
  GuardedRing g;
  SpscRing producer = g.Make();
  ASSERT_TRUE(Write(&producer, 16));
  g.header().tail.store(3);  // misaligned, from a crashed predecessor
  SpscRing consumer = g.Make();
  const char* d;
  uint32_t n;
  EXPECT_FALSE(consumer.Peek(&d, &n));
  EXPECT_EQ(consumer.resyncs(), 1u);
  EXPECT_EQ(g.header().tail.load(), g.header().head.load());
  g.header().head.store(g.header().head.load() + 10 * kCapacity);  // a head far ahead
  EXPECT_FALSE(consumer.Peek(&d, &n));
  EXPECT_EQ(consumer.resyncs(), 2u);
}

// Random bytes in the data area and random positions: every record the
// consumer hands out lies inside the data area and is at most the cap.
TEST(RingTrustTest, RandomCorruptionNeverMakesTheConsumerReadOutside) {
  GuardedRing g;
  std::mt19937_64 rng(11);
  SpscRing consumer = g.Make();
  uint64_t handed_out = 0;
  for (int i = 0; i < 100000; ++i) {
    for (int k = 0; k < 4; ++k) {
      const uint32_t v = rng() % 3 == 0 ? 0xFFFFFFFFu : static_cast<uint32_t>(rng() % 5000);
      std::memcpy(g.data() + (rng() % (kCapacity / 8)) * 8, &v, sizeof(v));
    }
    const uint64_t tail = g.header().tail.load();
    g.header().head.store(rng() % 8 == 0 ? rng() : tail + (rng() % kCapacity) / 8 * 8);
    const char* d;
    uint32_t n;
    while (consumer.Peek(&d, &n)) {
      ASSERT_TRUE(g.Inside(d, n)) << "iteration " << i;
      ASSERT_LE(n, consumer.MaxRecordSize());
      consumer.Pop();
      ++handed_out;
    }
  }
  EXPECT_GT(handed_out, 1000u);
  EXPECT_GT(consumer.resyncs(), 1000u);
  EXPECT_TRUE(g.GuardsIntact());
}

}  // namespace
}  // namespace tkmprom
