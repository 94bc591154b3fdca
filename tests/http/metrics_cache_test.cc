#include "src/http/metrics_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/http/http_test_client.h"

namespace tkmprom {
namespace {

std::shared_ptr<const Snapshot> MakeSnapshot(uint64_t generation) {
  auto s = std::make_shared<Snapshot>();
  s->generation = generation;
  MetricFamily f;
  f.name = "tickrmeter_devices_tracked";
  f.help = "Devices held in memory.";
  f.samples = {{"", {}, static_cast<double>(generation)}};
  s->families = {f};
  return s;
}

std::string Render(const Snapshot& s, ExpositionFormat format) {
  std::string out;
  WriteExposition(s.families, format, &out);
  return out;
}

TEST(MetricsCacheTest, RendersOncePerGeneration) {
  MetricsCache cache;
  auto s1 = MakeSnapshot(1);
  auto a = cache.Get(s1, ExpositionFormat::kText004, false);
  auto b = cache.Get(s1, ExpositionFormat::kText004, false);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a->generation, 1u);
  EXPECT_FALSE(a->gzip);
  EXPECT_EQ(a->bytes, Render(*s1, ExpositionFormat::kText004));

  auto s2 = MakeSnapshot(2);
  auto c = cache.Get(s2, ExpositionFormat::kText004, false);
  EXPECT_NE(c, a);
  EXPECT_EQ(c->generation, 2u);
  EXPECT_EQ(a->bytes, Render(*s1, ExpositionFormat::kText004)) << "a pinned body must not change";
}

TEST(MetricsCacheTest, GzipBodyInflatesToPlain) {
  MetricsCache cache;
  auto s = MakeSnapshot(3);
  auto gz = cache.Get(s, ExpositionFormat::kOpenMetrics100, true);
  ASSERT_TRUE(gz->gzip);
  EXPECT_EQ(gz->format, ExpositionFormat::kOpenMetrics100);
  std::string inflated;
  ASSERT_TRUE(GunzipForTest(gz->bytes, &inflated));
  EXPECT_EQ(inflated, Render(*s, ExpositionFormat::kOpenMetrics100));
}

TEST(MetricsCacheTest, PrepareRendersTextPlainAndGzip) {
  MetricsCache cache;
  auto s = MakeSnapshot(4);
  cache.Prepare(s);
  // An older snapshot's request gets the newer cached body instead of a render.
  auto old = MakeSnapshot(1);
  EXPECT_EQ(cache.Get(old, ExpositionFormat::kText004, false)->generation, 4u);
  EXPECT_EQ(cache.Get(old, ExpositionFormat::kText004, true)->generation, 4u);
  // OpenMetrics was never asked for, so Prepare left it alone.
  EXPECT_EQ(cache.Get(old, ExpositionFormat::kOpenMetrics100, false)->generation, 1u);
}

TEST(MetricsCacheTest, PrepareRendersFormatsAskedForBefore) {
  MetricsCache cache;
  cache.Get(MakeSnapshot(1), ExpositionFormat::kOpenMetrics100, true);
  cache.Prepare(MakeSnapshot(2));
  auto old = MakeSnapshot(1);
  EXPECT_EQ(cache.Get(old, ExpositionFormat::kOpenMetrics100, true)->generation, 2u);
  EXPECT_EQ(cache.Get(old, ExpositionFormat::kOpenMetrics100, false)->generation, 2u);
}

TEST(MetricsCacheTest, OlderRenderDoesNotReplaceNewer) {
  MetricsCache cache;
  auto newer = cache.Get(MakeSnapshot(9), ExpositionFormat::kText004, false);
  auto got = cache.Get(MakeSnapshot(8), ExpositionFormat::kText004, false);
  EXPECT_EQ(got, newer);
}

// A scrape takes any cached body of a snapshot published within its bound,
// in either encoding, without a render of its own.
TEST(MetricsCacheTest, GetIfFreshServesBodiesPublishedWithinTheBound) {
  MetricsCache cache;
  EXPECT_EQ(cache.GetIfFresh(ExpositionFormat::kText004, false, 0), nullptr);
  auto s = std::make_shared<Snapshot>(*MakeSnapshot(5));
  s->published_ns = 1000;
  cache.Prepare(s);
  auto plain = cache.GetIfFresh(ExpositionFormat::kText004, false, 1000);
  auto gzip = cache.GetIfFresh(ExpositionFormat::kText004, true, 999);
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(gzip, nullptr);
  EXPECT_EQ(plain->generation, 5u);
  EXPECT_TRUE(gzip->gzip);
  EXPECT_EQ(cache.GetIfFresh(ExpositionFormat::kText004, false, 1001), nullptr);
  EXPECT_EQ(cache.GetIfFresh(ExpositionFormat::kOpenMetrics100, false, 0), nullptr);
}

// Both encodings come from one render, and the cached bodies hold little
// more than their bytes even when the first render had to grow its buffer.
TEST(MetricsCacheTest, OneRenderMakesBothEncodingsOfTightSize) {
  auto s = std::make_shared<Snapshot>();
  s->generation = 1;
  MetricFamily f;
  f.name = "tickrmeter_stock_update_pending";
  f.type = MetricType::kGauge;
  for (int i = 0; i < 20000; ++i) {
    f.samples.push_back({"", {{"symbol", "S" + std::to_string(i)}}, static_cast<double>(i)});
  }
  s->families = {f};
  MetricsCache cache;
  auto plain = cache.Get(s, ExpositionFormat::kText004, false);
  auto gzip = cache.Get(s, ExpositionFormat::kText004, true);
  EXPECT_EQ(plain->generation, gzip->generation);
  std::string inflated;
  ASSERT_TRUE(GunzipForTest(gzip->bytes, &inflated));
  EXPECT_EQ(inflated, plain->bytes);
  const size_t used = plain->bytes.size() + gzip->bytes.size();
  EXPECT_LE(cache.MemoryBytes(), used + used / 8 + 2 * 4096);
}

}  // namespace
}  // namespace tkmprom
