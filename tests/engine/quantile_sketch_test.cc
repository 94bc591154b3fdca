#include "src/engine/quantile_sketch.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace tkmprom {
namespace {

constexpr double kQs[] = {0.5, 0.9, 0.95, 0.99};
constexpr double kMaxRelativeError = 0.01;

// The contract's reference (§7.3): the sorted samples' element of 1-based
// nearest rank ceil(q * n), computed in integers (q has at most three
// decimals here), independently of QuantileSketch::NearestRank().
size_t ExactNearestRank(double q, size_t n) {
  const size_t per_mille = static_cast<size_t>(std::llround(q * 1000));
  return std::max<size_t>(1, (per_mille * n + 999) / 1000);
}

double ExactQuantile(std::vector<double> samples, double q) {
  std::sort(samples.begin(), samples.end());
  return samples[ExactNearestRank(q, samples.size()) - 1];
}

QuantileSketch SketchOf(const std::vector<double>& samples) {
  QuantileSketch sketch;
  for (double s : samples) sketch.Add(s);
  return sketch;
}

void ExpectAccurate(const QuantileSketch& sketch, const std::vector<double>& samples) {
  ASSERT_EQ(sketch.Count(), samples.size());
  for (double q : kQs) {
    const double exact = ExactQuantile(samples, q);
    const double got = sketch.Quantile(q);
    EXPECT_LE(std::fabs(got - exact), kMaxRelativeError * exact)
        << "q=" << q << " exact=" << exact << " got=" << got;
  }
}

std::vector<double> Uniform(int n, double lo, double hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> out(n);
  for (double& v : out) v = dist(rng);
  return out;
}

// Median 0.3 s, p99 6 s: sigma = ln(6 / 0.3) / z(0.99).
std::vector<double> LogNormal(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(std::log(0.3), std::log(20.0) / 2.3263478740408408);
  std::vector<double> out(n);
  for (double& v : out) v = dist(rng);
  return out;
}

std::vector<double> LogUniform(int n, double lo, double hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(std::log(lo), std::log(hi));
  std::vector<double> out(n);
  for (double& v : out) v = std::exp(dist(rng));
  return out;
}

TEST(QuantileSketchTest, EmptyIsNaN) {
  QuantileSketch sketch;
  EXPECT_EQ(sketch.Count(), 0u);
  EXPECT_EQ(sketch.Sum(), 0.0);
  for (double q : kQs) EXPECT_TRUE(std::isnan(sketch.Quantile(q)));
}

TEST(QuantileSketchTest, UniformWithinOnePercent) {
  for (int n : {10, 100, 1000, 20000}) {
    SCOPED_TRACE(n);
    const std::vector<double> samples = Uniform(n, 0.001, 60.0, 1 + n);
    ExpectAccurate(SketchOf(samples), samples);
  }
}

TEST(QuantileSketchTest, LogNormalWithinOnePercent) {
  for (int n : {15, 50, 500, 50000}) {
    SCOPED_TRACE(n);
    const std::vector<double> samples = LogNormal(n, 7 + n);
    ExpectAccurate(SketchOf(samples), samples);
  }
}

TEST(QuantileSketchTest, BimodalWithinOnePercent) {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> fast(0.05, 0.005);
  std::normal_distribution<double> slow(5.0, 0.5);
  std::bernoulli_distribution pick_slow(0.08);
  std::vector<double> samples(5000);
  for (double& v : samples) v = std::max(1e-3, pick_slow(rng) ? slow(rng) : fast(rng));
  ExpectAccurate(SketchOf(samples), samples);
}

TEST(QuantileSketchTest, ConstantIsExact) {
  const std::vector<double> samples(1000, 0.25);
  const QuantileSketch sketch = SketchOf(samples);
  ExpectAccurate(sketch, samples);
  for (double q : kQs) EXPECT_EQ(sketch.Quantile(q), 0.25);
}

TEST(QuantileSketchTest, SingleSampleIsExact) {
  QuantileSketch sketch;
  sketch.Add(1.234);
  for (double q : {0.0, 0.5, 0.99, 1.0}) EXPECT_EQ(sketch.Quantile(q), 1.234);
  EXPECT_EQ(sketch.Sum(), 1.234);
}

TEST(QuantileSketchTest, TwoSamples) {
  const std::vector<double> samples = {0.2, 7.5};
  const QuantileSketch sketch = SketchOf(samples);
  ExpectAccurate(sketch, samples);
  // ceil(q * 2) is rank 1 up to q = 0.5, rank 2 (the slower) above.
  EXPECT_EQ(sketch.Quantile(0.5), 0.2);
  EXPECT_EQ(sketch.Quantile(0.51), 7.5);
  EXPECT_EQ(sketch.Quantile(0.99), 7.5);
  EXPECT_EQ(sketch.Quantile(1.0), 7.5);
}

// The example (plugin-contract.md §7.3): the tail is kept.
TEST(QuantileSketchTest, SevenFastAnswersAndOneSlowKeepTheTail) {
  std::vector<double> samples(7, 0.3);
  samples.push_back(3.0);
  const QuantileSketch sketch = SketchOf(samples);
  EXPECT_NEAR(sketch.Quantile(0.5), 0.3, 0.003);
  EXPECT_EQ(sketch.Quantile(0.9), 3.0);
  EXPECT_EQ(sketch.Quantile(0.95), 3.0);
  EXPECT_EQ(sketch.Quantile(0.99), 3.0);
  // Rank 7 of 8 (q * n = 7 exactly) is still a fast answer.
  EXPECT_NEAR(sketch.Quantile(0.875), 0.3, 0.003);
}

// The rank is ceil(q * n) even where q * n is an integer that floating point
// does not hit exactly (0.95 * 20, 0.9 * 10, 0.29 * 100, ...).
TEST(QuantileSketchTest, NearestRankIsExactForIntegralProducts) {
  EXPECT_EQ(QuantileSketch::NearestRank(0.95, 20), 19u);
  EXPECT_EQ(QuantileSketch::NearestRank(0.9, 10), 9u);
  EXPECT_EQ(QuantileSketch::NearestRank(0.5, 8), 4u);
  EXPECT_EQ(QuantileSketch::NearestRank(0.99, 100), 99u);
  EXPECT_EQ(QuantileSketch::NearestRank(0.95, 100000), 95000u);
  EXPECT_EQ(QuantileSketch::NearestRank(0.0, 5), 1u);
  EXPECT_EQ(QuantileSketch::NearestRank(1.0, 5), 5u);
  EXPECT_EQ(QuantileSketch::NearestRank(0.99, 1), 1u);
  for (double q : {0.01, 0.07, 0.1, 0.25, 0.29, 0.5, 0.57, 0.75, 0.9, 0.95, 0.99, 0.999}) {
    for (size_t n = 1; n <= 100000; n += (n < 2000 ? 1 : 97)) {
      ASSERT_EQ(QuantileSketch::NearestRank(q, n), ExactNearestRank(q, n)) << q << " " << n;
    }
  }
}

// Every window size from one answer up, several shapes: within 1 % of the
// exact nearest-rank sample at every quantile the contract exports.
TEST(QuantileSketchTest, NearestRankWithinOnePercentAtEveryWindowSize) {
  std::mt19937_64 rng(14);
  std::bernoulli_distribution pick_slow(0.1);
  for (size_t n : {1, 2, 8, 20, 100, 100000}) {
    std::vector<std::vector<double>> shapes = {
        Uniform(static_cast<int>(n), 0.001, 60.0, 31 + n), LogNormal(static_cast<int>(n), 37 + n),
        LogUniform(static_cast<int>(n), 0.0005, 30, 41 + n), std::vector<double>(n, 0.25)};
    std::vector<double> bimodal(n);
    for (double& v : bimodal) v = pick_slow(rng) ? 3.0 : 0.3;
    shapes.push_back(bimodal);
    for (size_t k = 0; k < shapes.size(); ++k) {
      SCOPED_TRACE(testing::Message() << "n=" << n << " shape=" << k);
      const QuantileSketch sketch = SketchOf(shapes[k]);
      ExpectAccurate(sketch, shapes[k]);
      for (double q : {0.0, 0.1, 0.25, 0.75, 0.999, 1.0}) {
        const double exact = ExactQuantile(shapes[k], q);
        EXPECT_LE(std::fabs(sketch.Quantile(q) - exact), kMaxRelativeError * exact) << q;
      }
    }
  }
}

// Every bucket's answer, not only those the distributions above happen to hit:
// the middle of three samples is answered from its bucket, not clamped.
TEST(QuantileSketchTest, EveryBucketWithinOnePercent) {
  for (double v = 2e-6; v < 1e5; v *= 1.0037) {
    QuantileSketch sketch;
    sketch.Add(v / 2);
    sketch.Add(v);
    sketch.Add(v * 2);
    ASSERT_LE(std::fabs(sketch.Quantile(0.5) - v), 0.0091 * v) << v;
  }
}

TEST(QuantileSketchTest, QuantileClampsQ) {
  const QuantileSketch sketch = SketchOf({1.0, 2.0, 3.0});
  EXPECT_EQ(sketch.Quantile(-1), 1.0);
  EXPECT_EQ(sketch.Quantile(2), 3.0);
  EXPECT_TRUE(std::isnan(sketch.Quantile(std::nan(""))));
}

TEST(QuantileSketchTest, TinyValuesGoToZeroBucket) {
  const QuantileSketch sketch = SketchOf({0.0, 5e-7, 1e-6, -1.0, 2.0});
  EXPECT_EQ(sketch.Count(), 5u);
  EXPECT_EQ(sketch.Quantile(0), 0.0);
  EXPECT_EQ(sketch.Quantile(0.75), 0.0);  // rank 4 of 0, 0, 5e-7, 1e-6, 2
  EXPECT_EQ(sketch.Quantile(1), 2.0);
  // Negative latencies count as 0 in the sum too.
  EXPECT_DOUBLE_EQ(sketch.Sum(), 2.0 + 5e-7 + 1e-6);
}

TEST(QuantileSketchTest, HugeValuesClampToTopBucket) {
  QuantileSketch sketch;
  for (int i = 0; i < 100; ++i) sketch.Add(1e7 + i);
  sketch.Add(1e9);
  EXPECT_EQ(sketch.Count(), 101u);
  // Answered from the top bucket (~1e5 s), clamped to the samples seen.
  EXPECT_EQ(sketch.Quantile(0.5), 1e7);
  EXPECT_LE(sketch.MemoryBytes(), sizeof(QuantileSketch) + 64 * sizeof(uint32_t));
}

TEST(QuantileSketchTest, NonFiniteValuesAreIgnored) {
  QuantileSketch sketch;
  sketch.Add(std::nan(""));
  sketch.Add(INFINITY);
  EXPECT_EQ(sketch.Count(), 0u);
  sketch.Add(1.5);
  EXPECT_EQ(sketch.Count(), 1u);
  EXPECT_EQ(sketch.Sum(), 1.5);
}

TEST(QuantileSketchTest, SumAndCount) {
  const std::vector<double> samples = Uniform(300, 0.01, 3, 5);
  const QuantileSketch sketch = SketchOf(samples);
  double sum = 0;
  for (double s : samples) sum += s;
  EXPECT_EQ(sketch.Count(), 300u);
  EXPECT_NEAR(sketch.Sum(), sum, 1e-9);
}

// Merging is lossless: merged halves answer exactly like one sketch of all
// samples, whichever form (sparse or dense) each side is in.
TEST(QuantileSketchTest, MergeEqualsSketchOfUnion) {
  const std::vector<std::pair<int, int>> sizes = {{3, 5},     {10, 10}, {3, 400}, {400, 3},
                                                  {500, 700}, {0, 50},  {50, 0}};
  for (const auto& [na, nb] : sizes) {
    SCOPED_TRACE(testing::Message() << na << "+" << nb);
    const std::vector<double> a = LogNormal(na, 100 + na);
    const std::vector<double> b = Uniform(nb, 2.0, 40.0, 200 + nb);
    std::vector<double> all = a;
    all.insert(all.end(), b.begin(), b.end());
    QuantileSketch merged = SketchOf(a);
    merged.Merge(SketchOf(b));
    const QuantileSketch whole = SketchOf(all);
    ExpectAccurate(merged, all);
    EXPECT_NEAR(merged.Sum(), whole.Sum(), 1e-9);
    for (double q : {0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 1.0})
      EXPECT_EQ(merged.Quantile(q), whole.Quantile(q));
  }
}

TEST(QuantileSketchTest, MergeWithItselfDoubles) {
  const std::vector<double> samples = LogNormal(40, 3);
  QuantileSketch sketch = SketchOf(samples);
  sketch.Merge(sketch);
  std::vector<double> twice = samples;
  twice.insert(twice.end(), samples.begin(), samples.end());
  ExpectAccurate(sketch, twice);
}

TEST(QuantileSketchTest, ClearEmptiesAndKeepsMemory) {
  const std::vector<double> samples = LogUniform(2000, 0.001, 60, 9);
  QuantileSketch sketch = SketchOf(samples);
  const size_t bytes = sketch.MemoryBytes();
  sketch.Clear();
  EXPECT_EQ(sketch.Count(), 0u);
  EXPECT_EQ(sketch.Sum(), 0.0);
  EXPECT_TRUE(std::isnan(sketch.Quantile(0.5)));
  EXPECT_EQ(sketch.MemoryBytes(), bytes);
  // Refilled with other values, no stale counter shows up.
  const std::vector<double> refill = Uniform(1000, 0.5, 0.6, 10);
  for (double s : refill) sketch.Add(s);
  ExpectAccurate(sketch, refill);
  EXPECT_EQ(sketch.Quantile(0), *std::min_element(refill.begin(), refill.end()));
  sketch.Clear();
  for (double s : samples) sketch.Add(s);
  ExpectAccurate(sketch, samples);
  EXPECT_EQ(sketch.MemoryBytes(), bytes);
}

TEST(QuantileSketchTest, SparseSketchUsesNoHeap) {
  QuantileSketch sketch;
  for (int i = 0; i < QuantileSketch::kSparseCapacity; ++i) sketch.Add(0.1 * (i + 1));
  for (int i = 0; i < 100; ++i) sketch.Add(0.1);  // same bucket again
  EXPECT_EQ(sketch.MemoryBytes(), sizeof(QuantileSketch));
  sketch.Add(99.0);  // one distinct bucket too many
  EXPECT_GT(sketch.MemoryBytes(), sizeof(QuantileSketch));
}

// Sparse counts are 16 bits: a bucket that would pass 65535 sends the sketch
// dense (32-bit counters) with every count intact.
TEST(QuantileSketchTest, SparseCountPast65535GoesDenseAndStaysExact) {
  const uint64_t kMax = QuantileSketch::kMaxSparseCount;
  QuantileSketch sketch;
  for (uint64_t i = 0; i < kMax; ++i) sketch.Add(0.1);
  for (int i = 0; i < 3; ++i) sketch.Add(0.2);
  EXPECT_EQ(sketch.MemoryBytes(), sizeof(QuantileSketch));  // 65535 still fits
  for (int i = 0; i < 2; ++i) sketch.Add(0.1);
  EXPECT_GT(sketch.MemoryBytes(), sizeof(QuantileSketch));
  ASSERT_EQ(sketch.Count(), kMax + 5);
  // 0.1 holds ranks 1 .. kMax + 2 and 0.2 the three after.
  const double n = static_cast<double>(sketch.Count());
  EXPECT_NEAR(sketch.Quantile((kMax + 2) / n), 0.1, 0.001);
  EXPECT_NEAR(sketch.Quantile((kMax + 3) / n), 0.2, 0.002);
  EXPECT_EQ(sketch.Quantile(0), 0.1);
  EXPECT_EQ(sketch.Quantile(1), 0.2);
}

TEST(QuantileSketchTest, MergingSparseCountsPast65535GoesDenseAndStaysExact) {
  QuantileSketch a;
  QuantileSketch b;
  for (int i = 0; i < 40000; ++i) a.Add(0.1);
  for (int i = 0; i < 50000; ++i) b.Add(0.1);
  for (int i = 0; i < 30000; ++i) b.Add(0.3);
  a.Merge(b);
  EXPECT_GT(a.MemoryBytes(), sizeof(QuantileSketch));
  ASSERT_EQ(a.Count(), 120000u);
  EXPECT_NEAR(a.Quantile(90000 / 120000.0), 0.1, 0.001);
  EXPECT_NEAR(a.Quantile(90001 / 120000.0), 0.3, 0.003);
  // Merging with itself doubles every count, past 65535 too.
  b.Merge(b);
  ASSERT_EQ(b.Count(), 160000u);
  EXPECT_NEAR(b.Quantile(100000 / 160000.0), 0.1, 0.001);
  EXPECT_NEAR(b.Quantile(100001 / 160000.0), 0.3, 0.003);
}

// Dense counters are 16 bits until one would pass 65535, then 32 bits.
TEST(QuantileSketchTest, DenseCountPast65535GoesWideAndStaysExact) {
  QuantileSketch sketch;
  for (int i = 0; i < 20; ++i) sketch.Add(0.01 * (i + 1));  // dense, 20 buckets
  const size_t narrow = sketch.MemoryBytes();
  for (int i = 0; i < 70000; ++i) sketch.Add(0.1);  // 0.1 = 0.01 * 10
  EXPECT_GT(sketch.MemoryBytes(), narrow);          // 32-bit counters now
  ASSERT_EQ(sketch.Count(), 70020u);
  const double n = static_cast<double>(sketch.Count());
  // Ranks 1-9 are 0.01-0.09, 10-70010 are 0.1, then 0.11 onwards.
  EXPECT_NEAR(sketch.Quantile(9 / n), 0.09, 0.001);
  EXPECT_NEAR(sketch.Quantile(10 / n), 0.1, 0.001);
  EXPECT_NEAR(sketch.Quantile(70010 / n), 0.1, 0.001);
  EXPECT_NEAR(sketch.Quantile(70011 / n), 0.11, 0.0011);
  // Clear keeps the wide array; refilled, the counts are right again.
  const size_t wide = sketch.MemoryBytes();
  sketch.Clear();
  for (int i = 0; i < 20; ++i) sketch.Add(0.01 * (i + 1));
  EXPECT_EQ(sketch.MemoryBytes(), wide);
  EXPECT_NEAR(sketch.Quantile(10 / 20.0), 0.1, 0.001);
  EXPECT_NEAR(sketch.Quantile(11 / 20.0), 0.11, 0.0011);
}

TEST(QuantileSketchTest, MergingDenseCountsPast65535GoesWideAndStaysExact) {
  QuantileSketch a;
  QuantileSketch b;
  for (QuantileSketch* s : {&a, &b}) {
    for (int i = 0; i < 20; ++i) s->Add(0.01 * (i + 1));
    for (int i = 0; i < 40000; ++i) s->Add(0.1);
  }
  const size_t narrow = a.MemoryBytes();
  a.Merge(b);  // 0.1 holds 80002
  EXPECT_GT(a.MemoryBytes(), narrow);
  ASSERT_EQ(a.Count(), 80040u);
  const double n = static_cast<double>(a.Count());
  // Ranks 1-18 are 0.01-0.09 twice, 19-80020 are 0.1.
  EXPECT_NEAR(a.Quantile(18 / n), 0.09, 0.001);
  EXPECT_NEAR(a.Quantile(80020 / n), 0.1, 0.001);
  EXPECT_NEAR(a.Quantile(80021 / n), 0.11, 0.0011);
  // A wide sketch merged into a narrow one.
  QuantileSketch c;
  for (int i = 0; i < 20; ++i) c.Add(0.01 * (i + 1));
  c.Merge(a);
  ASSERT_EQ(c.Count(), 80060u);
  EXPECT_NEAR(c.Quantile(27 / 80060.0), 0.09, 0.001);
  EXPECT_NEAR(c.Quantile(28 / 80060.0), 0.1, 0.001);
  EXPECT_NEAR(c.Quantile(80030 / 80060.0), 0.1, 0.001);
  EXPECT_NEAR(c.Quantile(80031 / 80060.0), 0.11, 0.0011);
}

TEST(QuantileSketchTest, DenseCoversOnlyTheRangeInUse) {
  // 1 ms .. 60 s spans ln(60000) / ln(gamma) = 612 buckets.
  const QuantileSketch sketch = SketchOf(LogUniform(20000, 0.001, 60, 11));
  EXPECT_LE(sketch.MemoryBytes(), sizeof(QuantileSketch) + (612 + 16) * sizeof(uint16_t));
  // Whatever the values, never more than the fixed bucket count.
  const QuantileSketch wide = SketchOf(LogUniform(20000, 1e-7, 1e8, 12));
  EXPECT_LE(wide.MemoryBytes(),
            sizeof(QuantileSketch) + QuantileSketch::kNumBuckets * sizeof(uint32_t));
}

}  // namespace
}  // namespace tkmprom
