// Rough timing of a full-size /metrics render: 2,000 symbols with the
// per-symbol families of the plugin contract (§4), 24 samples per symbol,
// padded with 6 more gauges per symbol to 60,000 samples in all, rendered in
// both formats and gzipped. Prints the best of several runs.
// Run with `meson test --benchmark --suite exposition -v`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "src/exposition/gzip.h"
#include "src/exposition/text_writer.h"
#include "tkmprom/metric_family.h"

namespace tkmprom {
namespace {

constexpr int kSymbols = 2000;
constexpr int kRuns = 20;

std::vector<MetricFamily> BuildFamilies() {
  const char* const kCounters[] = {"requests", "responses", "errors", "superseded"};
  const char* const kBounds[] = {"0.1", "0.5", "1", "2", "5", "10", "30", "60", "+Inf"};
  const char* const kQuantiles[] = {"0.5", "0.9", "0.95", "0.99"};
  std::vector<MetricFamily> families;
  for (const char* counter : kCounters) {
    MetricFamily f;
    f.name = std::string("tickrmeter_stock_update_") + counter;
    f.help = "Stock update requests, by outcome.";
    f.type = MetricType::kCounter;
    families.push_back(std::move(f));
  }
  const char* const kGauges[] = {
      "tickrmeter_stock_update_pending", "tickrmeter_symbol_avg_latency_seconds",
      "tickrmeter_padding_one",          "tickrmeter_padding_two",
      "tickrmeter_padding_three",        "tickrmeter_padding_four",
      "tickrmeter_padding_five",         "tickrmeter_padding_six"};
  for (const char* gauge : kGauges) {
    MetricFamily f;
    f.name = gauge;
    f.help = "A per-symbol gauge.";
    families.push_back(std::move(f));
  }
  MetricFamily timeouts;
  timeouts.name = "tickrmeter_symbol_timeout";
  timeouts.help = "Requests unanswered after request_timeout.";
  timeouts.type = MetricType::kCounter;
  MetricFamily histogram;
  histogram.name = "tickrmeter_stock_update_latency_seconds";
  histogram.help = "Request to answer time, as the broker saw both.";
  histogram.type = MetricType::kHistogram;
  MetricFamily summary;
  summary.name = "tickrmeter_symbol_latency_seconds";
  summary.help = "Latency quantiles over the last quantile_window.";
  summary.type = MetricType::kSummary;

  for (int i = 0; i < kSymbols; ++i) {
    const std::string symbol = "SYM" + std::to_string(i) + "/USD";
    for (size_t c = 0; c < 4; ++c) {
      families[c].samples.push_back({"_total", {{"symbol", symbol}}, 1000.0 * i + c});
    }
    families[4].samples.push_back({"", {{"symbol", symbol}}, static_cast<double>(i % 3)});
    for (size_t g = 5; g < 12; ++g) {
      families[g].samples.push_back({"", {{"symbol", symbol}}, 0.123456789 * (i % 17) + g});
    }
    timeouts.samples.push_back({"_total", {{"symbol", symbol}}, static_cast<double>(i % 5)});
    double cumulative = 0;
    for (const char* le : kBounds) {
      cumulative += i % 7;
      histogram.samples.push_back({"_bucket", {{"symbol", symbol}, {"le", le}}, cumulative});
    }
    histogram.samples.push_back({"_sum", {{"symbol", symbol}}, 1.25 * i});
    histogram.samples.push_back({"_count", {{"symbol", symbol}}, cumulative});
    for (const char* q : kQuantiles) {
      summary.samples.push_back({"", {{"symbol", symbol}, {"quantile", q}}, 0.01 * (i % 100)});
    }
    summary.samples.push_back({"_sum", {{"symbol", symbol}}, 3.5 * i});
    summary.samples.push_back({"_count", {{"symbol", symbol}}, 10.0 * i});
  }
  families.push_back(std::move(timeouts));
  families.push_back(std::move(histogram));
  families.push_back(std::move(summary));
  return families;
}

template <typename Fn>
double BestMillis(Fn fn) {
  double best = 1e300;
  for (int run = 0; run < kRuns; ++run) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count());
  }
  return best;
}

int Main() {
  const std::vector<MetricFamily> families = BuildFamilies();
  size_t samples = 0;
  for (const MetricFamily& f : families) samples += f.samples.size();

  for (ExpositionFormat format : {ExpositionFormat::kText004, ExpositionFormat::kOpenMetrics100}) {
    std::string out;
    const double render_ms = BestMillis([&] {
      out.clear();
      out.shrink_to_fit();  // measure the reserve, as a fresh body would
      WriteExposition(families, format, &out);
    });
    std::string gz;
    const double gzip_ms = BestMillis([&] { GzipCompress(out, &gz); });
    std::printf(
        "%s: %zu samples, %zu bytes in %.2f ms (%.0f ns/sample); gzip -6 to %zu bytes in %.2f ms\n",
        format == ExpositionFormat::kText004 ? "text 0.0.4" : "OpenMetrics", samples, out.size(),
        render_ms, render_ms * 1e6 / samples, gz.size(), gzip_ms);
  }
  return 0;
}

}  // namespace
}  // namespace tkmprom

int main() { return tkmprom::Main(); }
