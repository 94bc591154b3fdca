#include "src/exposition/snapshot_exposition.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace tkmprom {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A bound's label value, formatted in place: the shortest decimal form that
// reads back exactly ("0.1", "60", "2592000"), or "+Inf".
class BoundText {
 public:
  BoundText() = default;
  explicit BoundText(double v) { Set(v); }
  explicit BoundText(int v) { size_ = std::to_chars(buf_, buf_ + sizeof(buf_), v).ptr - buf_; }

  void Set(double v) {
    if (std::isinf(v)) {
      std::memcpy(buf_, "+Inf", 4);
      size_ = 4;
      return;
    }
    const std::to_chars_result r = std::to_chars(buf_, buf_ + sizeof(buf_), v);
    if (r.ec != std::errc()) {
      buf_[0] = '0';
      size_ = 1;
      return;
    }
    size_ = r.ptr - buf_;
  }
  std::string_view view() const { return {buf_, size_}; }

 private:
  char buf_[32];  // a shortest double takes at most 24
  size_t size_ = 0;
};

double Count(uint64_t n) { return static_cast<double>(n); }

// The `le` label values of a latency histogram, "+Inf" last, formatted once
// per render. Held in place up to the 64 finite bounds the configuration
// allows, so that a render allocates nothing for them.
class BucketBounds {
 public:
  explicit BucketBounds(const std::vector<double>& bounds) : size_(bounds.size() + 1) {
    if (size_ > kInline) heap_.resize(size_);
    BoundText* texts = data();
    for (size_t i = 0; i < bounds.size(); ++i) texts[i].Set(bounds[i]);
    texts[bounds.size()].Set(std::numeric_limits<double>::infinity());
  }
  BucketBounds(const BucketBounds&) = delete;
  BucketBounds& operator=(const BucketBounds&) = delete;

  size_t size() const { return size_; }
  std::string_view operator[](size_t i) const { return data()[i].view(); }

 private:
  static constexpr size_t kInline = 65;

  BoundText* data() { return size_ > kInline ? heap_.data() : inline_.data(); }
  const BoundText* data() const { return size_ > kInline ? heap_.data() : inline_.data(); }

  size_t size_;
  std::array<BoundText, kInline> inline_;
  std::vector<BoundText> heap_;
};

// One labelled histogram: cumulative _bucket series, _sum and _count.
void Histogram(MetricSink* sink, std::string_view label, std::string_view value,
               const BucketBounds& bounds, const std::vector<uint64_t>& buckets, double sum,
               uint64_t count) {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < buckets.size() && i < bounds.size(); ++i) {
    cumulative += buckets[i];
    sink->Sample("_bucket", {{label, value}, {"le", bounds[i]}}, Count(cumulative));
  }
  sink->Sample("_sum", {{label, value}}, sum);
  sink->Sample("_count", {{label, value}}, Count(count));
}

