#include "src/http/snapshot_holder.h"

#include <utility>

namespace tkmprom {

void SnapshotHolder::Publish(std::shared_ptr<const Snapshot> snapshot) {
  {
    MutexLock lock(&mu_);
    current_.swap(snapshot);
  }
  // `snapshot` now holds the previous one; it is released here, unlocked.
}

std::shared_ptr<const Snapshot> SnapshotHolder::Get() const {
  MutexLock lock(&mu_);
  return current_;
}

}  // namespace tkmprom
