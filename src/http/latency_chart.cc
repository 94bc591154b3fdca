#include "src/http/latency_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>

#include "src/http/html_escape.h"

namespace tkmprom {
namespace {

// Geometry, in SVG user units (= CSS pixels at width = viewBox width).
constexpr int kStep = 44;      // horizontal space per bucket
constexpr int kBarWidth = 36;  // bar width within it
constexpr int kPad = 4;
constexpr int kTop = 14;        // room for the count above the tallest bar
constexpr int kBarHeight = 72;  // the tallest bar
constexpr int kBaseline = kTop + kBarHeight;
constexpr int kHeight = kBaseline + 16;  // the bucket labels below

std::string FormatBound(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

void AppendInt(int64_t v, std::string* out) { out->append(std::to_string(v)); }

}  // namespace

std::string BucketLabel(const std::vector<double>& bounds, size_t i) {
  if (i < bounds.size()) return "\u2264" + FormatBound(bounds[i]);
  if (bounds.empty()) return "all";
  return ">" + FormatBound(bounds.back());
}

void AppendLatencyChart(const SymbolWindow& window, const std::vector<double>& bounds,
                        std::string* out) {
  const std::vector<uint64_t>& buckets = window.latency_buckets;
  uint64_t total = 0;
  uint64_t tallest = 0;
  for (uint64_t n : buckets) {
    total += n;
    tallest = std::max(tallest, n);
  }
  if (total == 0) return;
  const int width = static_cast<int>(buckets.size()) * kStep + 2 * kPad;

  out->append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 ");
  AppendInt(width, out);
  out->push_back(' ');
  AppendInt(kHeight, out);
  out->append("\" width=\"");
  AppendInt(width, out);
  out->append("\" height=\"");
  AppendInt(kHeight, out);
  out->append("\" role=\"img\" aria-label=\"");
  AppendHtmlEscaped(window.symbol, out);
  out->append(": answers per latency bucket (seconds) since start\"><title>");
  AppendHtmlEscaped(window.symbol, out);
  out->append(": answers per latency bucket (seconds) since start</title>");
  out->append("<line class=\"axis\" x1=\"0\" x2=\"");
  AppendInt(width, out);
  out->append("\" y1=\"");
  AppendInt(kBaseline, out);
  out->append("\" y2=\"");
  AppendInt(kBaseline, out);
  out->append("\"/>");

  for (size_t i = 0; i < buckets.size(); ++i) {
    const uint64_t n = buckets[i];
    const int x = kPad + static_cast<int>(i) * kStep + (kStep - kBarWidth) / 2;
    const int center = x + kBarWidth / 2;
    // A non-empty bucket is at least one unit tall, so it never vanishes.
    const int h = n == 0 ? 0
                         : std::max(1, static_cast<int>(std::lround(static_cast<double>(n) /
                                                                    tallest * kBarHeight)));
    const std::string label = BucketLabel(bounds, i);
    const double lower = i == 0 ? 0 : (i - 1 < bounds.size() ? bounds[i - 1] : 0);
    if (n > 0) {
      out->append(lower >= kChartSlowSeconds ? "<rect class=\"bar slow\" x=\""
                                             : "<rect class=\"bar\" x=\"");
      AppendInt(x, out);
      out->append("\" y=\"");
      AppendInt(kBaseline - h, out);
      out->append("\" width=\"");
      AppendInt(kBarWidth, out);
      out->append("\" height=\"");
      AppendInt(h, out);
      out->append("\"><title>");
      out->append(label);
      out->append(" s: ");
      out->append(std::to_string(n));
      out->append(n == 1 ? " answer" : " answers");
      out->append("</title></rect><text class=\"count\" text-anchor=\"middle\" x=\"");
      AppendInt(center, out);
      out->append("\" y=\"");
      AppendInt(kBaseline - h - 3, out);
      out->append("\">");
      out->append(std::to_string(n));
      out->append("</text>");
    }
    out->append("<text text-anchor=\"middle\" x=\"");
    AppendInt(center, out);
    out->append("\" y=\"");
    AppendInt(kHeight - 3, out);
    out->append("\">");
    AppendHtmlEscaped(label, out);
    out->append("</text>");
  }
  out->append("</svg>");
}

double EstimateHistogramQuantile(const std::vector<double>& bounds,
                                 const std::vector<uint64_t>& buckets, double q) {
  uint64_t total = 0;
  for (uint64_t n : buckets) total += n;
  if (total == 0 || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  uint64_t below = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i] == 0 || static_cast<double>(below + buckets[i]) < rank) {
      below += buckets[i];
      continue;
    }
    if (i >= bounds.size()) break;  // in the bucket above every bound
    const double lower = i == 0 ? 0 : bounds[i - 1];
    const double upper = bounds[i];
    return lower + (upper - lower) * (rank - static_cast<double>(below)) / buckets[i];
  }
  return std::numeric_limits<double>::infinity();
}

}  // namespace tkmprom