void EmitSymbols(const Snapshot& s, const BucketBounds& bounds, MetricSink* sink) {
  const auto& symbols = s.symbols;
  sink->Family("tickrmeter_stock_update_requests", MetricType::kCounter,
               "Stock update requests seen on STOCKPRICEUPDATE, by requested symbol "
               "(symbol-less requests under the symbol the device learned).");
  if (s.per_device_metrics) {
    for (const DeviceSymbolTotals& d : s.device_symbols) {
      sink->Sample("_total", {{"symbol", symbols[d.symbol].symbol}, {"device_id", d.device_id}},
                   Count(d.requests));
    }
  } else {
    for (const SymbolWindow& w : symbols) {
      sink->Sample("_total", {{"symbol", w.symbol}}, Count(w.total_requests));
    }
  }
  sink->Family("tickrmeter_stock_update_responses", MetricType::kCounter,
               "Stock update requests answered by a quote on the device topic.");
  if (s.per_device_metrics) {
    for (const DeviceSymbolTotals& d : s.device_symbols) {
      sink->Sample("_total", {{"symbol", symbols[d.symbol].symbol}, {"device_id", d.device_id}},
                   Count(d.responses));
    }
  } else {
    for (const SymbolWindow& w : symbols) {
      sink->Sample("_total", {{"symbol", w.symbol}}, Count(w.responses));
    }
  }
  sink->Family("tickrmeter_stock_update_errors", MetricType::kCounter,
               "Stock update requests answered by an error reply (NO_CONFIG, "
               "Device Not Found, INVALID_FORMAT, page error, STOCK_ERROR).");
  for (const SymbolWindow& w : symbols) {
    sink->Sample("_total", {{"symbol", w.symbol}}, Count(w.errors));
  }
  sink->Family("tickrmeter_symbol_timeout", MetricType::kCounter,
               "Stock update requests unanswered after request_timeout.");
  for (const SymbolWindow& w : symbols) {
    sink->Sample("_total", {{"symbol", w.symbol}}, Count(w.timeouts));
  }
  sink->Family("tickrmeter_stock_update_superseded", MetricType::kCounter,
               "Stock update requests replaced by a newer request for the same device and symbol "
               "before any answer.");
  for (const SymbolWindow& w : symbols) {
    sink->Sample("_total", {{"symbol", w.symbol}}, Count(w.superseded));
  }
  sink->Family("tickrmeter_stock_update_pending", MetricType::kGauge,
               "Stock update requests waiting for an answer now.");
  for (const SymbolWindow& w : symbols) sink->Sample("", {{"symbol", w.symbol}}, Count(w.pending));
  sink->Family("tickrmeter_stock_update_latency_seconds", MetricType::kHistogram,
               "Request to answer time of answered stock update requests, as the broker saw both.");
  for (const SymbolWindow& w : symbols) {
    Histogram(sink, "symbol", w.symbol, bounds, w.latency_buckets, w.latency_sum, w.responses);
  }
  sink->Family("tickrmeter_symbol_avg_latency_seconds", MetricType::kGauge,
               "Mean latency of the answers in the last quantile_window (NaN when "
               "none).");
  for (const SymbolWindow& w : symbols) {
    sink->Sample("", {{"symbol", w.symbol}}, w.window_answers == 0 ? kNaN : w.avg_latency_s);
  }
  sink->Family("tickrmeter_symbol_latency_seconds", MetricType::kSummary,
               "Latency quantiles (nearest rank, within 1 %) of the answers in the last "
               "quantile_window (NaN when none); _sum and _count cover all answers since start.");
  static const char* const kQuantileNames[4] = {"0.5", "0.9", "0.95", "0.99"};
  for (const SymbolWindow& w : symbols) {
    for (int q = 0; q < 4; ++q) {
      sink->Sample("", {{"symbol", w.symbol}, {"quantile", kQuantileNames[q]}},
                   w.window_answers == 0 ? kNaN : w.quantiles[q]);
    }
    sink->Sample("_sum", {{"symbol", w.symbol}}, w.latency_sum);
    sink->Sample("_count", {{"symbol", w.symbol}}, Count(w.responses));
  }
  sink->Family("tickrmeter_stock_update_unmatched_responses", MetricType::kCounter,
               "Answers that resolved no pending request: late (its request timed out), duplicate "
               "(its request was already answered) or unsolicited.");
  for (const LabelledCount& c : s.plugin.unmatched) {
    sink->Sample("_total", {{"reason", c.label}}, Count(c.value));
  }
}

// The tickrmeter_backend_* families (§7.5).
void EmitBackends(const Snapshot& s, const BucketBounds& bounds, MetricSink* sink) {
  struct Column {
    const char* name;
    MetricType type;
    const char* help;
    uint64_t BackendTotals::*value;
  };
  static const Column kColumns[] = {
      {"tickrmeter_backend_requests", MetricType::kCounter,
       "Stock update requests by quote backend: the backend of the requested symbol's last "
       "answer that named one (symbolType; page for page replies) when the request was "
       "counted, unknown before. Symbols folded into _other count under their own backend.",
       &BackendTotals::requests},
      {"tickrmeter_backend_responses", MetricType::kCounter,
       "Requests answered by a quote, by the backend they were counted "
       "under.",
       &BackendTotals::responses},
      {"tickrmeter_backend_errors", MetricType::kCounter,
       "Requests answered by an error reply, by the backend they were "
       "counted under.",
       &BackendTotals::errors},
      {"tickrmeter_backend_timeouts", MetricType::kCounter,
       "Requests unanswered after request_timeout, by the backend they "
       "were counted under.",
       &BackendTotals::timeouts},
      {"tickrmeter_backend_superseded", MetricType::kCounter,
       "Requests replaced by a newer request for the same device and symbol before any "
       "answer, by the backend they were counted under.",
       &BackendTotals::superseded},
      {"tickrmeter_backend_pending", MetricType::kGauge,
       "Requests waiting for an answer now, by the backend they were "
       "counted under.",
       &BackendTotals::pending},
  };
  for (const Column& c : kColumns) {
    sink->Family(c.name, c.type, c.help);
    const char* suffix = c.type == MetricType::kCounter ? "_total" : "";
    for (const BackendTotals& b : s.backends) {
      sink->Sample(suffix, {{"backend", b.backend}}, Count(b.*c.value));
    }
  }
  sink->Family("tickrmeter_backend_latency_seconds", MetricType::kHistogram,
               "Request to answer time of answered requests, as the broker saw "
               "both, by the backend they were counted under.");
  for (const BackendTotals& b : s.backends) {
    Histogram(sink, "backend", b.backend, bounds, b.latency_buckets, b.latency_sum, b.responses);
  }
}

