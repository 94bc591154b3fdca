// Hostile-publisher benchmark (not a pass/fail test): what two floods of
// issue 13 cost the engine, measured in one process with a fake clock.
//   meson test -C <build> --benchmark engine_hostile_bench -v
//
// 1. 400,000 requests for one device and symbol, each superseding the last,
//    all within request_timeout: resident memory growth.
// 2. 6,000 heartbeats of distinct devices with distinct 4 KB firmware_version,
//    iv and flashID values, then the same with distinct 20-byte values:
//    resident memory growth, size of the 0.0.4 exposition, number of
//    tickrmeter_devices_online series and the longest label value in it.
//
// Resident memory is read from /proc/self/status (VmRSS) after malloc_trim,
// so freed memory is not counted; it is coarse (pages), and meant for
// before/after comparisons of the same build options.
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "src/engine/engine.h"
#include "src/exposition/text_writer.h"

namespace {

long RssKiB() {
  malloc_trim(0);
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

constexpr int64_t kStart = 1'000'000'000'000;

void Publish(tkmprom::Engine* engine, tkmprom::MessageKind kind, int64_t t, std::string_view topic,
             const std::string& payload) {
  tkmprom::Observation obs;
  obs.kind = kind;
  obs.timestamp_ns = t;
  obs.topic = topic;
  obs.payload = payload;
  obs.payload_size = static_cast<uint32_t>(payload.size());
  engine->Observe(obs);
}

void SupersedingFlood() {
  tkmprom::Config config;
  tkmprom::Engine engine(config);
  const std::string request = R"({"type":"UPDATE","device":"A1B2C3D4E5F6","symbol":"AAPL"})";
  Publish(&engine, tkmprom::MessageKind::kStockRequest, kStart, "STOCKPRICEUPDATE", request);
  const long before = RssKiB();
  constexpr int kRequests = 400'000;
  // 50 µs apart: 20 s in all, inside the 30 s request_timeout.
  for (int64_t i = 1; i <= kRequests; ++i) {
    Publish(&engine, tkmprom::MessageKind::kStockRequest, kStart + i * 50'000, "STOCKPRICEUPDATE",
            request);
  }
  const long after = RssKiB();
  std::printf("superseding flood: %d requests, RSS %ld -> %ld KiB (+%ld KiB)\n", kRequests, before,
              after, after - before);
}

void LabelFlood(size_t value_bytes) {
  tkmprom::Config config;
  tkmprom::Engine engine(config);
  tkmprom::PluginCounters plugin;
  const long before = RssKiB();
  constexpr int kHeartbeats = 6'000;
  for (int64_t i = 0; i < kHeartbeats; ++i) {
    char id[13];
    std::snprintf(id, sizeof(id), "%012X", static_cast<unsigned>(i + 1));
    std::string value = std::to_string(i) + "-";
    value.resize(value_bytes, 'v');
    const std::string hb = std::string(R"({"device":")") + id + R"(","firmware_version":"F)" +
                           value + R"(","iv":"I)" + value + R"(","flashID":"X)" + value +
                           R"(","battery":"87","uptime":"100"})";
    Publish(&engine, tkmprom::MessageKind::kHeartbeat, kStart + i * 1'000'000, "DEVICESTATUS_RES",
            hb);
  }
  const long after = RssKiB();
  std::string text;
  const auto snap = engine.BuildSnapshot(plugin);
  tkmprom::WriteExposition(CollectFamilies(*snap), tkmprom::ExpositionFormat::kText004, &text);
  size_t online_series = 0, longest = 0;
  for (const auto& f : CollectFamilies(*snap)) {
    if (f.name != "tickrmeter_devices_online") continue;
    online_series = f.samples.size();
    for (const auto& s : f.samples) {
      for (const auto& l : s.labels) longest = std::max(longest, l.value.size());
    }
  }
  double dropped = 0;
  for (const auto& f : CollectFamilies(*snap)) {
    if (f.name != "tickrmeter_tracking_dropped") continue;
    for (const auto& s : f.samples) {
      if (s.labels.size() == 1 && s.labels[0].value == "labels") dropped = s.value;
    }
  }
  std::printf(
      "label flood, %zu-byte values: %d heartbeats, RSS %ld -> %ld KiB (+%ld KiB), /metrics "
      "%zu bytes, %zu devices_online series, longest label value %zu bytes, "
      "tracking_dropped{table=\"labels\"} %.0f\n",
      value_bytes + 1, kHeartbeats, before, after, after - before, text.size(), online_series,
      longest, dropped);
}

}  // namespace

int main() {
  SupersedingFlood();
  LabelFlood(4095);
  LabelFlood(19);
  return 0;
}
