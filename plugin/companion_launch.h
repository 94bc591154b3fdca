// Starting the plugin's processes from the broker: where tkmprom-companion
// is, the supervisor's start by posix_spawn (process_spawn.h) with the descriptors
// it inherits, and the first companion's "ready" at init.
//
// Thread safety: every function runs on the broker's thread.
#ifndef TKMPROM_PLUGIN_COMPANION_LAUNCH_H_
#define TKMPROM_PLUGIN_COMPANION_LAUNCH_H_

#include <sys/types.h>

#include <string>

#include "tkmprom/config.h"

namespace tkmprom {

// What every supervisor the broker starts inherits (process_spawn.h: ChildFd).
struct LaunchResources {
  std::string companion_path;
  int options_fd = -1;
  int ring_fd = -1;
  uint64_t ring_bytes = 0;
  int listen_fd = -1;
  int log_fd = -1;  // the log pipe's write end
  std::string mosquitto_version;
};

// The companion executable for `config`: plugin_opt_companion_path, else
// tkmprom-companion beside the loaded tkmprom.so, else the packaged one.
// Returns "" and sets *path, or one log line saying what was looked for.
std::string FindCompanion(const Config& config, std::string* path);

// Starts `tkmprom-companion --supervise`; `ready_fd` (or -1) is handed on to
// its first companion. Returns the pid, or -1 and *error.
pid_t StartSupervisor(const LaunchResources& resources, int ready_fd, std::string* error);

// Waits up to `timeout_ms` for the first companion's answer on the read end
// of the ready pipe. Returns "" when it is ready, else the line to log (its
// own error line, or why there is none).
std::string AwaitReady(int ready_read_fd, int timeout_ms);

}  // namespace tkmprom

#endif  // TKMPROM_PLUGIN_COMPANION_LAUNCH_H_
