// The supervisor: a tiny process the plugin forks at init, while the broker
// is still small, that forks the companion and restarts it with backoff when
// it dies. Restarting from here spares the busy broker a fork of its large
// address space and needs no broker tick.
//
// Thread safety: StartSupervisor runs on the broker's thread; everything else
// runs in the single-threaded supervisor process.
#ifndef TKMPROM_COMPANION_SUPERVISOR_H_
#define TKMPROM_COMPANION_SUPERVISOR_H_

#include <sys/types.h>

#include <string>

#include "src/companion/process.h"

namespace tkmprom {

// Forks the supervisor; returns its pid, or -1 and *error.
pid_t StartSupervisor(const ForkContext& context, std::string* error);

// Backoff before the n-th consecutive restart (n >= 1): 1 s, 2 s, 4 s, ... 30 s.
int RestartBackoffMillis(int consecutive_failures);

}  // namespace tkmprom

#endif  // TKMPROM_COMPANION_SUPERVISOR_H_
