// The companion process (`tkmprom-companion --serve`): checks the options,
// consumes the observation ring, runs the engine on the broker's clock,
// publishes snapshots and serves HTTP on the socket the broker bound. On
// SIGHUP it re-reads the htpasswd and TLS files, keeping the last good ones
// when the new ones fail the checks.
//
// Thread safety: RunCompanion runs on the companion's main thread, which is
// the engine thread; libmicrohttpd's threads only read published snapshots.
#ifndef TKMPROM_COMPANION_COMPANION_H_
#define TKMPROM_COMPANION_COMPANION_H_

#include "src/companion/child_process.h"

namespace tkmprom {

// Runs until SIGTERM/SIGINT, then returns the process's exit status
// (kExitBadConfig when the options or their files fail the checks).
int RunCompanion(const ChildArgs& args);

}  // namespace tkmprom

#endif  // TKMPROM_COMPANION_COMPANION_H_
