// What every process of tkmprom-companion (the supervisor and the companion)
// starts with: its command line, and its first acts after exec.
//
// Both are started by posix_spawn (src/common/process_spawn.h): the broker starts
// the supervisor, the supervisor starts the companion. They inherit their
// descriptors at fixed numbers (ChildFd) and their parameters here.
//
// Thread safety: called on the process's main thread before any other
// thread exists.
#ifndef TKMPROM_COMPANION_CHILD_PROCESS_H_
#define TKMPROM_COMPANION_CHILD_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "src/common/monotonic_clock.h"

namespace tkmprom {

// The companion's exit status when its options or the files they name fail
// the checks (it said why on the ready pipe or the log).
inline constexpr int kExitBadConfig = 78;

struct ChildArgs {
  enum class Role { kSupervisor, kCompanion };
  Role role = Role::kCompanion;
  pid_t parent = 0;         // dies with it
  uint64_t ring_bytes = 0;  // the message ring's capacity (from the broker)
  std::string mosquitto_version;
  bool ready = false;  // kReadyFd is open: say "ready" or why not
  // The supervisor only: the tkmprom-companion to start (an absolute path),
  // which RunSupervisor() requires. Never passed on (ChildArgv).
  std::string companion_path;
};

// Parses `--supervise|--serve --parent=PID --ring-bytes=N
// [--mosquitto-version=V] [--ready] [--companion=/ABSOLUTE/PATH]`; false and
// *error if it cannot.
bool ParseChildArgs(int argc, char** argv, ChildArgs* out, std::string* error);

// This process's executable (/proc/self/exe), or "" if it cannot be read.
std::string OwnExecutable();

// The command line that starts a process with `args` (for the supervisor to
// start the companion): everything but companion_path.
std::vector<std::string> ChildArgv(const ChildArgs& args);

// The first acts: die with the parent (PR_SET_PDEATHSIG, then check it is
// still there: exits through _exit if not), close every descriptor above the
// inherited ones, ignore SIGPIPE, and take `name` (as `ps -o comm` shows it).
void PrepareChild(pid_t parent, const char* name);

}  // namespace tkmprom

#endif  // TKMPROM_COMPANION_CHILD_PROCESS_H_
