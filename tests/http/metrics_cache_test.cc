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

}  // namespace
}  // namespace tkmprom
