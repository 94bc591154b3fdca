#include "src/ring/spsc_ring.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "src/ring/shared_region.h"

namespace tkmprom {
namespace {

class RingFixture {
 public:
  explicit RingFixture(uint64_t capacity) : capacity_(capacity), data_(capacity) {
    SpscRing::Init(&header_);
  }
  SpscRing Make() { return SpscRing(&header_, data_.data(), capacity_); }

 private:
  uint64_t capacity_;
  RingHeader header_;
  std::vector<char> data_;
};

bool Write(SpscRing* ring, const std::string& s) {
  char* p = ring->BeginWrite(static_cast<uint32_t>(s.size()));
  if (p == nullptr) return false;
  std::memcpy(p, s.data(), s.size());
  ring->CommitWrite();
  return true;
}

bool Read(SpscRing* ring, std::string* s) {
  const char* data;
  uint32_t size;
  if (!ring->Peek(&data, &size)) return false;
  s->assign(data, size);
  ring->Pop();
  return true;
}

TEST(SpscRingTest, EmptyRingHasNothingToRead) {
  RingFixture f(4096);
  SpscRing ring = f.Make();
  std::string s;
  EXPECT_FALSE(Read(&ring, &s));
  EXPECT_EQ(ring.UsedBytes(), 0u);
}

TEST(SpscRingTest, RecordsComeOutInOrder) {
  RingFixture f(4096);
  SpscRing ring = f.Make();
  ASSERT_TRUE(Write(&ring, "one"));
  ASSERT_TRUE(Write(&ring, ""));
  ASSERT_TRUE(Write(&ring, "three"));
  std::string s;
  ASSERT_TRUE(Read(&ring, &s));
  EXPECT_EQ(s, "one");
  ASSERT_TRUE(Read(&ring, &s));
  EXPECT_EQ(s, "");
  ASSERT_TRUE(Read(&ring, &s));
  EXPECT_EQ(s, "three");
  EXPECT_FALSE(Read(&ring, &s));
}

TEST(SpscRingTest, FullRingRefusesAndRecoversAfterPop) {
  RingFixture f(4096);
  SpscRing ring = f.Make();
  const std::string record(100, 'x');  // 104 bytes with its length, 104 aligned
  int written = 0;
  while (Write(&ring, record)) ++written;
  EXPECT_EQ(written, 4096 / 104);
  std::string s;
  ASSERT_TRUE(Read(&ring, &s));
  EXPECT_TRUE(Write(&ring, record));
  EXPECT_FALSE(Write(&ring, record));
}

TEST(SpscRingTest, WrapsAroundTheEndWithAMarker) {
  RingFixture f(4096);
  SpscRing ring = f.Make();
  std::string s;
  // Move both positions near the end, then write records that straddle it.
  for (int round = 0; round < 200; ++round) {
    const std::string record(static_cast<size_t>(37 + round * 13 % 900),
                             static_cast<char>('a' + round % 26));
    ASSERT_TRUE(Write(&ring, record)) << round;
    ASSERT_TRUE(Read(&ring, &s)) << round;
    ASSERT_EQ(s, record) << round;
  }
  EXPECT_EQ(ring.UsedBytes(), 0u);
}

TEST(SpscRingTest, RecordAtTheCapFitsAndLargerIsRefused) {
  RingFixture f(4096);
  SpscRing ring = f.Make();
  const std::string at_cap(ring.MaxRecordSize(), 'c');
  ASSERT_TRUE(Write(&ring, at_cap));
  std::string s;
  ASSERT_TRUE(Read(&ring, &s));
  EXPECT_EQ(s, at_cap);
  EXPECT_EQ(ring.BeginWrite(ring.MaxRecordSize() + 1), nullptr);
  // At the cap it still fits after a wrap.
  ASSERT_TRUE(Write(&ring, std::string(1000, 'd')));
  ASSERT_TRUE(Read(&ring, &s));
  ASSERT_TRUE(Write(&ring, at_cap));
  ASSERT_TRUE(Read(&ring, &s));
  EXPECT_EQ(s, at_cap);
}

TEST(SpscRingTest, NewConsumerResumesWhereTheOldOneStopped) {
  RingFixture f(4096);
  SpscRing producer = f.Make();
  ASSERT_TRUE(Write(&producer, "a"));
  ASSERT_TRUE(Write(&producer, "b"));
  {
    SpscRing consumer = f.Make();
    std::string s;
    ASSERT_TRUE(Read(&consumer, &s));
    EXPECT_EQ(s, "a");
  }
  SpscRing restarted = f.Make();
  std::string s;
  ASSERT_TRUE(Read(&restarted, &s));
  EXPECT_EQ(s, "b");
  EXPECT_FALSE(Read(&restarted, &s));
}

// Two threads: every record arrives intact and in order, across many wraps.
TEST(SpscRingTest, TwoThreadStressDeliversEverythingInOrder) {
  RingFixture f(1 << 16);
  SpscRing producer = f.Make();
  SpscRing consumer = f.Make();
  constexpr uint64_t kRecords = 2000000;
  std::thread t([&] {
    char buf[600];
    for (uint64_t i = 0; i < kRecords; ++i) {
      const uint32_t len = static_cast<uint32_t>(8 + (i * 7919) % 500);
      std::memcpy(buf, &i, 8);
      for (uint32_t k = 8; k < len; ++k) buf[k] = static_cast<char>(i + k);
      char* p;
      while ((p = producer.BeginWrite(len)) == nullptr) std::this_thread::yield();
      std::memcpy(p, buf, len);
      producer.CommitWrite();
    }
  });
  uint64_t expected = 0;
  uint64_t bad = 0;
  while (expected < kRecords) {
    const char* data;
    uint32_t size;
    if (!consumer.Peek(&data, &size)) {
      std::this_thread::yield();
      continue;
    }
    uint64_t seq;
    std::memcpy(&seq, data, 8);
    const uint32_t want = static_cast<uint32_t>(8 + (expected * 7919) % 500);
    if (seq != expected || size != want) ++bad;
    for (uint32_t k = 8; k < size; ++k) {
      if (data[k] != static_cast<char>(seq + k)) {
        ++bad;
        break;
      }
    }
    consumer.Pop();
    ++expected;
  }
  t.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(consumer.UsedBytes(), 0u);
}

TEST(ObservationRecordTest, RoundTripsAndTruncatesPayload) {
  std::string error;
  auto region = SharedRegion::Create(1 << 16, &error);
  ASSERT_NE(region, nullptr) << error;
  SpscRing ring = region->MessageRing();
  const std::string payload = R"({"type":"UPDATE","device":"A1B2C3D4E5F6"})";
  ASSERT_TRUE(WriteObservation(&ring, MessageKind::kStockRequest, 42, "A1B2C3D4E5F6",
                               "STOCKPRICEUPDATE", payload.data(),
                               static_cast<uint32_t>(payload.size()), true));
  const std::string big(kMaxPayloadBytes + 10, '{');
  ASSERT_TRUE(WriteObservation(&ring, MessageKind::kDeviceMessage, 43, "c", "A1B2C3D4E5F6",
                               big.data(), static_cast<uint32_t>(big.size()), true));
  ASSERT_TRUE(
      WriteObservation(&ring, MessageKind::kLog, 44, "c", "LOG/A1B2C3D4E5F6", "text", 4, false));
  const char* data;
  uint32_t size;
  ObservationView v;
  ASSERT_TRUE(ring.Peek(&data, &size));
  ASSERT_TRUE(DecodeObservation(data, size, &v));
  EXPECT_EQ(v.kind, MessageKind::kStockRequest);
  EXPECT_EQ(v.timestamp_ns, 42);
  EXPECT_EQ(v.client_id, "A1B2C3D4E5F6");
  EXPECT_EQ(v.topic, "STOCKPRICEUPDATE");
  EXPECT_EQ(v.payload, payload);
  EXPECT_EQ(v.flags, 0);
  ring.Pop();
  ASSERT_TRUE(ring.Peek(&data, &size));
  ASSERT_TRUE(DecodeObservation(data, size, &v));
  EXPECT_EQ(v.payload.size(), kMaxPayloadBytes);
  EXPECT_EQ(v.payload_size, big.size());
  EXPECT_TRUE(v.flags & kPayloadTruncated);
  ring.Pop();
  ASSERT_TRUE(ring.Peek(&data, &size));
  ASSERT_TRUE(DecodeObservation(data, size, &v));
  EXPECT_EQ(v.kind, MessageKind::kLog);
  EXPECT_EQ(v.payload, "");
  EXPECT_EQ(v.payload_size, 4u);
  ring.Pop();
}

TEST(ObservationRecordTest, RejectsMalformedRecords) {
  ObservationRecordHeader h{};
  h.topic_len = 100;  // claims more bytes than the record has
  char buf[sizeof(h) + 10] = {};
  std::memcpy(buf, &h, sizeof(h));
  ObservationView v;
  EXPECT_FALSE(DecodeObservation(buf, sizeof(buf), &v));
  EXPECT_FALSE(DecodeObservation(buf, 3, &v));
  h.topic_len = 10;
  h.kind = 200;
  std::memcpy(buf, &h, sizeof(h));
  EXPECT_FALSE(DecodeObservation(buf, sizeof(buf), &v));
}

TEST(ObservationRecordTest, RejectsLengthsOverTheProducersCaps) {
  ObservationRecordHeader h{};
  h.topic_len = kMaxTopicBytes + 1;
  std::vector<char> buf(sizeof(h) + h.topic_len);
  std::memcpy(buf.data(), &h, sizeof(h));
  ObservationView v;
  EXPECT_FALSE(DecodeObservation(buf.data(), static_cast<uint32_t>(buf.size()), &v));
  h.topic_len = kMaxTopicBytes;
  std::memcpy(buf.data(), &h, sizeof(h));
  EXPECT_TRUE(DecodeObservation(buf.data(), static_cast<uint32_t>(buf.size() - 1), &v));
}

TEST(SharedRegionTest, AttachSeesWhatCreateWroteAndRefusesAnotherSize) {
  std::string error;
  auto region = SharedRegion::Create(1 << 16, &error);
  ASSERT_NE(region, nullptr) << error;
  StoreCounter(region->counters().dropped, 7);
  const int fd = dup(region->fd());
  auto attached = SharedRegion::Attach(fd, 1 << 16, &error);
  ASSERT_NE(attached, nullptr) << error;
  EXPECT_EQ(attached->counters().dropped.load(), 7u);
  SpscRing producer = region->MessageRing();
  SpscRing consumer = attached->MessageRing();
  ASSERT_TRUE(Write(&producer, "through the memfd"));
  std::string s;
  ASSERT_TRUE(Read(&consumer, &s));
  EXPECT_EQ(s, "through the memfd");
  const int fd2 = dup(region->fd());
  EXPECT_EQ(SharedRegion::Attach(fd2, 1 << 17, &error), nullptr);
  EXPECT_NE(error.find("expected"), std::string::npos) << error;
  close(fd2);
}

}  // namespace
}  // namespace tkmprom
