// SnapshotHolder: the hand-off point between the engine thread, which builds
// immutable snapshots, and the HTTP threads, which render them.
//
// Thread safety: Publish() is called by the engine thread (any single writer
// is fine; concurrent writers are safe too, last one wins). Get() may be called
// from any thread at any time. The internal lock is held only for the copy of
// a shared_ptr, never while rendering: a reader pins the snapshot it got and
// works on it unlocked, and a snapshot lives until its last reader lets go.
// Checked by clang's -Wthread-safety (src/common/thread_annotations.h).
#ifndef TKMPROM_SRC_HTTP_SNAPSHOT_HOLDER_H_
#define TKMPROM_SRC_HTTP_SNAPSHOT_HOLDER_H_

#include <memory>

#include "src/common/mutex.h"
#include "src/common/thread_annotations.h"
#include "tkmprom/snapshot.h"

namespace tkmprom {

class SnapshotHolder {
 public:
  SnapshotHolder() = default;
  SnapshotHolder(const SnapshotHolder&) = delete;
  SnapshotHolder& operator=(const SnapshotHolder&) = delete;

  // Makes `snapshot` the one every later Get() returns. The previous snapshot
  // is released outside the lock (destroying a large snapshot is not free).
  void Publish(std::shared_ptr<const Snapshot> snapshot) EXCLUDES(mu_);

  // The latest published snapshot, or nullptr before the first Publish().
  std::shared_ptr<const Snapshot> Get() const EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::shared_ptr<const Snapshot> current_ GUARDED_BY(mu_);
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_SNAPSHOT_HOLDER_H_
