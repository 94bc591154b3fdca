// Starting the plugin's processes by fork-and-exec (posix_spawn), so that no
// process but the broker ever runs the broker's image: the broker starts the
// supervisor, the supervisor starts the companion, both as
// `tkmprom-companion`.
//
// The child gets exactly the descriptors it is handed, at fixed numbers from
// kFirstChildFd on (the rest is closed before exec, whatever the parent's
// close-on-exec flags say: mosquitto's client sockets must not leak), stdin,
// stdout and stderr on /dev/null, an empty signal mask and default signal
// dispositions (mosquitto blocks SIGTERM and friends outside epoll_pwait,
// and a spawned child would inherit that).
//
// Thread safety: plain functions; posix_spawn is safe from any thread.
#ifndef TKMPROM_COMMON_PROCESS_SPAWN_H_
#define TKMPROM_COMMON_PROCESS_SPAWN_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace tkmprom {

// The descriptor numbers a child of the plugin finds its inheritance at.
enum ChildFd : int {
  kFirstChildFd = 3,
  kOptionsFd = 3,  // the options memfd (option_blob.h)
  kRingFd = 4,     // the shared region's memfd (shared_region.h)
  kListenFd = 5,   // the bound, listening HTTP socket
  kLogFd = 6,      // the write end of the log pipe (log_pipe.h)
  kReadyFd = 7,    // the first companion only: where it says ready or why not
  kChildFdEnd = 8,
};

// Starts `path` with `args` (argv[1..]) and `fds[i]` at descriptor
// kFirstChildFd + i (-1: that number stays closed). Returns the pid, or -1
// and *error.
pid_t SpawnChild(const std::string& path, const std::vector<std::string>& args,
                 const std::vector<int>& fds, std::string* error);

// Sends SIGTERM to `pid`, waits up to `grace_ms` for it to exit, then
// SIGKILLs and reaps it. Returns the wait status.
int StopAndReap(pid_t pid, int grace_ms);

// "exited with status 3" / "was killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int status);

}  // namespace tkmprom

#endif  // TKMPROM_COMMON_PROCESS_SPAWN_H_
