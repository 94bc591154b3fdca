#include "src/companion/companion.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "src/common/option_blob.h"
#include "src/common/process_spawn.h"
#include "src/companion/companion_config.h"
#include "src/companion/observation_record.h"
#include "src/engine/engine.h"
#include "src/http/http_server.h"
#include "src/http/scrape_schedule.h"
#include "src/http/snapshot_holder.h"
#include "src/ring/log_pipe.h"
#include "src/ring/shared_region.h"
#include "tkmprom_version.h"

namespace tkmprom {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void OnStop(int) { g_stop.store(true, std::memory_order_relaxed); }
void OnReload(int) { g_reload.store(true, std::memory_order_relaxed); }

// Records still being written carry timestamps at most this much older than
// "now"; when the ring is empty the engine's clock trails the real clock by
// this lag, so no in-flight answer is mistaken for a timeout.
constexpr int64_t kEmptyRingLagNs = 20 * 1000000;
constexpr int kMaxBatch = 4096;
// A request for a snapshot waits until the ring is drained, or this many
// full batches, whichever comes first.
constexpr int kMaxBatchesBeforeSnapshot = 16;
// An empty ring is checked again after this long (or at once when a
// request asks for a snapshot). Each wake-up costs the
// kernel a few microseconds, so waking per record at the fleet's 1,000/s
// would cost more than handling them; 10 ms of records (at the broker's peak
// rate a few hundred KiB) fit the ring many times over, and latencies come
// from the broker's timestamps, so the wait changes no measurement.
constexpr long kIdleSleepNs = 10 * 1000000;

void Log(LogLevel level, const std::string& text) { WriteLogLine(kLogFd, level, text); }

// The allocator, for a long-lived process with a few threads and a few
// large, short-lived buffers (renders, snapshots): one arena instead of one
// per thread that ever allocated, and blocks from 256 KiB up mapped on their
// own so that freeing a replaced render or snapshot returns its memory at
// once (glibc otherwise raises that threshold to the largest freed block).
void TuneAllocator() {
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
}

// Renders the snapshots handed to it on a thread of its own, so that the
// engine thread goes on draining the ring meanwhile. A snapshot handed over
// while another waits replaces it.
class RenderThread {
 public:
  explicit RenderThread(HttpServer* http) : http_(http), thread_([this] { Run(); }) {}
  ~RenderThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  RenderThread(const RenderThread&) = delete;
  RenderThread& operator=(const RenderThread&) = delete;

  void Submit(std::shared_ptr<const Snapshot> snapshot) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_ = std::move(snapshot);
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    // Rendering ahead is background work: requests being served and the
    // engine thread draining the ring come first (Linux applies a nice
    // value to the calling thread only).
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kRenderNice);
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || pending_ != nullptr; });
      if (stop_) return;
      std::shared_ptr<const Snapshot> snapshot = std::move(pending_);
      pending_.reset();
      lock.unlock();
      http_->PrepareRenders(snapshot);
      snapshot.reset();
      lock.lock();
    }
  }

  static constexpr int kRenderNice = 10;

  HttpServer* const http_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const Snapshot> pending_;  // under mu_
  bool stop_ = false;                        // under mu_
  std::thread thread_;
};

// The kernel ends this process, not the broker, when memory runs out.
void PreferToBeKilledFirst() {
  const int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (write(fd, "1000", 4) != 4) Log(LogLevel::kWarning, "tkmprom: cannot set oom_score_adj");
  close(fd);
}

