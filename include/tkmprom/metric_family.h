// The metric model handed from the engine to the exposition writer: plain
// values, no behaviour. A MetricFamily is one `# HELP`/`# TYPE` block.
//
// Naming: `name` is the family name without type suffixes. Counters carry the
// suffix "_total" on their samples (the writer prints `# TYPE <name>_total
// counter` in the 0.0.4 text format and `# TYPE <name> counter` in
// OpenMetrics). Histogram samples use the suffixes "_bucket" (with an `le`
// label, last "+Inf"), "_sum" and "_count"; summary samples use "" (with a
// `quantile` label), "_sum" and "_count". Gauges use "".
//
// Thread safety: plain values; immutable once published in a Snapshot.
#ifndef TKMPROM_METRIC_FAMILY_H_
#define TKMPROM_METRIC_FAMILY_H_

#include <string>
#include <utility>
#include <vector>

namespace tkmprom {

enum class MetricType { kCounter, kGauge, kHistogram, kSummary };

struct Label {
  std::string name;
  std::string value;  // raw; the writer escapes it
};

struct Sample {
  std::string suffix;         // "", "_total", "_bucket", "_sum", "_count"
  std::vector<Label> labels;  // in output order; `le` / `quantile` last
  double value = 0;
};

struct MetricFamily {
  std::string name;
  std::string help;  // raw; the writer escapes it
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;
};

}  // namespace tkmprom

#endif  // TKMPROM_METRIC_FAMILY_H_
