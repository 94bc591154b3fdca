// What the processes the plugin forks share: the context handed across fork()
// and the first acts of every child.
//
// Thread safety: called in a freshly forked, single-threaded child.
#ifndef TKMPROM_COMPANION_PROCESS_H_
#define TKMPROM_COMPANION_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "src/http/http_security.h"
#include "src/ring/shared_region.h"
#include "tkmprom/config.h"

namespace tkmprom {

// Everything a forked process needs; it lives in the broker's memory and is
// inherited by fork(), so nothing is serialised.
struct ForkContext {
  const Config* config = nullptr;
  // The users and TLS key pair read at init (http_security.h); null: none.
  const HttpSecurity* http_security = nullptr;
  SharedRegion* region = nullptr;
  int listen_fd = -1;
  std::string version;
  std::string mosquitto_version;
};

// The monotonic clock the hook stamps observations with.
int64_t MonotonicNanos();

// The first acts of a forked child: die with `parent` (PR_SET_PDEATHSIG, then
// check the parent is still there), close every descriptor from 3 up but
// `keep_fd`, point 0/1/2 at /dev/null, reset the signal mask and handlers, and
// take the name `name` (as `ps -o comm` shows it). Exits through _exit() if
// the parent is already gone.
void PrepareChild(pid_t parent, int keep_fd, const char* name);

// Sends SIGTERM to `pid`, waits up to `grace_ms` for it to exit, then
// SIGKILLs and reaps it. Returns the wait status.
int StopAndReap(pid_t pid, int grace_ms);

// "exited with status 3" / "was killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int status);

}  // namespace tkmprom

#endif  // TKMPROM_COMPANION_PROCESS_H_