void EmitPerDevice(const Snapshot& s, MetricSink* sink) {
  struct Gauge {
    const char* name;
    const char* help;
    int64_t DeviceState::*value;
  };
  static const Gauge kGauges[] = {
      {"tickrmeter_device_battery_level", "Battery percentage (0-100) of the last heartbeat.",
       &DeviceState::battery},
      {"tickrmeter_device_uptime_seconds", "Uptime reported by the last heartbeat.",
       &DeviceState::uptime_s},
      {"tickrmeter_device_vin_level", "Raw 12-bit ADC supply reading of the last heartbeat.",
       &DeviceState::vin},
      {"tickrmeter_device_wifi_disconnects",
       "WiFi disconnect events since boot (wflct/wflc/wlc) of the last heartbeat.",
       &DeviceState::wifi_disconnects},
      {"tickrmeter_device_charging", "1 if the last heartbeat reported isCharging 1.",
       &DeviceState::charging},
  };
  for (const Gauge& g : kGauges) {
    sink->Family(g.name, MetricType::kGauge, g.help);
    for (const DeviceState& d : s.devices) {
      if (d.*g.value >= 0) sink->Sample("", {{"device_id", d.device_id}}, Count(d.*g.value));
    }
  }
  sink->Family("tickrmeter_device_last_seen_timestamp_seconds", MetricType::kGauge,
               "Unix time of the device's last heartbeat, boot or request.");
  for (const DeviceState& d : s.devices) {
    sink->Sample("", {{"device_id", d.device_id}}, s.wall_clock_s - d.last_seen_age_s);
  }
}

void EmitFleet(const Snapshot& s, MetricSink* sink) {
  const FleetTotals& f = s.fleet;
  sink->Family("tickrmeter_devices_online", MetricType::kGauge,
               "Online devices (heartbeat, boot or request younger than device_timeout), by the "
               "labels of their last heartbeat (unknown when missing, _invalid when longer than 32 "
               "bytes or not printable ASCII, _other beyond 256 values per label or 1000 "
               "combinations).");
  for (const OnlineCombination& c : f.online) {
    sink->Sample("",
                 {{"firmware_version", c.firmware_version},
                  {"inner_version", c.inner_version},
                  {"flash_id", c.flash_id}},
                 Count(c.devices));
  }
  sink->Family("tickrmeter_devices_tracked", MetricType::kGauge, "Devices held in memory.");
  sink->Sample("", {}, Count(f.tracked));
  sink->Family("tickrmeter_devices_charging", MetricType::kGauge,
               "Online devices whose last heartbeat reported isCharging 1.");
  sink->Sample("", {}, Count(f.charging));
  sink->Family("tickrmeter_device_boots", MetricType::kCounter,
               "Device boots, each counted once (boot announcement resends, "
               "DEVICE_BOOTED echoes excluded; uptime drops included), by the "
               "firmware_version of the device's last heartbeat.");
  for (const auto& [fw, n] : f.boots_by_firmware) {
    sink->Sample("_total", {{"firmware_version", fw}}, Count(n));
  }
  sink->Family("tickrmeter_devices_battery_level", MetricType::kGauge,
               "Online devices whose last reported battery percentage is <= upper_bound (current "
               "fleet, cumulative like histogram buckets).");
  for (int i = 0; i < 6; ++i) {
    const BoundText bound(FleetTotals::kBatteryBounds[i]);
    sink->Sample("", {{"upper_bound", bound.view()}}, Count(f.battery_le[i]));
  }
  sink->Family("tickrmeter_devices_uptime_seconds", MetricType::kGauge,
               "Online devices whose last reported uptime is <= upper_bound seconds (current "
               "fleet, cumulative like histogram buckets).");
  for (int i = 0; i < 5; ++i) {
    const BoundText bound(FleetTotals::kUptimeBounds[i]);
    sink->Sample("", {{"upper_bound", bound.view()}}, Count(f.uptime_le[i]));
  }
  if (s.per_device_metrics) EmitPerDevice(s, sink);
}

