// The /metrics families of plugin-contract.md §4 and §7, read straight from
// a Snapshot's typed views: names, types, HELP texts and labels are defined
// here once, and every sample is handed to a MetricSink as it is produced,
// without building a list of labelled samples.
//
// Order: the symbol families, unmatched responses, the backend families,
// the fleet's device families (and, with per_device_metrics, the per-device
// gauges), the plugin's counters and build_info; then Snapshot::families
// verbatim.
//
// Thread safety: reads the (immutable) snapshot only; one sink per call.
#ifndef TKMPROM_SRC_EXPOSITION_SNAPSHOT_EXPOSITION_H_
#define TKMPROM_SRC_EXPOSITION_SNAPSHOT_EXPOSITION_H_

#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "tkmprom/metric_family.h"
#include "tkmprom/snapshot.h"

namespace tkmprom {

struct LabelRef {
  std::string_view name;
  std::string_view value;  // raw; the writer escapes it
};

// Receives one family header, then its samples, family after family. The
// views are valid during the call only.
class MetricSink {
 public:
  virtual ~MetricSink() = default;
  virtual void Family(std::string_view name, MetricType type, std::string_view help) = 0;
  virtual void Sample(std::string_view suffix, const LabelRef* labels, size_t label_count,
                      double value) = 0;

  void Sample(std::string_view suffix, std::initializer_list<LabelRef> labels, double value) {
    Sample(suffix, labels.begin(), labels.size(), value);
  }
};

// Hands every family of `snapshot` to `sink`: the engine's (when
// Snapshot::from_engine), then Snapshot::families. May throw std::bad_alloc.
void EmitSnapshot(const Snapshot& snapshot, MetricSink* sink);

// Hands `families` to `sink`, as EmitSnapshot does with Snapshot::families.
void EmitFamilies(const std::vector<MetricFamily>& families, MetricSink* sink);

// The families of `snapshot` as values, for tests and tools that look at
// samples by name; the exporter itself never builds them.
std::vector<MetricFamily> CollectFamilies(const Snapshot& snapshot);

}  // namespace tkmprom

#endif  // TKMPROM_SRC_EXPOSITION_SNAPSHOT_EXPOSITION_H_
