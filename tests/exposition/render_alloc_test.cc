// The /metrics render path does not allocate per sample: once a render has
// sized the output strings, RenderExposition() of an engine snapshot into
// the same text and gzip strings makes a small, fixed number of heap
// allocations, whatever the number of symbols and devices (counted by
// replacing operator new in this test binary; zlib allocates its state with
// malloc, once per GzipStream, outside the count). The gzip body inflates to
// the text.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "src/engine/engine.h"
#include "src/exposition/gzip.h"
#include "src/exposition/text_writer.h"
#include "src/http/metrics_cache.h"
#include "tests/alloc_counter.h"
#include "tests/engine/engine_workload.h"

namespace tkmprom {
namespace {

// An engine snapshot of `devices` devices playing 5 of `symbols` symbols,
// after four rounds (every device, symbol and sub-window seen).
std::shared_ptr<const Snapshot> FleetSnapshot(int devices, int symbols, bool per_device) {
  Config config;
  config.per_device_metrics = per_device;
  Engine engine(config);
  FleetWorkload fleet(devices, symbols, /*playlist=*/5);
  const int64_t kRound = 120'000'000'000;
  int64_t t = 1'000'000'000'000;
  for (uint64_t round = 0; round < 4; ++round, t += kRound) {
    fleet.Round(&engine, t, kRound / 2, round);
    engine.Advance(t + kRound / 2 + 2'000'000'000);
  }
  PluginCounters plugin;
  return engine.BuildSnapshot(plugin);
}

// `gz` inflated (gzip wrapper), or "<inflate error>".
std::string Gunzip(const std::string& gz, size_t expected_size) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + 15) != Z_OK) return "<inflate error>";
  std::string out(expected_size + 1, '\0');  // room for one byte too many
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int ret = inflate(&zs, Z_FINISH);
  const bool all_input = zs.avail_in == 0;
  out.resize(out.size() - zs.avail_out);
  inflateEnd(&zs);
  if (ret != Z_STREAM_END || !all_input) return "<inflate error>";
  return out;
}

struct RenderCount {
  long first_allocations = 0;  // of the first render after the warm-up
  long max_allocations = 0;    // of the later ones
  size_t text_bytes = 0;
  size_t gzip_bytes = 0;
};

// Renders `snapshot` once to size the strings, then `kMeasured` more times
// into the same strings, counting allocations; checks every gzip body. The
// first render after the warm-up may also grow the text and gzip strings
// once each, to the last size plus a margin (see Reserve() in
// text_writer.cc); from then on they keep their capacity.
RenderCount CountRenderAllocations(const Snapshot& snapshot, ExpositionFormat format) {
  constexpr int kMeasured = 5;
  GzipStream gzip(MetricsCache::kGzipLevel);
  std::string text;
  std::string gz;
  EXPECT_TRUE(RenderExposition(snapshot, format, &text, &gzip, &gz));  // warm-up
  EXPECT_EQ(Gunzip(gz, text.size()), text);
  const std::string first = text;
  RenderCount count;
  for (int i = 0; i < kMeasured; ++i) {
    g_allocations = 0;
    g_counting = true;
    const bool ok = RenderExposition(snapshot, format, &text, &gzip, &gz);
    g_counting = false;
    EXPECT_TRUE(ok);
    if (i == 0) {
      count.first_allocations = g_allocations;
    } else {
      count.max_allocations = std::max(count.max_allocations, g_allocations);
    }
    EXPECT_EQ(text, first);
    EXPECT_EQ(Gunzip(gz, text.size()), text);
  }
  count.text_bytes = text.size();
  count.gzip_bytes = gz.size();
  return count;
}

TEST(RenderAllocTest, CounterSeesAllocations) {
  g_allocations = 0;
  g_counting = true;
  auto* p = new std::string(100, 'x');
  g_counting = false;
  delete p;
  EXPECT_EQ(g_allocations, 2);  // the string object and its buffer
}

// What a render still allocates once its strings are sized: nothing. The
// `le` label values (BucketBounds in snapshot_exposition.cc) and the
// writer's float-label cache (TextSink::floats_ in text_writer.cc) are held
// in fixed buffers; they used to cost 6 allocations with the default 8
// latency bounds (the vector of strings, and the cache's vector growing to
// 13 entries).
constexpr long kRenderAllocations = 0;

TEST(RenderAllocTest, Text004AndGzipAllocateABoundedNumberOfTimes) {
  const auto snapshot = FleetSnapshot(/*devices=*/500, /*symbols=*/200, /*per_device=*/false);
  ASSERT_EQ(snapshot->devices.size(), 500u);
  ASSERT_GE(snapshot->symbols.size(), 200u);
  const RenderCount small = CountRenderAllocations(*snapshot, ExpositionFormat::kText004);
  EXPECT_EQ(small.max_allocations, kRenderAllocations);
  EXPECT_LE(small.first_allocations, kRenderAllocations + 2);
  EXPECT_GT(small.text_bytes, 100'000u);
  EXPECT_LT(small.gzip_bytes, small.text_bytes / 4);

  // Twice the fleet: twice the text, the same allocations.
  const auto big = FleetSnapshot(/*devices=*/1000, /*symbols=*/400, /*per_device=*/false);
  ASSERT_GE(big->symbols.size(), 400u);
  const RenderCount large = CountRenderAllocations(*big, ExpositionFormat::kText004);
  EXPECT_GT(large.text_bytes, small.text_bytes * 3 / 2);
  EXPECT_EQ(large.max_allocations, small.max_allocations);
}

TEST(RenderAllocTest, OpenMetricsAndPerDeviceFamiliesAllocateTheSame) {
  const auto snapshot = FleetSnapshot(/*devices=*/500, /*symbols=*/200, /*per_device=*/true);
  ASSERT_FALSE(snapshot->device_symbols.empty());
  for (ExpositionFormat format : {ExpositionFormat::kText004, ExpositionFormat::kOpenMetrics100}) {
    SCOPED_TRACE(format == ExpositionFormat::kText004 ? "0.0.4" : "OpenMetrics");
    const RenderCount small = CountRenderAllocations(*snapshot, format);
    EXPECT_EQ(small.max_allocations, kRenderAllocations);
    const auto big = FleetSnapshot(/*devices=*/1000, /*symbols=*/400, /*per_device=*/true);
    const RenderCount large = CountRenderAllocations(*big, format);
    EXPECT_GT(large.text_bytes, small.text_bytes * 3 / 2);
    EXPECT_EQ(large.max_allocations, small.max_allocations);
  }
}

// Without gzip, the plain render alone.
TEST(RenderAllocTest, PlainRenderAllocatesTheSame) {
  const auto snapshot = FleetSnapshot(/*devices=*/500, /*symbols=*/200, /*per_device=*/false);
  std::string text;
  RenderExposition(*snapshot, ExpositionFormat::kText004, &text);
  RenderExposition(*snapshot, ExpositionFormat::kText004, &text);  // grows to the margin
  g_allocations = 0;
  g_counting = true;
  RenderExposition(*snapshot, ExpositionFormat::kText004, &text);
  g_counting = false;
  EXPECT_EQ(g_allocations, kRenderAllocations);
}

}  // namespace
}  // namespace tkmprom
