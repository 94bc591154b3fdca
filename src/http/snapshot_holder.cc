#include "src/http/snapshot_holder.h"

#include <chrono>
#include <utility>

namespace tkmprom {

void SnapshotHolder::Publish(std::shared_ptr<const Snapshot> snapshot) {
  {
    MutexLock lock(&mu_);
    current_.swap(snapshot);
  }
  {
    std::lock_guard<std::mutex> lock(wait_mu_);
    ++publishes_;
    requested_.store(false, std::memory_order_release);
  }
  requester_cv_.notify_all();
  // `snapshot` now holds the previous one; it is released here, unlocked.
}

void SnapshotHolder::Release(const std::shared_ptr<const Snapshot>& rendered) {
  // Without an engine serving requests nobody would build a new one.
  if (!serving_.load(std::memory_order_acquire)) return;
  std::shared_ptr<const Snapshot> released;
  {
    MutexLock lock(&mu_);
    if (rendered == nullptr || current_ != rendered) return;
    current_.swap(released);
  }
  // `released` lets go here, unlocked; the caller still holds the snapshot.
}

std::shared_ptr<const Snapshot> SnapshotHolder::Get() const {
  MutexLock lock(&mu_);
  return current_;
}

std::shared_ptr<const Snapshot> SnapshotHolder::GetFresh(int64_t now_ns, int64_t max_age_ns,
                                                         int64_t wait_ns) {
  std::shared_ptr<const Snapshot> current = Get();
  if (!serving_.load(std::memory_order_acquire)) return current;
  if (current != nullptr && current->published_ns >= now_ns - max_age_ns) return current;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(wait_ns);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(wait_mu_);
      const uint64_t seen = publishes_;
      requested_.store(true, std::memory_order_release);
      engine_cv_.notify_one();
      if (!requester_cv_.wait_until(lock, deadline, [&] { return publishes_ != seen; })) break;
    }
    // The new snapshot, unless another request rendered and released it
    // since: then ask again, within the same wait.
    current = Get();
    if (current != nullptr) return current;
  }
  return Get();
}

void SnapshotHolder::WaitForRequest(int64_t timeout_ns) {
  std::unique_lock<std::mutex> lock(wait_mu_);
  engine_cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns),
                      [&] { return requested_.load(std::memory_order_relaxed); });
}

}  // namespace tkmprom
