// The companion process: consumes the observation ring, runs the engine on
// the broker's clock, publishes snapshots and serves HTTP.
//
// Thread safety: RunCompanion runs on the companion's main thread, which is
// the engine thread; libmicrohttpd's threads only read published snapshots.
#ifndef TKMPROM_COMPANION_COMPANION_H_
#define TKMPROM_COMPANION_COMPANION_H_

#include "src/companion/process.h"

namespace tkmprom {

// Runs until SIGTERM/SIGINT, then returns the process's exit status.
int RunCompanion(const ForkContext& context);

}  // namespace tkmprom

#endif  // TKMPROM_COMPANION_COMPANION_H_
