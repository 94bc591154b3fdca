// A small inline SVG bar chart of one symbol's latency histogram (answers per
// bucket since start), for the status page. Styled only through classes
// (`bar`, `bar slow`, `count`, `axis`) and SVG presentation attributes, so
// that it needs no inline style under the page's Content-Security-Policy.
// Also the quantile estimate from such a histogram that the page's backend
// table shows.
//
// Thread safety: pure functions; call them from any thread.
#ifndef TKMPROM_SRC_HTTP_LATENCY_CHART_H_
#define TKMPROM_SRC_HTTP_LATENCY_CHART_H_

#include <string>
#include <string_view>
#include <vector>

#include "tkmprom/snapshot.h"

namespace tkmprom {

// Buckets whose lower bound is at least this are drawn as "slow".
inline constexpr double kChartSlowSeconds = 1.0;

// The label of bucket `i` of a histogram with upper `bounds`: "≤0.5" for a
// bounded one, ">60" for the last (above every bound).
std::string BucketLabel(const std::vector<double>& bounds, size_t i);

// Appends an <svg> element charting `window.latency_buckets` against
// `bounds` (Snapshot::latency_bounds). Appends nothing when the symbol has
// no answer.
void AppendLatencyChart(const SymbolWindow& window, const std::vector<double>& bounds,
                        std::string* out);

// Quantile q (0..1) of the answers in a latency histogram with upper
// `bounds` and per-bucket (not cumulative) counts `buckets` (one per bound,
// then one above every bound), estimated as Prometheus' histogram_quantile()
// does: the bucket holding rank q * count, interpolated linearly between its
// lower bound (0 for the first) and its upper bound. It is an estimate, only
// as fine as the buckets, unlike the sketch's nearest-rank quantiles. NaN
// when the histogram is empty; +Inf when the rank lies above every bound
// (histogram_quantile() would answer the highest bound).
double EstimateHistogramQuantile(const std::vector<double>& bounds,
                                 const std::vector<uint64_t>& buckets, double q);

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_LATENCY_CHART_H_
