#include "src/companion/companion.h"

#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstring>
#include <exception>
#include <vector>

#include "src/engine/engine.h"
#include "src/http/http_server.h"
#include "src/http/snapshot_holder.h"

namespace tkmprom {
namespace {

std::atomic<bool> g_stop{false};

void OnStop(int) { g_stop.store(true, std::memory_order_relaxed); }

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

PluginCounters ReadCounters(const ForkContext& context) {
  PluginCounters p;
  SharedCounters& c = context.region->counters();
  for (int i = 0; i < kMessageKindCount; ++i) {
    p.received[i] = c.received[i].load(std::memory_order_relaxed);
    p.bridged[i] = c.bridged[i].load(std::memory_order_relaxed);
  }
  p.observations_dropped = c.dropped.load(std::memory_order_relaxed);
  p.companion_restarts = c.companion_restarts.load(std::memory_order_relaxed);
  p.version = context.version;
  p.mosquitto_version = context.mosquitto_version;
  return p;
}

int Serve(const ForkContext& context, SpscRing* log) {
  SpscRing messages(context.region->message_ring_header(), context.region->message_ring_data());
  Engine engine(*context.config);
  SnapshotHolder holder;
  HttpServer http(*context.config, &holder,
                  context.http_security != nullptr ? *context.http_security : HttpSecurity());

  auto publish = [&] {
    std::shared_ptr<const Snapshot> snapshot = engine.BuildSnapshot(ReadCounters(context));
    holder.Publish(snapshot);
    if (http.scrape_schedule().ShouldPrepare(MonotonicNanos())) http.PrepareRenders(snapshot);
  };
  engine.Advance(MonotonicNanos() - kEmptyRingLagNs);
  publish();
  const std::string error = http.Start(context.listen_fd);
  if (!error.empty()) {
    WriteLog(log, LogLevel::kError, "tkmprom: companion cannot serve HTTP: " + error);
    return 1;
  }

  // Each record is copied out and released before the engine sees it, so a
  // record that crashes the engine is not handed to its successor again.
  std::vector<char> record(messages.MaxRecordSize());
  int64_t last_snapshot = MonotonicNanos();
  while (!g_stop.load(std::memory_order_relaxed)) {
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
    const int64_t now = MonotonicNanos();
    if (handled == 0) engine.Advance(now - kEmptyRingLagNs);
    if (now - last_snapshot >= kSnapshotIntervalNs) {
      publish();
      last_snapshot = now;
    }
    if (handled == 0) {
      timespec ts{0, kIdleSleepNs};
      nanosleep(&ts, nullptr);
    }
  }
  http.Stop();
  return 0;
}

}  // namespace

int RunCompanion(const ForkContext& context) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnStop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  SpscRing log(context.region->companion_log_header(), context.region->companion_log_data());
  try {
    return Serve(context, &log);
  } catch (const std::exception& e) {
    WriteLog(&log, LogLevel::kError, std::string("tkmprom: companion failed: ") + e.what());
  } catch (...) {
    WriteLog(&log, LogLevel::kError, "tkmprom: companion failed with an unknown exception");
  }
  return 1;
}

}  // namespace tkmprom