void EmitPlugin(const Snapshot& s, MetricSink* sink) {
  const PluginTotals& p = s.plugin;
  sink->Family("tickrmeter_messages", MetricType::kCounter,
               "Publishes the broker received from its own clients, by kind (publishes from "
               "bridge_clients are in tickrmeter_messages_bridged_total).");
  for (const LabelledCount& c : p.messages) {
    sink->Sample("_total", {{"kind", c.label}}, Count(c.value));
  }
  sink->Family("tickrmeter_messages_bridged", MetricType::kCounter,
               "Publishes the broker received over a bridge (from a client of "
               "bridge_clients), by kind; counted in tickrmeter_messages_total by the broker "
               "where they entered the fleet.");
  for (const LabelledCount& c : p.messages_bridged) {
    sink->Sample("_total", {{"kind", c.label}}, Count(c.value));
  }
  sink->Family("tickrmeter_messages_invalid", MetricType::kCounter,
               "TickrMeter messages that could not be used, by kind and reason (json: not a JSON "
               "object; field: missing or mistyped field; device: device id not matching "
               "device_id_pattern; truncated: payload cut by the hook).");
  for (const InvalidCount& c : p.invalid) {
    sink->Sample("_total", {{"kind", c.kind}, {"reason", c.reason}}, Count(c.value));
  }
  sink->Family("tickrmeter_tracking_dropped", MetricType::kCounter,
               "Entries not stored because a cap was reached (devices: "
               "max_devices; symbols: max_symbols, folded into _other; pending: "
               "request slots per device; labels: device label values beyond "
               "256 per label or combinations beyond 1000, folded into _other, "
               "once per device and new value; backends: backends of symbols "
               "outside the symbol table forgotten beyond 16384 names).");
  for (const LabelledCount& c : p.tracking_dropped) {
    sink->Sample("_total", {{"table", c.label}}, Count(c.value));
  }
  sink->Family("tickrmeter_observations_dropped", MetricType::kCounter,
               "Publishes the broker could not hand to the companion (ring full, companion down).");
  sink->Sample("_total", {}, Count(p.observations_dropped));
  sink->Family("tickrmeter_companion_restarts", MetricType::kCounter,
               "Times the companion was replaced, by reason: exit (it exited), signal (it was "
               "killed), hung (its engine made no progress for 10 s while observations waited).");
  for (const LabelledCount& c : p.companion_restarts) {
    sink->Sample("_total", {{"reason", c.label}}, Count(c.value));
  }
  sink->Family("tickrmeter_build_info", MetricType::kGauge, "Build information; always 1.");
  sink->Sample("", {{"version", p.version}, {"mosquitto_version", p.mosquitto_version}}, 1);
}

// Collects into MetricFamily values.
class CollectingSink : public MetricSink {
 public:
  explicit CollectingSink(std::vector<MetricFamily>* out) : out_(out) {}
  void Family(std::string_view name, MetricType type, std::string_view help) override {
    MetricFamily& f = out_->emplace_back();
    f.name = std::string(name);
    f.type = type;
    f.help = std::string(help);
  }
  using MetricSink::Sample;
  void Sample(std::string_view suffix, const LabelRef* labels, size_t label_count,
              double value) override {
    tkmprom::Sample& s = out_->back().samples.emplace_back();
    s.suffix = std::string(suffix);
    for (size_t i = 0; i < label_count; ++i) {
      s.labels.push_back({std::string(labels[i].name), std::string(labels[i].value)});
    }
    s.value = value;
  }

 private:
  std::vector<MetricFamily>* out_;
};

}  // namespace

void EmitFamilies(const std::vector<MetricFamily>& families, MetricSink* sink) {
  std::vector<LabelRef> refs;
  for (const MetricFamily& f : families) {
    sink->Family(f.name, f.type, f.help);
    for (const tkmprom::Sample& s : f.samples) {
      refs.clear();
      for (const Label& l : s.labels) refs.push_back({l.name, l.value});
      sink->Sample(s.suffix, refs.data(), refs.size(), s.value);
    }
  }
}

void EmitSnapshot(const Snapshot& snapshot, MetricSink* sink) {
  if (snapshot.from_engine) {
    const BucketBounds bounds(snapshot.latency_bounds);
    EmitSymbols(snapshot, bounds, sink);
    EmitBackends(snapshot, bounds, sink);
    EmitFleet(snapshot, sink);
    EmitPlugin(snapshot, sink);
  }
  EmitFamilies(snapshot.families, sink);
}

std::vector<MetricFamily> CollectFamilies(const Snapshot& snapshot) {
  std::vector<MetricFamily> out;
  CollectingSink sink(&out);
  EmitSnapshot(snapshot, &sink);
  return out;
}

}  // namespace tkmprom
