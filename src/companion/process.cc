#include "src/companion/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tkmprom {

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

namespace {

void CloseInheritedDescriptors(int keep_fd) {
  // close_range() would be faster, but must leave a hole for keep_fd; the
  // listing of /proc/self/fd handles any number of descriptors.
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    const long max = sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < (max > 0 ? max : 65536); ++fd) {
      if (fd != keep_fd) close(fd);
    }
    return;
  }
  const int dir_fd = dirfd(dir);
  int fds[1024];
  for (;;) {
    // Collect first, close after: closing while iterating confuses readdir.
    int n = 0;
    rewinddir(dir);
    while (dirent* e = readdir(dir)) {
      const int fd = std::atoi(e->d_name);
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      if (fd < 3 || fd == keep_fd || fd == dir_fd) continue;
      fds[n++] = fd;
      if (n == 1024) break;
    }
    if (n == 0) break;
    for (int i = 0; i < n; ++i) close(fds[i]);
  }
  closedir(dir);
}

}  // namespace

void PrepareChild(pid_t parent, int keep_fd, const char* name) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(0);

  // mosquitto blocks its signals outside epoll_pwait; a child would inherit
  // that mask and ignore SIGTERM.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
  signal(SIGPIPE, SIG_IGN);

  CloseInheritedDescriptors(keep_fd);
  const int null_fd = open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    if (null_fd > 2 && null_fd != keep_fd) close(null_fd);
  }
  prctl(PR_SET_NAME, name);
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
