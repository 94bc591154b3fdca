// Scrape latency of /metrics served from the render cache: 1,000 sequential
// GETs of a ~3 MB exposition, plain and gzip, over a fresh connection per
// request (as curl or a restarted scraper) and over one kept-alive connection
// (as Prometheus). Prints p50/p99/max; asserts nothing about time.
//
// Run: meson test -C <build> --benchmark --suite http  (or the binary itself).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "src/exposition/text_writer.h"
#include "src/http/http_server.h"
#include "tests/http/http_test_client.h"

namespace tkmprom {
namespace {

// A fleet-sized snapshot: per symbol the counters, the latency histogram,
// the windowed average and the summary, as the contract's §4 lists them.
std::shared_ptr<const Snapshot> FleetSnapshot(int symbols) {
  const std::vector<std::string> bounds = {"0.1", "0.5", "1", "2", "5", "10", "30", "60", "+Inf"};
  auto s = std::make_shared<Snapshot>();
  s->generation = 1;
  auto family = [&](const char* name, MetricType type) -> MetricFamily& {
    s->families.push_back({name, std::string("Help for ") + name + ".", type, {}});
    return s->families.back();
  };
  for (const char* name : {"tickrmeter_stock_update_requests", "tickrmeter_stock_update_responses",
                           "tickrmeter_stock_update_errors", "tickrmeter_symbol_timeout",
                           "tickrmeter_stock_update_superseded"}) {
    MetricFamily& f = family(name, MetricType::kCounter);
    for (int i = 0; i < symbols; ++i) {
      f.samples.push_back({"_total", {{"symbol", "SYM" + std::to_string(i)}}, 1000.0 + i});
    }
  }
  MetricFamily& hist = family("tickrmeter_stock_update_latency_seconds", MetricType::kHistogram);
  for (int i = 0; i < symbols; ++i) {
    std::string symbol = "SYM" + std::to_string(i);
    for (size_t b = 0; b < bounds.size(); ++b) {
      hist.samples.push_back({"_bucket", {{"symbol", symbol}, {"le", bounds[b]}}, 100.0 * b});
    }
    hist.samples.push_back({"_sum", {{"symbol", symbol}}, 1234.5678});
    hist.samples.push_back({"_count", {{"symbol", symbol}}, 800});
  }
  MetricFamily& avg = family("tickrmeter_symbol_avg_latency_seconds", MetricType::kGauge);
  MetricFamily& pending = family("tickrmeter_stock_update_pending", MetricType::kGauge);
  MetricFamily& summary = family("tickrmeter_symbol_latency_seconds", MetricType::kSummary);
  for (int i = 0; i < symbols; ++i) {
    std::string symbol = "SYM" + std::to_string(i);
    avg.samples.push_back({"", {{"symbol", symbol}}, 0.123456789});
    pending.samples.push_back({"", {{"symbol", symbol}}, 2});
    for (const char* q : {"0.5", "0.9", "0.95", "0.99"}) {
      summary.samples.push_back({"", {{"symbol", symbol}, {"quantile", q}}, 0.3456789});
    }
    summary.samples.push_back({"_sum", {{"symbol", symbol}}, 98.765});
    summary.samples.push_back({"_count", {{"symbol", symbol}}, 321});
  }
  return s;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int Run() {
  constexpr int kRequests = 1000;
  uint16_t port = 0;
  int fd = ListenOnLoopback(&port);
  if (fd < 0) return 1;
  SnapshotHolder holder;
  HttpServer server(Config{}, &holder);
  if (std::string error = server.Start(fd); !error.empty()) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  std::shared_ptr<const Snapshot> snapshot = FleetSnapshot(2000);
  holder.Publish(snapshot);
  auto t0 = std::chrono::steady_clock::now();
  server.PrepareRenders(snapshot);
  double prepare_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("PrepareRenders (text 0.0.4 + gzip): %.1f ms\n", prepare_ms);

  int status = 0;
  for (bool keep_alive : {false, true}) {
    for (bool gzip : {false, true}) {
      std::vector<std::string> headers;
      if (gzip) headers.push_back("Accept-Encoding: gzip");
      TestHttpClient client(port);
      std::vector<double> ms;
      size_t bytes = 0;
      for (int i = 0; i < kRequests; ++i) {
        auto start = std::chrono::steady_clock::now();
        TestHttpResponse r = client.Request("GET", "/metrics", headers, keep_alive);
        auto end = std::chrono::steady_clock::now();
        if (r.status != 200) {
          std::fprintf(stderr, "request %d failed\n", i);
          status = 1;
          break;
        }
        bytes = r.body.size();
        ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
      }
      if (ms.empty()) continue;
      std::printf("%-10s %-5s %8zu bytes  p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%d GETs)\n",
                  keep_alive ? "keep-alive" : "new-conn", gzip ? "gzip" : "plain", bytes,
                  Percentile(ms, 0.5), Percentile(ms, 0.99), Percentile(ms, 1.0), kRequests);
    }
  }
  server.Stop();
  close(fd);
  return status;
}

}  // namespace
}  // namespace tkmprom

int main() { return tkmprom::Run(); }
