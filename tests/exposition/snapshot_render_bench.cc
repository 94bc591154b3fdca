// Google Benchmark cases of the /metrics path at fleet scale: 8,000 devices
// playing 5 of 2,000 symbols, warmed up like tests/engine/engine_bench.cc.
// BuildSnapshot(), then rendering that snapshot: 0.0.4 text alone, 0.0.4
// text and gzip (MetricsCache's level) in one pass, OpenMetrics text, and,
// for comparison, gzipping the finished 0.0.4 text at level 1 and 6.
//   build/tests/exposition/snapshot_render_bench
//   meson test -C build --benchmark --suite exposition -v
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>

#include "src/engine/engine.h"
#include "src/exposition/gzip.h"
#include "src/exposition/text_writer.h"
#include "src/http/metrics_cache.h"
#include "tests/engine/engine_workload.h"

namespace tkmprom {
namespace {

constexpr int kDevices = 8000;
constexpr int kSymbols = 2000;
constexpr int kPlaylist = 5;
constexpr double kMinTimeS = 0.5;

// The warmed-up engine and one snapshot of it, built on first use.
struct Fleet {
  Fleet() : engine(Config()), workload(kDevices, kSymbols, kPlaylist) {
    const int64_t kRound = 120'000'000'000;  // every device bursts every 2 minutes
    int64_t t = 1'000'000'000'000;
    // Every device, symbol and sub-window seen.
    for (uint64_t round = 0; round < 4; ++round, t += kRound) {
      workload.Round(&engine, t, kRound / 2, round);
      engine.Advance(t + kRound / 2 + 2'000'000'000);
    }
    snapshot = engine.BuildSnapshot(plugin);
    RenderExposition(*snapshot, ExpositionFormat::kText004, &text004);
  }
  Engine engine;
  FleetWorkload workload;
  PluginCounters plugin;
  std::shared_ptr<const Snapshot> snapshot;
  std::string text004;  // the snapshot's 0.0.4 text, for the gzip cases
};

Fleet& GetFleet() {
  static Fleet* fleet = new Fleet();
  return *fleet;
}

void SetBodyCounters(benchmark::State& state, size_t text_bytes) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text_bytes));
  state.counters["body_bytes"] = static_cast<double>(text_bytes);
}

void BM_BuildSnapshot(benchmark::State& state) {
  Fleet& fleet = GetFleet();
  size_t symbols = 0;
  size_t devices = 0;
  for (auto _ : state) {
    std::shared_ptr<const Snapshot> snapshot = fleet.engine.BuildSnapshot(fleet.plugin);
    symbols = snapshot->symbols.size();
    devices = snapshot->devices.size();
    benchmark::DoNotOptimize(snapshot.get());
  }
  state.counters["symbols"] = static_cast<double>(symbols);
  state.counters["devices"] = static_cast<double>(devices);
}
BENCHMARK(BM_BuildSnapshot)->Unit(benchmark::kMillisecond)->MinTime(kMinTimeS);

void RenderPlain(benchmark::State& state, ExpositionFormat format) {
  Fleet& fleet = GetFleet();
  std::string text;
  RenderExposition(*fleet.snapshot, format, &text);  // sizes the string, as the cache's is
  for (auto _ : state) {
    RenderExposition(*fleet.snapshot, format, &text);
    benchmark::DoNotOptimize(text.data());
  }
  SetBodyCounters(state, text.size());
}

void BM_RenderText004(benchmark::State& state) { RenderPlain(state, ExpositionFormat::kText004); }
BENCHMARK(BM_RenderText004)->Unit(benchmark::kMillisecond)->MinTime(kMinTimeS);

void BM_RenderText004AndGzip(benchmark::State& state) {
  Fleet& fleet = GetFleet();
  GzipStream gzip(MetricsCache::kGzipLevel);
  std::string text;
  std::string gz;
  bool ok = RenderExposition(*fleet.snapshot, ExpositionFormat::kText004, &text, &gzip, &gz);
  for (auto _ : state) {
    ok &= RenderExposition(*fleet.snapshot, ExpositionFormat::kText004, &text, &gzip, &gz);
    benchmark::DoNotOptimize(gz.data());
  }
  if (!ok) state.SkipWithError("gzip failed");
  SetBodyCounters(state, text.size());
  state.counters["gzip_bytes"] = static_cast<double>(gz.size());
  state.counters["gzip_level"] = MetricsCache::kGzipLevel;
}
BENCHMARK(BM_RenderText004AndGzip)->Unit(benchmark::kMillisecond)->MinTime(kMinTimeS);

void BM_RenderOpenMetrics(benchmark::State& state) {
  RenderPlain(state, ExpositionFormat::kOpenMetrics100);
}
BENCHMARK(BM_RenderOpenMetrics)->Unit(benchmark::kMillisecond)->MinTime(kMinTimeS);

// GzipCompress() of the finished 0.0.4 text at zlib `level`.
void GzipLevel(benchmark::State& state, int level) {
  const std::string& text = GetFleet().text004;
  std::string gz;
  bool ok = true;
  for (auto _ : state) {
    ok &= GzipCompress(text, &gz, level);
    benchmark::DoNotOptimize(gz.data());
  }
  if (!ok) state.SkipWithError("gzip failed");
  SetBodyCounters(state, text.size());
  state.counters["gzip_bytes"] = static_cast<double>(gz.size());
}

void BM_GzipLevel1(benchmark::State& state) { GzipLevel(state, 1); }
BENCHMARK(BM_GzipLevel1)->Unit(benchmark::kMillisecond)->MinTime(kMinTimeS);

void BM_GzipLevel6(benchmark::State& state) { GzipLevel(state, 6); }
BENCHMARK(BM_GzipLevel6)->Unit(benchmark::kMillisecond)->MinTime(kMinTimeS);

}  // namespace
}  // namespace tkmprom

BENCHMARK_MAIN();
