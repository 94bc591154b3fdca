// Why the companion was replaced: the `reason` label of
// tickrmeter_companion_restarts_total (plugin-contract.md §7.1).
//
// Thread safety: constants and a pure function.
#ifndef TKMPROM_COMMON_RESTART_REASON_H_
#define TKMPROM_COMMON_RESTART_REASON_H_

#include <cstdint>

namespace tkmprom {

enum class RestartReason : uint8_t {
  kExit = 0,    // it exited
  kSignal = 1,  // it was killed
  kHung = 2,    // the watchdog replaced it: no progress while records waited
};
inline constexpr int kRestartReasonCount = 3;

inline const char* RestartReasonName(RestartReason reason) {
  switch (reason) {
    case RestartReason::kExit:
      return "exit";
    case RestartReason::kSignal:
      return "signal";
    case RestartReason::kHung:
      return "hung";
  }
  return "exit";
}

}  // namespace tkmprom

#endif  // TKMPROM_COMMON_RESTART_REASON_H_
