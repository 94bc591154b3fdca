// The /metrics exposition writer: renders a Snapshot's families (see
// snapshot_exposition.h), or MetricFamily values, as Prometheus text format
// 0.0.4 or OpenMetrics 1.0.0, writing each sample as it is produced;
// optionally compressing the text with gzip in the same pass.
//
// Both formats print `# HELP` (left out when the help text is empty) and
// `# TYPE` per family, then one line per sample; a family without samples
// still gets its HELP/TYPE lines. Differences between the formats:
//   - 0.0.4 names a counter family `<name>_total` in HELP/TYPE; OpenMetrics
//     names it `<name>` (samples are `<name>_total` in both).
//   - HELP escapes `\` and newline in 0.0.4, and also `"` in OpenMetrics.
//   - `le` (histograms) and `quantile` (summaries) label values are rewritten
//     as canonical floats: Go-client style in 0.0.4 ("0.1", "1", "+Inf"),
//     with ".0" added to integral values in OpenMetrics ("1.0", "+Inf").
//   - OpenMetrics output ends with "# EOF\n".
// Label values are escaped (`\`, `"`, newline) in both. Metric and label
// names are trusted as given; the engine builds them from fixed tables.
// Nothing is special-cased by name: `*_info` gauges stay gauges.
//
// Thread safety: free functions without shared state; safe from any thread
// as long as each call has its own output string.
#ifndef TKMPROM_SRC_EXPOSITION_TEXT_WRITER_H_
#define TKMPROM_SRC_EXPOSITION_TEXT_WRITER_H_

#include <string>
#include <vector>

#include "src/exposition/gzip.h"
#include "src/exposition/snapshot_exposition.h"
#include "tkmprom/metric_family.h"
#include "tkmprom/snapshot.h"

namespace tkmprom {

enum class ExpositionFormat { kText004, kOpenMetrics100 };

// Appends the exposition of `families` to *out. OpenMetrics output ends with
// "# EOF\n". May throw std::bad_alloc.
void WriteExposition(const std::vector<MetricFamily>& families, ExpositionFormat format,
                     std::string* out);

// Replaces *text with the exposition of `snapshot`, reusing its capacity
// (reserved at its previous size plus a margin, so that it grows at most
// once). With `gzip`, also replaces *compressed with the same text gzipped,
// fed to zlib in chunks while it is written. Returns whether the gzip body
// is complete (false without `gzip`). May throw std::bad_alloc.
bool RenderExposition(const Snapshot& snapshot, ExpositionFormat format, std::string* text,
                      GzipStream* gzip = nullptr, std::string* compressed = nullptr);

// The Content-Type header value for `format`:
// "text/plain; version=0.0.4; charset=utf-8" or
// "application/openmetrics-text; version=1.0.0; charset=utf-8".
const char* ContentType(ExpositionFormat format);

// Appends the shortest decimal form of `v` that parses back to the same
// double, formatted like Go's strconv.FormatFloat(v, 'g', -1, 64), which is
// what Prometheus client libraries print: "0.1", "1", "123456",
// "1.234567e+06", "1e-05"; and "NaN", "+Inf", "-Inf".
void AppendDouble(double v, std::string* out);

}  // namespace tkmprom

#endif  // TKMPROM_SRC_EXPOSITION_TEXT_WRITER_H_
