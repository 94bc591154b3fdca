// SnapshotHolder: the hand-off point between the engine thread, which builds
// immutable snapshots, and the HTTP threads, which render them.
//
// Thread safety: Publish() is called by the engine thread (any single writer
// is fine; concurrent writers are safe too, last one wins). Get() may be called
// from any thread at any time. The internal lock is held only for the copy of
// a shared_ptr, never while rendering: a reader pins the snapshot it got and
// works on it unlocked, and a snapshot lives until its last reader lets go.
#ifndef TKMPROM_SRC_HTTP_SNAPSHOT_HOLDER_H_
#define TKMPROM_SRC_HTTP_SNAPSHOT_HOLDER_H_

#include <memory>
#include <mutex>

#include "tkmprom/snapshot.h"

namespace tkmprom {

class SnapshotHolder {
 public:
  SnapshotHolder() = default;
  SnapshotHolder(const SnapshotHolder&) = delete;
  SnapshotHolder& operator=(const SnapshotHolder&) = delete;

  // Makes `snapshot` the one every later Get() returns. The previous snapshot
  // is released outside the lock (destroying a large snapshot is not free).
  void Publish(std::shared_ptr<const Snapshot> snapshot);

  // The latest published snapshot, or nullptr before the first Publish().
  std::shared_ptr<const Snapshot> Get() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;  // guarded by mu_
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_SNAPSHOT_HOLDER_H_
