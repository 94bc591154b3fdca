// SnapshotHolder: snapshots on demand. A request finding the latest snapshot
// older than its bound asks the engine thread (here a test thread) for a new
// one and waits for it; without an engine serving requests it never waits.
// Times passed in are a fake clock; the waits are real but bounded.
#include "src/http/snapshot_holder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace tkmprom {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

std::shared_ptr<const Snapshot> Made(uint64_t generation, int64_t published_ns) {
  auto s = std::make_shared<Snapshot>();
  s->generation = generation;
  s->published_ns = published_ns;
  return s;
}

TEST(SnapshotHolderTest, WithoutAnEngineTheLatestIsServedAsItIs) {
  SnapshotHolder holder;
  EXPECT_EQ(holder.GetFresh(100 * kSecond, kSecond, 10 * kSecond), nullptr);
  holder.Publish(Made(1, 0));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(holder.GetFresh(100 * kSecond, kSecond, 10 * kSecond)->generation, 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(holder.Requested());
}

TEST(SnapshotHolderTest, AFreshSnapshotIsServedWithoutAsking) {
  SnapshotHolder holder;
  holder.ServeRequests();
  holder.Publish(Made(1, 10 * kSecond));
  EXPECT_EQ(holder.GetFresh(11 * kSecond, kSecond, 10 * kSecond)->generation, 1u);
  EXPECT_FALSE(holder.Requested());
}

TEST(SnapshotHolderTest, AnOldSnapshotMakesTheRequestAskAndWait) {
  SnapshotHolder holder;
  holder.ServeRequests();
  holder.Publish(Made(1, 10 * kSecond));
  std::atomic<bool> asked{false};
  std::thread engine([&] {
    // The engine thread: sleeps until asked, then publishes a new snapshot.
    while (!holder.Requested()) holder.WaitForRequest(kSecond);
    asked = true;
    holder.Publish(Made(2, 12 * kSecond));
  });
  std::shared_ptr<const Snapshot> got = holder.GetFresh(11 * kSecond + 1, kSecond, 30 * kSecond);
  engine.join();
  EXPECT_TRUE(asked);
  EXPECT_EQ(got->generation, 2u);
  EXPECT_FALSE(holder.Requested()) << "the publish answered the request";
}

TEST(SnapshotHolderTest, ARequestNobodyAnswersGetsTheLatestAfterItsWait) {
  SnapshotHolder holder;
  holder.ServeRequests();
  holder.Publish(Made(1, 0));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(holder.GetFresh(100 * kSecond, kSecond, kSecond / 20)->generation, 1u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_TRUE(holder.Requested()) << "the request stays for the engine to answer";
}

TEST(SnapshotHolderTest, BeforeAnySnapshotTheRequestWaitsForTheFirst) {
  SnapshotHolder holder;
  holder.ServeRequests();
  std::thread engine([&] {
    while (!holder.Requested()) holder.WaitForRequest(kSecond);
    holder.Publish(Made(7, 5 * kSecond));
  });
  std::shared_ptr<const Snapshot> got = holder.GetFresh(5 * kSecond, kSecond, 30 * kSecond);
  engine.join();
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->generation, 7u);
}

TEST(SnapshotHolderTest, WaitForRequestReturnsAtOnceWhenAsked) {
  SnapshotHolder holder;
  holder.ServeRequests();
  std::thread requester([&] { holder.GetFresh(0, kSecond, 30 * kSecond); });
  // Without the request this would sleep 30 s.
  const auto start = std::chrono::steady_clock::now();
  while (!holder.Requested()) holder.WaitForRequest(30 * kSecond);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  holder.Publish(Made(1, 0));
  requester.join();
}

TEST(SnapshotHolderTest, ReleaseForgetsOnlyTheRenderedSnapshot) {
  SnapshotHolder holder;
  holder.ServeRequests();
  holder.Publish(Made(1, 10 * kSecond));
  const std::shared_ptr<const Snapshot> first = holder.Get();
  holder.Publish(Made(2, 11 * kSecond));
  holder.Release(first);  // an older one: the current stays
  ASSERT_NE(holder.Get(), nullptr);
  EXPECT_EQ(holder.Get()->generation, 2u);
  std::shared_ptr<const Snapshot> pinned = holder.Get();
  std::weak_ptr<const Snapshot> watch = pinned;
  holder.Release(pinned);
  EXPECT_EQ(holder.Get(), nullptr);
  EXPECT_EQ(pinned->generation, 2u) << "a reader keeps what it got";
  pinned.reset();
  EXPECT_TRUE(watch.expired()) << "and the last reader frees it";
}

TEST(SnapshotHolderTest, WithoutAnEngineNothingIsReleased) {
  SnapshotHolder holder;
  holder.Publish(Made(1, 0));
  holder.Release(holder.Get());
  ASSERT_NE(holder.Get(), nullptr) << "nobody could build another";
}

TEST(SnapshotHolderTest, AReleasedSnapshotIsAskedForAgainWithinTheBound) {
  SnapshotHolder holder;
  holder.ServeRequests();
  holder.Publish(Made(1, 10 * kSecond));
  holder.Release(holder.Get());
  std::thread engine([&] {
    while (!holder.Requested()) holder.WaitForRequest(kSecond);
    holder.Publish(Made(2, 10 * kSecond + 1));
  });
  // Within the bound of generation 1, but it is gone: a new one is built.
  std::shared_ptr<const Snapshot> got = holder.GetFresh(10 * kSecond + 2, kSecond, 30 * kSecond);
  engine.join();
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->generation, 2u);
}

TEST(SnapshotHolderTest, ASnapshotReleasedBeforeTheWaiterWakesIsAskedForAgain) {
  SnapshotHolder holder;
  holder.ServeRequests();
  std::thread engine([&] {
    // The first answer is gone when the waiter reads it, as if another
    // request had rendered and released it first (published as nothing,
    // so that the order is certain); the waiter asks again.
    while (!holder.Requested()) holder.WaitForRequest(kSecond);
    holder.Publish(nullptr);
    for (int i = 0; i < 3000 && !holder.Requested(); ++i) holder.WaitForRequest(kSecond / 100);
    holder.Publish(Made(2, 0));
  });
  std::shared_ptr<const Snapshot> got = holder.GetFresh(0, kSecond, 60 * kSecond);
  engine.join();
  ASSERT_NE(got, nullptr) << "a released answer is no reason to answer nothing";
  EXPECT_EQ(got->generation, 2u);
}

}  // namespace
}  // namespace tkmprom
