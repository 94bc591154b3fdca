#include "src/companion/supervisor.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "src/common/process_spawn.h"
#include "src/companion/watchdog.h"
#include "src/ring/log_pipe.h"
#include "src/ring/shared_region.h"

namespace tkmprom {
namespace {

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_reload = 0;

void OnStop(int) { g_stop = 1; }
void OnReload(int) { g_reload = 1; }

constexpr int kPollMs = 100;
// A companion that ran this long had a one-off failure, not a crash loop.
constexpr int64_t kStableRunNs = int64_t{60} * 1000000000;

void SleepMillis(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);  // a signal ends it early: the loop looks again
}

void Log(LogLevel level, const std::string& text) { WriteLogLine(kLogFd, level, text); }

// Runs one companion until it ends (or the supervisor stops); returns how it
// ended.
RestartReason Supervise(pid_t pid, SharedRegion* region, Watchdog* watchdog, int* exit_status) {
  RingHeader* ring = region->message_ring_header();
  std::atomic<uint64_t>& progress = region->counters().engine_progress;
  watchdog->Reset(MonotonicNanos());
  bool killed_for_hang = false;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      *exit_status = status;
      if (killed_for_hang) return RestartReason::kHung;
      if (WIFEXITED(status) && WEXITSTATUS(status) == kExitBadConfig) return RestartReason::kExit;
      Log(LogLevel::kWarning,
          "tkmprom: companion (pid " + std::to_string(pid) + ") " + DescribeWaitStatus(status));
      return WIFSIGNALED(status) ? RestartReason::kSignal : RestartReason::kExit;
    }
    if (g_stop) {
      StopAndReap(pid, 3000);
      return RestartReason::kExit;
    }
    if (g_reload) {
      g_reload = 0;
      kill(pid, SIGHUP);
    }
    const bool waiting =
        ring->head.load(std::memory_order_acquire) != ring->tail.load(std::memory_order_acquire);
    const int64_t now = MonotonicNanos();
    if (!killed_for_hang &&
        watchdog->Check(now, progress.load(std::memory_order_relaxed), waiting)) {
      Log(LogLevel::kWarning, "tkmprom: companion (pid " + std::to_string(pid) +
                                  ") made no progress for " +
                                  std::to_string(watchdog->StalledNs(now) / 1000000000) +
                                  " s while observations waited; replacing it");
      kill(pid, SIGKILL);
      killed_for_hang = true;
    }
    SleepMillis(kPollMs);
  }
}

}  // namespace

int RestartBackoffMillis(int consecutive_failures) {
  const int shift = std::min(std::max(consecutive_failures - 1, 0), 5);
  return std::min(1000 << shift, 30000);
}

int RunSupervisor(const ChildArgs& args) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnStop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sa.sa_handler = OnReload;
  sigaction(SIGHUP, &sa, nullptr);

  std::string error;
  std::unique_ptr<SharedRegion> region = SharedRegion::Attach(kRingFd, args.ring_bytes, &error);
  if (!region) {
    Log(LogLevel::kError, "tkmprom: supervisor: " + error);
    return 1;
  }
  // The tkmprom-companion that exec'd tkmprom-supervisor, or that runs this
  // supervisor itself (src/companion/main.cc).
  const std::string& exe = args.companion_path;
  if (exe.empty()) {
    Log(LogLevel::kError, "tkmprom: supervisor: no companion executable to start");
    return 1;
  }
  ChildArgs child = args;
  child.role = ChildArgs::Role::kCompanion;
  child.parent = getpid();
  SharedCounters& counters = region->counters();
  Watchdog watchdog;
  int failures = 0;
  bool ready_fd_open = args.ready;
  while (!g_stop) {
    child.ready = ready_fd_open;
    const pid_t pid =
        SpawnChild(exe, ChildArgv(child),
                   {kOptionsFd, kRingFd, kListenFd, kLogFd, ready_fd_open ? kReadyFd : -1}, &error);
    if (ready_fd_open) {
      // Only the first companion answers the broker's init; once it has the
      // pipe, the broker sees its end (EOF) when that companion ends.
      close(kReadyFd);
      ready_fd_open = false;
    }
    if (pid < 0) {
      Log(LogLevel::kError, "tkmprom: " + error);
      SleepMillis(RestartBackoffMillis(++failures));
      continue;
    }
    const bool answers_init = child.ready;
    const int64_t started = MonotonicNanos();
    int status = 0;
    const RestartReason reason = Supervise(pid, region.get(), &watchdog, &status);
    if (g_stop) break;
    // The broker's init failed with the companion's line: nothing to keep up.
    if (answers_init && WIFEXITED(status) && WEXITSTATUS(status) == kExitBadConfig) return 1;
    if (MonotonicNanos() - started > kStableRunNs) failures = 0;
    // A hung companion was already given its 10 s; the others get a pause
    // that grows while they keep failing.
    const int backoff = reason == RestartReason::kHung ? 0 : RestartBackoffMillis(++failures);
    Log(LogLevel::kWarning, std::string("tkmprom: restarting the companion (reason ") +
                                RestartReasonName(reason) + ") in " + std::to_string(backoff) +
                                " ms");
    for (int waited = 0; waited < backoff && !g_stop; waited += kPollMs) SleepMillis(kPollMs);
    BumpSingleWriter(counters.companion_restarts[static_cast<int>(reason)]);
  }
  return 0;
}

}  // namespace tkmprom
