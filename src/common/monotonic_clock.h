// The clock the hook stamps observations with and the companion runs its
// engine on: CLOCK_MONOTONIC, the same in every process of the machine.
//
// Thread safety: any thread.
#ifndef TKMPROM_COMMON_MONOTONIC_CLOCK_H_
#define TKMPROM_COMMON_MONOTONIC_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace tkmprom {

inline int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

}  // namespace tkmprom

#endif  // TKMPROM_COMMON_MONOTONIC_CLOCK_H_
