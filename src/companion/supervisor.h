// The supervisor: `tkmprom-companion --supervise`, a small process the
// broker starts at init (and again if it dies) that starts the companion
// (`--serve`), replaces it when it exits, is killed or hangs, counts each
// replacement by reason in shared memory, and passes SIGHUP on. The broker
// thereby needs neither a fork of its own large image nor its tick to keep
// the companion running.
//
// Thread safety: single-threaded process.
#ifndef TKMPROM_COMPANION_SUPERVISOR_H_
#define TKMPROM_COMPANION_SUPERVISOR_H_

#include "src/companion/child_process.h"

namespace tkmprom {

// Runs until SIGTERM/SIGINT (or the broker's death); returns the exit status.
// Starts the companion from args.companion_path (required).
int RunSupervisor(const ChildArgs& args);

// Pause before the n-th consecutive restart (n >= 1): 1 s, 2 s, 4 s, ... 30 s.
int RestartBackoffMillis(int consecutive_failures);

}  // namespace tkmprom

#endif  // TKMPROM_COMPANION_SUPERVISOR_H_
