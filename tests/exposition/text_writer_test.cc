// Tests of the exposition writer: golden files for both formats, plus the
// number formatting and naming rules one by one.
#include "src/exposition/text_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tkmprom/metric_family.h"

#ifndef TKMPROM_GOLDEN_DIR
#error "TKMPROM_GOLDEN_DIR must name the folder of golden files"
#endif

namespace tkmprom {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Sample MakeSample(std::string suffix, std::vector<Label> labels, double value) {
  Sample sample;
  sample.suffix = std::move(suffix);
  sample.labels = std::move(labels);
  sample.value = value;
  return sample;
}

MetricFamily MakeFamily(std::string name, std::string help, MetricType type,
                        std::vector<Sample> samples) {
  MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  family.samples = std::move(samples);
  return family;
}

// One family of every type, with the values and strings that need care.
std::vector<MetricFamily> GoldenFamilies() {
  std::vector<MetricFamily> families;
  families.push_back(MakeFamily("demo_requests",
                                "Requests seen, with \"quotes\", a back\\slash and a\nnewline.",
                                MetricType::kCounter,
                                {
                                    MakeSample("_total", {{"symbol", "AAPL"}}, 42),
                                    MakeSample("_total", {{"symbol", "we\"ird\\sym\nbol"}}, 0),
                                    MakeSample("_total", {{"symbol", "BIG"}}, 1234567),
                                    MakeSample("_total", {{"symbol", "HUGE"}}, 1e6),
                                }));
  families.push_back(MakeFamily("demo_avg_latency_seconds", "Mean latency; NaN when idle.",
                                MetricType::kGauge,
                                {
                                    MakeSample("", {{"symbol", "AAPL"}}, 0.1),
                                    MakeSample("", {{"symbol", "IDLE"}}, kNaN),
                                    MakeSample("", {{"symbol", "UP"}}, kInf),
                                    MakeSample("", {{"symbol", "DOWN"}}, -kInf),
                                    MakeSample("", {{"symbol", "NEG"}}, -0.25),
                                    MakeSample("", {{"symbol", "TINY"}}, 1.5e-7),
                                }));
  families.push_back(MakeFamily("demo_latency_seconds", "Request to answer time.",
                                MetricType::kHistogram,
                                {
                                    MakeSample("_bucket", {{"symbol", "AAPL"}, {"le", "0.1"}}, 1),
                                    MakeSample("_bucket", {{"symbol", "AAPL"}, {"le", "1.0"}}, 3),
                                    MakeSample("_bucket", {{"symbol", "AAPL"}, {"le", "2.5"}}, 4),
                                    MakeSample("_bucket", {{"symbol", "AAPL"}, {"le", "60"}}, 5),
                                    MakeSample("_bucket", {{"symbol", "AAPL"}, {"le", "+Inf"}}, 5),
                                    MakeSample("_sum", {{"symbol", "AAPL"}}, 3.7),
                                    MakeSample("_count", {{"symbol", "AAPL"}}, 5),
                                }));
  families.push_back(MakeFamily("demo_window_latency_seconds", "Latency quantiles over the window.",
                                MetricType::kSummary,
                                {
                                    MakeSample("", {{"symbol", "AAPL"}, {"quantile", "0.5"}}, 0.2),
                                    MakeSample("", {{"symbol", "AAPL"}, {"quantile", "0.99"}}, 1.9),
                                    MakeSample("", {{"symbol", "AAPL"}, {"quantile", "1"}}, 2),
                                    MakeSample("_sum", {{"symbol", "AAPL"}}, 12.5),
                                    MakeSample("_count", {{"symbol", "AAPL"}}, 40),
                                    MakeSample("", {{"symbol", "IDLE"}, {"quantile", "0.5"}}, kNaN),
                                    MakeSample("_sum", {{"symbol", "IDLE"}}, 0),
                                    MakeSample("_count", {{"symbol", "IDLE"}}, 0),
                                }));
  families.push_back(MakeFamily("demo_build_info", "Build of the plugin; always 1.",
                                MetricType::kGauge, {MakeSample("", {{"version", "0.1.0"}}, 1)}));
  families.push_back(
      MakeFamily("demo_devices_tracked", "Devices held in memory.", MetricType::kGauge, {}));
  families.push_back(MakeFamily("demo_plain", "A sample without labels.", MetricType::kGauge,
                                {MakeSample("", {}, 7)}));
  return families;
}

std::string ReadGolden(const std::string& name) {
  std::ifstream in(std::string(TKMPROM_GOLDEN_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read golden file " << name;
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// Compares `actual` with a golden file; with TKMPROM_UPDATE_GOLDEN=1 in the
// environment, rewrites the file instead (review the diff before committing).
void ExpectGolden(const std::string& name, const std::string& actual) {
  const char* update = std::getenv("TKMPROM_UPDATE_GOLDEN");
  if (update != nullptr && std::strcmp(update, "1") == 0) {
    std::ofstream(std::string(TKMPROM_GOLDEN_DIR) + "/" + name, std::ios::binary) << actual;
    return;
  }
  EXPECT_EQ(ReadGolden(name), actual) << "golden file " << name;
}

std::string Render(const std::vector<MetricFamily>& families, ExpositionFormat format) {
  std::string out;
  WriteExposition(families, format, &out);
  return out;
}

std::string Double(double v) {
  std::string out;
  AppendDouble(v, &out);
  return out;
}

TEST(TextWriterTest, Text004MatchesGolden) {
  ExpectGolden("families.text004.txt", Render(GoldenFamilies(), ExpositionFormat::kText004));
}

TEST(TextWriterTest, OpenMetricsMatchesGolden) {
  ExpectGolden("families.openmetrics.txt",
               Render(GoldenFamilies(), ExpositionFormat::kOpenMetrics100));
}

TEST(TextWriterTest, AppendDoubleMatchesGoFormatting) {
  EXPECT_EQ(Double(0), "0");
  EXPECT_EQ(Double(-0.0), "-0");
  EXPECT_EQ(Double(1), "1");
  EXPECT_EQ(Double(-1), "-1");
  EXPECT_EQ(Double(0.1), "0.1");
  EXPECT_EQ(Double(2.5), "2.5");
  EXPECT_EQ(Double(0.30000000000000004), "0.30000000000000004");
  EXPECT_EQ(Double(100), "100");
  EXPECT_EQ(Double(123456), "123456");
  EXPECT_EQ(Double(999999), "999999");
  EXPECT_EQ(Double(1e6), "1e+06");
  EXPECT_EQ(Double(1234567), "1.234567e+06");
  EXPECT_EQ(Double(1e21), "1e+21");
  EXPECT_EQ(Double(1e100), "1e+100");
  EXPECT_EQ(Double(0.0001), "0.0001");
  EXPECT_EQ(Double(0.00012345), "0.00012345");
  EXPECT_EQ(Double(1e-5), "1e-05");
  EXPECT_EQ(Double(-1.5e-7), "-1.5e-07");
  EXPECT_EQ(Double(5e-324), "5e-324");
  EXPECT_EQ(Double(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(Double(kNaN), "NaN");
  EXPECT_EQ(Double(kInf), "+Inf");
  EXPECT_EQ(Double(-kInf), "-Inf");
}

TEST(TextWriterTest, AppendDoubleRoundTrips) {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 100000; ++i) {
    uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof(v));
    if (!std::isfinite(v)) continue;
    const std::string s = Double(v);
    ASSERT_EQ(std::strtod(s.c_str(), nullptr), v) << s;
  }
  for (double v : {0.1, 0.2, 0.7, 1.1, 33.3, 1e-4, 9.999999e5, 1.0 / 3}) {
    const std::string s = Double(v);
    EXPECT_EQ(std::strtod(s.c_str(), nullptr), v) << s;
  }
}

TEST(TextWriterTest, AppendsWithoutClearing) {
  std::string out = "prefix\n";
  WriteExposition({MakeFamily("x", "h", MetricType::kGauge, {MakeSample("", {}, 1)})},
                  ExpositionFormat::kText004, &out);
  EXPECT_EQ(out, "prefix\n# HELP x h\n# TYPE x gauge\nx 1\n");
}

TEST(TextWriterTest, EmptyInputs) {
  EXPECT_EQ(Render({}, ExpositionFormat::kText004), "");
  EXPECT_EQ(Render({}, ExpositionFormat::kOpenMetrics100), "# EOF\n");
}

TEST(TextWriterTest, EmptyHelpLeavesOutHelpLine) {
  const std::vector<MetricFamily> families = {
      MakeFamily("x", "", MetricType::kCounter, {MakeSample("_total", {}, 3)})};
  EXPECT_EQ(Render(families, ExpositionFormat::kText004), "# TYPE x_total counter\nx_total 3\n");
  EXPECT_EQ(Render(families, ExpositionFormat::kOpenMetrics100),
            "# TYPE x counter\nx_total 3\n# EOF\n");
}

TEST(TextWriterTest, InfoSuffixStaysGauge) {
  const std::vector<MetricFamily> families = {MakeFamily(
      "tickrmeter_build_info", "b", MetricType::kGauge, {MakeSample("", {{"version", "1"}}, 1)})};
  EXPECT_EQ(Render(families, ExpositionFormat::kOpenMetrics100),
            "# HELP tickrmeter_build_info b\n# TYPE tickrmeter_build_info gauge\n"
            "tickrmeter_build_info{version=\"1\"} 1\n# EOF\n");
}

TEST(TextWriterTest, CanonicalisesOnlyLeOfHistogramsAndQuantileOfSummaries) {
  const std::vector<MetricFamily> families = {
      MakeFamily(
          "h", "", MetricType::kHistogram,
          {MakeSample("_bucket", {{"le", "1"}}, 1), MakeSample("_bucket", {{"le", "1e3"}}, 1),
           MakeSample("_bucket", {{"le", "inf"}}, 1),
           MakeSample("_bucket", {{"le", "not a number"}}, 1)}),
      MakeFamily("g", "", MetricType::kGauge,
                 {MakeSample("", {{"le", "1"}, {"quantile", "0.50"}}, 1)}),
      MakeFamily("s", "", MetricType::kSummary,
                 {MakeSample("", {{"quantile", "0.50"}}, 1), MakeSample("", {{"le", "1"}}, 1)}),
  };
  EXPECT_EQ(Render(families, ExpositionFormat::kText004),
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 1\n"
            "h_bucket{le=\"1000\"} 1\n"
            "h_bucket{le=\"+Inf\"} 1\n"
            "h_bucket{le=\"not a number\"} 1\n"
            "# TYPE g gauge\n"
            "g{le=\"1\",quantile=\"0.50\"} 1\n"
            "# TYPE s summary\n"
            "s{quantile=\"0.5\"} 1\n"
            "s{le=\"1\"} 1\n");
  EXPECT_EQ(Render(families, ExpositionFormat::kOpenMetrics100),
            "# TYPE h histogram\n"
            "h_bucket{le=\"1.0\"} 1\n"
            "h_bucket{le=\"1000.0\"} 1\n"
            "h_bucket{le=\"+Inf\"} 1\n"
            "h_bucket{le=\"not a number\"} 1\n"
            "# TYPE g gauge\n"
            "g{le=\"1\",quantile=\"0.50\"} 1\n"
            "# TYPE s summary\n"
            "s{quantile=\"0.5\"} 1\n"
            "s{le=\"1\"} 1\n"
            "# EOF\n");
}

TEST(TextWriterTest, OpenMetricsCanonicalFormOfLargeAndSmallBounds) {
  const std::vector<MetricFamily> families = {MakeFamily(
      "h", "", MetricType::kHistogram,
      {MakeSample("_bucket", {{"le", "0"}}, 0), MakeSample("_bucket", {{"le", "0.000001"}}, 0),
       MakeSample("_bucket", {{"le", "2000000"}}, 0)})};
  EXPECT_EQ(Render(families, ExpositionFormat::kOpenMetrics100),
            "# TYPE h histogram\n"
            "h_bucket{le=\"0.0\"} 0\n"
            "h_bucket{le=\"1e-06\"} 0\n"
            "h_bucket{le=\"2e+06\"} 0\n"
            "# EOF\n");
}

TEST(TextWriterTest, ContentTypes) {
  EXPECT_STREQ(ContentType(ExpositionFormat::kText004), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_STREQ(ContentType(ExpositionFormat::kOpenMetrics100),
               "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

}  // namespace
}  // namespace tkmprom
