#include "src/companion/companion.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <exception>
#include <vector>

#include "src/common/option_blob.h"
#include "src/common/process_spawn.h"
#include "src/companion/companion_config.h"
#include "src/engine/engine.h"
#include "src/http/http_server.h"
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
constexpr int64_t kSnapshotIntervalNs = 1000 * 1000000;
constexpr int kMaxBatch = 4096;
// An empty ring is checked again after this long. Each wake-up costs the
// kernel a few microseconds, so waking per record at the fleet's 1,000/s
// would cost more than handling them; 10 ms of records (at the broker's peak
// rate a few hundred KiB) fit the ring many times over, and latencies come
// from the broker's timestamps, so the wait changes no measurement.
constexpr long kIdleSleepNs = 10 * 1000000;

void Log(LogLevel level, const std::string& text) { WriteLogLine(kLogFd, level, text); }

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

  auto publish = [&] {
    std::shared_ptr<const Snapshot> snapshot =
        engine.BuildSnapshot(ReadCounters(region.get(), args));
    holder.Publish(snapshot);
    if (http.scrape_schedule().ShouldPrepare(MonotonicNanos())) http.PrepareRenders(snapshot);
  };
  engine.Advance(MonotonicNanos() - kEmptyRingLagNs);
  publish();
  error = http.Start(kListenFd);
  if (!error.empty()) return Refuse(args, "tkmprom: companion cannot serve HTTP: " + error);
  for (const std::string& w : cc.warnings) Log(LogLevel::kWarning, w);
  Log(LogLevel::kNotice, ServingLine(config, cc.security));
  AnswerInit(args.ready, "");

  // Each record is copied out and released before the engine sees it: the
  // broker's process can write the ring at any time, and a record that
  // crashes the engine is not handed to its successor again. Peek() checked
  // that the record lies inside the ring and fits this buffer.
  std::vector<char> record(messages.MaxRecordSize());
  int64_t last_snapshot = MonotonicNanos();
  uint64_t resyncs_logged = 0;
  while (!g_stop.load(std::memory_order_relaxed)) {
    BumpSingleWriter(progress);
    int handled = 0;
    const char* data;
    uint32_t size;
    while (handled < kMaxBatch && messages.Peek(&data, &size)) {
      std::memcpy(record.data(), data, size);
      messages.Pop();
      ++handled;
      ObservationView view;
      if (!DecodeObservation(record.data(), size, &view)) continue;
      Observation obs;
      obs.kind = view.kind;
      obs.timestamp_ns = view.timestamp_ns;
      obs.client_id = view.client_id;
      obs.topic = view.topic;
      obs.payload = view.payload;
      obs.payload_size = view.payload_size;
      obs.payload_truncated = (view.flags & kPayloadTruncated) != 0;
      obs.bridged = (view.flags & kBridged) != 0;
      engine.Observe(obs);
    }
    if (messages.resyncs() != resyncs_logged) {
      resyncs_logged = messages.resyncs();
      Log(LogLevel::kError,
          "tkmprom: the observation ring was inconsistent (a wild write?); skipped what it held");
    }
    const int64_t now = MonotonicNanos();
    last_loop_ns.store(now, std::memory_order_relaxed);
    if (handled == 0) engine.Advance(now - kEmptyRingLagNs);
    if (now - last_snapshot >= kSnapshotIntervalNs) {
      publish();
      last_snapshot = now;
    }
    if (g_reload.exchange(false, std::memory_order_relaxed)) Reload(config, &http);
    if (handled == 0) {
      timespec ts{0, kIdleSleepNs};
      nanosleep(&ts, nullptr);
    }
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
  return Serve(args);
}

}  // namespace tkmprom
