// Mutex and MutexLock: std::mutex and std::lock_guard with clang's
// thread-safety annotations, so that members marked GUARDED_BY(mu_) are
// checked by -Wthread-safety (libstdc++'s std::mutex carries no annotations).
// Same cost as std::mutex; header-only.
//
// Thread safety: a Mutex is what makes other things thread-safe; MutexLock is
// used by one thread, within one scope.
#ifndef TKMPROM_SRC_COMMON_MUTEX_H_
#define TKMPROM_SRC_COMMON_MUTEX_H_

#include <mutex>

#include "src/common/thread_annotations.h"

namespace tkmprom {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds `*mu` from construction to the end of the scope.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_COMMON_MUTEX_H_
