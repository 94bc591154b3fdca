// libFuzzer harness for the message handler: a sequence of publishes, as the
// broker-side hook would hand them over, fed to Engine::Observe() on an
// advancing fake clock, with Advance() and BuildSnapshot() in between, and
// every snapshot rendered (both exposition formats, the JSON endpoints).
//
// Input format (so that seeds can be written by hand, see
// make_seed_corpus.py):
//   byte 0            configuration: bit 0 per_device_metrics, bit 1 tiny
//                     caps (max_devices and max_symbols 3, else 1000), bit 2 a custom
//                     device_id_pattern (so the regex path runs), bit 3
//                     bridge_clients set, bits 4-5 bridged_publishes
//                     (answers, all, none, answers)
//   then records      <control byte> <topic> '\t' <payload> '\n'
// Control byte: bits 0-2 pick how far the clock moves before the publish
// (kClockSteps), bit 3 calls Advance() one second later after it, bit 4
// builds and renders a snapshot after it, bit 5 marks the payload truncated
// (as the hook does beyond kMaxPayloadBytes), bit 6 marks it sent by a bridge
// client.
//
// The kind comes from ClassifyTopic(), as in the hook; topics and payloads
// are capped as the ring caps them. Besides crashes and sanitizer findings,
// the harness checks the contract's per-symbol ledger (plugin-contract.md §5):
// requests = responses + errors + timeouts + superseded + pending. It does so
// only without per_device_metrics: there the request and response counters
// carry device_id and leave the output with their device (after twice
// device_timeout), while timeouts and errors stay counted per symbol, so the
// sums over device_id cannot add up once a device has left.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "src/engine/engine.h"
#include "src/exposition/text_writer.h"
#include "src/http/api_json.h"
#include "src/ring/shared_region.h"
#include "tkmprom/config.h"
#include "tkmprom/topic.h"

namespace tkmprom {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kClockSteps[8] = {0,          1 * kMs,      50 * kMs,        1000 * kMs,
                                    7000 * kMs, 31'000 * kMs, 3'600'000 * kMs, 259'200'000 * kMs};
constexpr char kCustomPattern[] = "^[0-9A-Fa-f]{12}$";

Config MakeConfig(uint8_t selector) {
  Config config;
  config.per_device_metrics = (selector & 1) != 0;
  // The tables size themselves by the caps up front: the defaults (100,000
  // devices) would make every run mostly page faults. An input holds a few
  // hundred publishes at most, so 1,000 is as good as unbounded.
  config.max_devices = (selector & 2) != 0 ? 3 : 1000;
  config.max_symbols = (selector & 2) != 0 ? 3 : 1000;
  if ((selector & 4) != 0) config.device_id_pattern = kCustomPattern;
  if ((selector & 8) != 0) config.bridge_clients.Parse("bridge-*");
  constexpr BridgedPublishes kModes[4] = {BridgedPublishes::kAnswers, BridgedPublishes::kAll,
                                          BridgedPublishes::kNone, BridgedPublishes::kAnswers};
  config.bridged_publishes = kModes[(selector >> 4) & 3];
  return config;
}

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "engine_observe_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();
}

std::string_view LabelValue(const Sample& sample, std::string_view name) {
  for (const Label& label : sample.labels) {
    if (label.name == name) return label.value;
  }
  return {};
}

// requests = responses + errors + timeouts + superseded + pending, per symbol
// (summed over device_id when per-device series are on).
void CheckLedger(const Snapshot& snapshot) {
  std::map<std::string, double> balance;
  for (const MetricFamily& family : CollectFamilies(snapshot)) {
    double sign = 0;
    if (family.name == "tickrmeter_stock_update_requests") {
      sign = 1;
    } else if (family.name == "tickrmeter_stock_update_responses" ||
               family.name == "tickrmeter_stock_update_errors" ||
               family.name == "tickrmeter_symbol_timeout" ||
               family.name == "tickrmeter_stock_update_superseded" ||
               family.name == "tickrmeter_stock_update_pending") {
      sign = -1;
    } else {
      continue;
    }
    for (const Sample& sample : family.samples) {
      balance[std::string(LabelValue(sample, "symbol"))] += sign * sample.value;
    }
  }
  for (const auto& [symbol, value] : balance) {
    if (value != 0) Fail("per-symbol ledger does not add up", symbol);
  }
}

void BuildAndRender(const Engine& engine, bool check_ledger) {
  PluginCounters counters;
  counters.version = "fuzz";
  counters.mosquitto_version = "2.0.11";
  std::shared_ptr<const Snapshot> snapshot = engine.BuildSnapshot(counters);
  if (snapshot == nullptr) Fail("BuildSnapshot", "returned null");
  if (check_ledger) CheckLedger(*snapshot);
  std::string out;
  RenderExposition(*snapshot, ExpositionFormat::kText004, &out);
  RenderExposition(*snapshot, ExpositionFormat::kOpenMetrics100, &out);
  SlowestSymbolsJson(*snapshot, kMaxSlowestLimit, 0);
  for (const DeviceState& state : snapshot->devices) {
    if (!DeviceJson(*snapshot, state.device_id)) {
      Fail("DeviceJson", "a listed device is unknown: " + state.device_id);
    }
  }
}

}  // namespace
}  // namespace tkmprom

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tkmprom;
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const Config config = MakeConfig(static_cast<uint8_t>(input[0]));
  input.remove_prefix(1);
  Engine engine(config);
  const bool default_pattern = config.DefaultDevicePattern();
  int64_t clock_ns = 1'000'000'000;  // broker monotonic clocks do not start at 0

  while (!input.empty()) {
    const uint8_t control = static_cast<uint8_t>(input[0]);
    input.remove_prefix(1);
    size_t line_end = input.find('\n');
    std::string_view record = input.substr(0, line_end);
    input.remove_prefix(line_end == std::string_view::npos ? input.size() : line_end + 1);
    const size_t tab = record.find('\t');
    std::string_view topic = record.substr(0, tab);
    std::string_view payload =
        tab == std::string_view::npos ? std::string_view() : record.substr(tab + 1);

    Observation obs;
    obs.topic = topic.substr(0, kMaxTopicBytes);
    obs.kind = ClassifyTopic(obs.topic, default_pattern);
    obs.bridged = (control & 0x40) != 0;
    obs.client_id = obs.bridged ? "bridge-fuzz" : "fuzz-client";
    obs.payload_size = static_cast<uint32_t>(payload.size());
    obs.payload_truncated = (control & 0x20) != 0 || payload.size() > kMaxPayloadBytes;
    if ((control & 0x20) != 0) obs.payload_size += kMaxPayloadBytes;
    obs.payload = payload.substr(0, kMaxPayloadBytes);
    clock_ns += kClockSteps[control & 7];
    obs.timestamp_ns = clock_ns;
    engine.Observe(obs);

    if ((control & 0x08) != 0) {
      clock_ns += 1000 * kMs;
      engine.Advance(clock_ns);
    }
    if ((control & 0x10) != 0) BuildAndRender(engine, !config.per_device_metrics);
  }
  BuildAndRender(engine, !config.per_device_metrics);
  // Everything times out and ages out.
  engine.Advance(clock_ns + kClockSteps[7] * 400);
  BuildAndRender(engine, !config.per_device_metrics);
  return 0;
}
