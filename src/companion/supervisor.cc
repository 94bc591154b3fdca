#include "src/companion/supervisor.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "src/companion/companion.h"

namespace tkmprom {
namespace {

volatile sig_atomic_t g_stop = 0;
volatile pid_t g_child = 0;

void OnStop(int) {
  g_stop = 1;
  const pid_t child = g_child;
  if (child > 0) kill(child, SIGTERM);
}

// Sleeps unless a stop signal arrives.
void SleepMillis(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (!g_stop && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

[[noreturn]] void SupervisorMain(const ForkContext& context) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnStop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  SpscRing log(context.region->supervisor_log_header(), context.region->supervisor_log_data());
  SharedCounters& counters = context.region->counters();
  int failures = 0;
  bool first = true;
  while (!g_stop) {
    const pid_t self = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
      PrepareChild(self, context.listen_fd, "tkmprom");
      _exit(RunCompanion(context));
    }
    if (pid < 0) {
      WriteLog(&log, LogLevel::kError,
               std::string("tkmprom: cannot fork the companion: ") + std::strerror(errno));
      SleepMillis(RestartBackoffMillis(++failures));
      continue;
    }
    if (!first) BumpSingleWriter(counters.companion_restarts);
    first = false;
    g_child = pid;
    const int64_t started = MonotonicNanos();
    int status = 0;
    pid_t r;
    while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR && !g_stop) {
    }
    if (r != pid) {
      // Stopping: the handler forwarded SIGTERM; make sure the child is gone.
      status = StopAndReap(pid, 2000);
    }
    g_child = 0;
    if (g_stop) break;
    // A companion that ran a while had a one-off failure, not a crash loop.
    if (MonotonicNanos() - started > int64_t{60} * 1000000000) failures = 0;
    const int backoff = RestartBackoffMillis(++failures);
    WriteLog(&log, LogLevel::kWarning,
             "tkmprom: companion (pid " + std::to_string(pid) + ") " + DescribeWaitStatus(status) +
                 "; restarting it in " + std::to_string(backoff) + " ms");
    SleepMillis(backoff);
  }
  _exit(0);
}

}  // namespace

int RestartBackoffMillis(int consecutive_failures) {
  const int shift = std::min(std::max(consecutive_failures - 1, 0), 5);
  return std::min(1000 << shift, 30000);
}

pid_t StartSupervisor(const ForkContext& context, std::string* error) {
  const pid_t broker = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork failed: ") + std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    PrepareChild(broker, context.listen_fd, "tkmprom-sup");
    SupervisorMain(context);
  }
  return pid;
}

}  // namespace tkmprom