// Tells the broker's init whether this companion serves ("ready") or why
// not, then closes the pipe.
void AnswerInit(bool has_pipe, const std::string& error) {
  if (!has_pipe) return;
  const std::string line = error.empty() ? "ready\n" : "error " + error + "\n";
  ssize_t n;
  do {
    n = write(kReadyFd, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  close(kReadyFd);
}

// A check failed before serving: say so where the broker will read it.
int Refuse(const ChildArgs& args, const std::string& error) {
  if (args.ready) {
    AnswerInit(true, error);
  } else {
    Log(LogLevel::kError, error);
  }
  return kExitBadConfig;
}

PluginCounters ReadCounters(SharedRegion* region, const ChildArgs& args) {
  PluginCounters p;
  SharedCounters& c = region->counters();
  for (int i = 0; i < kMessageKindCount; ++i) {
    p.received[i] = c.received[i].load(std::memory_order_relaxed);
    p.bridged[i] = c.bridged[i].load(std::memory_order_relaxed);
  }
  p.observations_dropped = c.dropped.load(std::memory_order_relaxed);
  for (int r = 0; r < kRestartReasonCount; ++r) {
    p.companion_restarts[r] = c.companion_restarts[r].load(std::memory_order_relaxed) +
                              c.supervisor_restarts[r].load(std::memory_order_relaxed);
  }
  p.version = TKMPROM_VERSION;
  p.mosquitto_version = args.mosquitto_version;
  return p;
}

// SIGHUP: the htpasswd and TLS files again. A file that fails the checks
// keeps the previous credentials, with one line saying why.
void Reload(const Config& config, HttpServer* http) {
  HttpSecurity security;
  const std::string error = LoadHttpSecurity(config, &security);
  if (!error.empty()) {
    Log(LogLevel::kError, error + "; keeping the previous credentials");
    return;
  }
  const std::string problem = http->Reload(security);
  if (!problem.empty()) {
    Log(LogLevel::kError, "tkmprom: reload: " + problem + "; keeping the previous credentials");
    return;
  }
  Log(LogLevel::kNotice, "tkmprom: reloaded the HTTP credentials");
}

std::string ServingLine(const Config& config, const HttpSecurity& security) {
  return std::string("tkmprom ") + TKMPROM_VERSION + ": serving metrics on " +
         (security.TlsEnabled() ? "https" : "http") + "://" + (config.http_ipv6 ? "[" : "") +
         config.http_host + (config.http_ipv6 ? "]" : "") + ":" + std::to_string(config.http_port) +
         "/metrics" + (security.AuthEnabled() ? " (basic auth)" : "");
}

int Serve(const ChildArgs& args) {
  std::string blob;
  std::string error;
  OptionList options;
  if (!ReadOptionsFd(kOptionsFd, &blob, &error) || !DecodeOptions(blob, &options)) {
    return Refuse(args, "tkmprom: the companion cannot read its options: " +
                            (error.empty() ? std::string("malformed") : error));
  }
  CompanionConfig cc;
  error = LoadCompanionConfig(options, &cc);
  if (!error.empty()) return Refuse(args, error);
  std::unique_ptr<SharedRegion> region = SharedRegion::Attach(kRingFd, args.ring_bytes, &error);
  if (!region) return Refuse(args, "tkmprom: companion: " + error);
  const Config& config = cc.config;

  SpscRing messages = region->MessageRing();
  std::atomic<uint64_t>& progress = region->counters().engine_progress;
  Engine engine(config);
  SnapshotHolder holder;
  HttpServer http(config, &holder, cc.security);
  std::atomic<int64_t> last_loop_ns{MonotonicNanos()};
  http.set_liveness(&last_loop_ns);

  const int64_t max_age_ns = Config::ToNanos(config.snapshot_max_age_s);
  RenderAhead render_ahead(max_age_ns);
  int64_t last_published_ns = INT64_MIN;
  // Snapshots are taken when a request asks for one (the holder) or ahead
  // of an expected scrape (render_ahead), never on a timer for nobody.
  auto take_snapshot = [&] {
    PluginCounters counters = ReadCounters(region.get(), args);
    counters.published_ns = MonotonicNanos();
    std::shared_ptr<const Snapshot> snapshot = engine.BuildSnapshot(counters);
    holder.Publish(snapshot);  // frees the previous snapshot
    last_published_ns = counters.published_ns;
    return snapshot;
  };
  engine.Advance(MonotonicNanos() - kEmptyRingLagNs);
  // One snapshot before serving, so that no request finds none: one that
  // arrives before the engine loop runs is answered from it.
  take_snapshot();
  error = http.Start(kListenFd);
  if (!error.empty()) return Refuse(args, "tkmprom: companion cannot serve HTTP: " + error);
  RenderThread renders(&http);
  holder.ServeRequests();
  for (const std::string& w : cc.warnings) Log(LogLevel::kWarning, w);
  Log(LogLevel::kNotice, ServingLine(config, cc.security));
  AnswerInit(args.ready, "");

  // Each record is copied out and released before the engine sees it: the
  // broker's process can write the ring at any time, and a record that
  // crashes the engine is not handed to its successor again. Peek() checked
  // that the record lies inside the ring; one longer than any the hook
  // writes is skipped (DecodeObservation would refuse it anyway).
  std::vector<char> record(std::min<size_t>(messages.MaxRecordSize(), kMaxObservationRecordBytes));
  uint64_t resyncs_logged = 0;
  int batches_while_requested = 0;
  while (!g_stop.load(std::memory_order_relaxed)) {
    BumpSingleWriter(progress);
    int handled = 0;
    const char* data;
    uint32_t size;
    while (handled < kMaxBatch && messages.Peek(&data, &size)) {
      ++handled;
      if (size > record.size()) {
        messages.Pop();
        continue;
      }
      std::memcpy(record.data(), data, size);
      messages.Pop();
      ObservationView view;
      if (DecodeObservation(record.data(), size, &view)) engine.Observe(ToObservation(view));
    }
    if (messages.resyncs() != resyncs_logged) {
      resyncs_logged = messages.resyncs();
      Log(LogLevel::kError,
          "tkmprom: the observation ring was inconsistent (a wild write?); skipped what it held");
    }
    const int64_t now = MonotonicNanos();
    last_loop_ns.store(now, std::memory_order_relaxed);
    if (handled == 0) engine.Advance(now - kEmptyRingLagNs);
    if (holder.Requested()) {
      // A request waits: answer it once the ring is drained, so that the
      // snapshot holds every publish made before the request.
      if (handled < kMaxBatch || ++batches_while_requested >= kMaxBatchesBeforeSnapshot) {
        take_snapshot();
        batches_while_requested = 0;
      }
    } else if (render_ahead.ShouldBuild(now, http.scrape_schedule().NextExpectedNs(now),
                                        last_published_ns)) {
      renders.Submit(take_snapshot());
    }
    if (g_reload.exchange(false, std::memory_order_relaxed)) Reload(config, &http);
    if (handled == 0) holder.WaitForRequest(kIdleSleepNs);
  }
  http.Stop();
  return 0;
}

}  // namespace

int RunCompanion(const ChildArgs& args) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnStop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sa.sa_handler = OnReload;
  sigaction(SIGHUP, &sa, nullptr);
  PreferToBeKilledFirst();
  TuneAllocator();
  return Serve(args);
}

}  // namespace tkmprom
