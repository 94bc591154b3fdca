#include "src/common/process_spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace tkmprom {
namespace {

// Frees the spawn attributes however SpawnChild leaves.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

pid_t SpawnChild(const std::string& path, const std::vector<std::string>& args,
                 const std::vector<int>& handed, std::string* error) {
  // Trailing -1s need no close action: everything from the first number
  // not handed on is closed below anyway.
  std::vector<int> fds = handed;
  while (!fds.empty() && fds.back() < 0) fds.pop_back();
  if (kFirstChildFd + static_cast<int>(fds.size()) > kChildFdEnd) {
    *error = "too many descriptors for a child";
    return -1;
  }
  // dup2 to a target number that is also a source would clobber it: move
  // every source above the targets first (the copies are close-on-exec and
  // closed again below, in the parent).
  std::vector<int> sources;
  for (int fd : fds) {
    sources.push_back(fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, kChildFdEnd));
    if (fd >= 0 && sources.back() < 0) {
      *error = std::string("cannot duplicate a descriptor for the child: ") + std::strerror(errno);
      for (int s : sources) {
        if (s >= 0) close(s);
      }
      return -1;
    }
  }
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDWR, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, 0, 1);
  posix_spawn_file_actions_adddup2(&setup.actions, 0, 2);
  for (size_t i = 0; i < sources.size(); ++i) {
    const int target = kFirstChildFd + static_cast<int>(i);
    if (sources[i] >= 0) {
      posix_spawn_file_actions_adddup2(&setup.actions, sources[i], target);
    } else {
      posix_spawn_file_actions_addclose(&setup.actions, target);
    }
  }
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, kFirstChildFd + sources.size());
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &all);
  // A process group of its own: a Ctrl-C meant for a broker run in a
  // terminal reaches the broker, which then stops its children in order.
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(path.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, path.c_str(), &setup.actions, &setup.attr, argv.data(), environ);
  for (int s : sources) {
    if (s >= 0) close(s);
  }
  if (rc != 0) {
    *error = "cannot start " + path + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

int StopAndReap(pid_t pid, int grace_ms) {
  int status = 0;
  if (pid <= 0) return status;
  kill(pid, SIGTERM);
  for (int waited = 0; waited < grace_ms; waited += 5) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return status;
    usleep(5000);
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* what = strsignal(sig);
    return "was killed by signal " + std::to_string(sig) + " (" + (what ? what : "?") + ")";
  }
  return "ended with wait status " + std::to_string(status);
}

}  // namespace tkmprom
