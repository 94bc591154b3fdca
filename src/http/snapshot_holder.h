// SnapshotHolder: the hand-off point between the engine thread, which builds
// immutable snapshots, and the HTTP threads, which render them.
//
// Snapshots are built on demand: a request that finds the current snapshot
// older than its freshness bound (GetFresh) asks the engine thread for a new
// one and waits for it; the engine thread polls Requested() between batches
// and sleeps in WaitForRequest() when the ring is empty, so a request wakes
// it at once.
//
// Once a snapshot's /metrics bodies are rendered, the server has the holder
// let go of it (Release()): the bodies answer scrapes within the freshness
// bound, and a request that needs the snapshot itself (the JSON API, the
// status page, a format not rendered yet) asks for a new one, as it would
// once the bound passed. At rest the companion then holds the rendered
// bodies but no snapshot (2.9 MiB at 8,000 devices × 2,000 symbols).
//
// Thread safety: Publish(), ServeRequests(), Requested() and
// WaitForRequest() are called by the engine thread (any single writer is
// fine; concurrent writers are safe too, last one wins). Get() and
// GetFresh() may be called from any thread at any time. The snapshot lock is
// held only for the copy of a shared_ptr, never while rendering: a reader
// pins the snapshot it got and works on it unlocked, and a snapshot lives
// until its last reader lets go. Checked by clang's -Wthread-safety
// (src/common/thread_annotations.h) where it can follow the locks.
#ifndef TKMPROM_SRC_HTTP_SNAPSHOT_HOLDER_H_
#define TKMPROM_SRC_HTTP_SNAPSHOT_HOLDER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>

#include "src/common/mutex.h"
#include "src/common/thread_annotations.h"
#include "tkmprom/snapshot.h"

namespace tkmprom {

class SnapshotHolder {
 public:
  SnapshotHolder() = default;
  SnapshotHolder(const SnapshotHolder&) = delete;
  SnapshotHolder& operator=(const SnapshotHolder&) = delete;

  // Makes `snapshot` the one every later Get() returns, answers the pending
  // request (if any) and wakes its waiters. The previous snapshot is
  // released outside the lock (destroying a large snapshot is not free).
  void Publish(std::shared_ptr<const Snapshot> snapshot) EXCLUDES(mu_);

  // Forgets the current snapshot if it is `rendered` (later ones stay) and an
  // engine serves requests (ServeRequests()); its readers, the caller among
  // them, keep it alive until they let go.
  void Release(const std::shared_ptr<const Snapshot>& rendered) EXCLUDES(mu_);

  // The latest published snapshot unless released, or nullptr (also before
  // the first Publish()).
  std::shared_ptr<const Snapshot> Get() const EXCLUDES(mu_);

  // The latest snapshot if it was published (Snapshot::published_ns) at
  // most `max_age_ns` before `now_ns` and not released, or if no engine
  // serves requests.
  // Otherwise asks the engine thread for a new one and waits up to
  // `wait_ns` for it; then returns the latest held (possibly still old, or
  // null if none is held).
  std::shared_ptr<const Snapshot> GetFresh(int64_t now_ns, int64_t max_age_ns, int64_t wait_ns)
      EXCLUDES(mu_);

  // The engine thread answers requests from now on.
  void ServeRequests() { serving_.store(true, std::memory_order_release); }
  // Whether a request waits for a new snapshot.
  bool Requested() const { return requested_.load(std::memory_order_acquire); }
  // Sleeps up to `timeout_ns`, or until a request arrives.
  void WaitForRequest(int64_t timeout_ns);

 private:
  mutable Mutex mu_;
  std::shared_ptr<const Snapshot> current_ GUARDED_BY(mu_);

  std::atomic<bool> serving_{false};
  std::atomic<bool> requested_{false};
  // wait_mu_ orders requests, publishes and the two condition variables.
  std::mutex wait_mu_;
  std::condition_variable engine_cv_;     // a request arrived
  std::condition_variable requester_cv_;  // a snapshot was published
  uint64_t publishes_ = 0;                // under wait_mu_
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_SNAPSHOT_HOLDER_H_
