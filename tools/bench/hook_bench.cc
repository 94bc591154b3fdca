// Micro-benchmark of the broker-side hook's work per publish: classify the
// topic, read the clock, count, copy into the shared ring. The consumer side
// is drained outside the timed region, so this is the producer's cost alone.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "src/common/monotonic_clock.h"
#include "src/ring/shared_region.h"
#include "tkmprom/config.h"
#include "tkmprom/topic.h"

namespace tkmprom {
namespace {

struct Publish {
  std::string client_id;
  std::string topic;
  std::string payload;
};

// The fleet mix's shapes (protocol reference §6.4): requests, answers,
// heartbeats, alerts.
std::vector<Publish> FleetMix() {
  const std::string id = "A1B2C3D4E5F6";
  return {
      {id, "STOCKPRICEUPDATE", R"({"type":"UPDATE","device":"A1B2C3D4E5F6"})"},
      {id, "STOCKPRICEUPDATE", R"({"type":"UPDATE","device":"A1B2C3D4E5F6","symbol":"BTC/USD"})"},
      {"mqttjs_3fa9c1d2", id,
       R"({"symbol":"BTC","price":"$97123","p":97123.41,"percent":"1 day -1.20%","perValue":-1.2,"date":"03:45PM 12 Jan 2025","name":"My list","currency":"$","isPlaylist":true,"isMusicCreatorPl":false,"type":"UPDATE","cycleInterval":"120","updateInterval":"120","symbols":"AAPL,BTC/USD,MSFT","symbolIndex":1,"cycleMode":"default","ledBrightness":50,"alertEnabled":false})"},
      {"mqttjs_3fa9c1d2", id,
       R"({"symbol":"AAPL","price":"$229.97","p":229.97,"percent":"1 day +0.85%","perValue":0.85,"date":"03:45PM 12 Jan 2025","name":"Apple Inc.","currency":"$","isPlaylist":false,"type":"UPDATE","interval":"300","symbolType":1,"ledBrightness":100,"alertEnabled":false})"},
      {id, "DEVICESTATUS_RES",
       R"({"status":"online","firmware_version":"70p","device":"A1B2C3D4E5F6","battery":"87","vin":"1830","uptime":"86400","isCharging":"0","wflct":"3","iv":"elec+HB", "xmc":"1", "flashID":"C84016"})"},
      {"mqttjs_77aa01", "ALERT/A1B2C3D4E5F6", R"({"type":"DISABLE"})"},
  };
}

void BM_HookPerPublish(benchmark::State& state) {
  std::string error;
  auto region = SharedRegion::Create(SharedRegion::kDefaultMessageRingBytes, &error);
  SpscRing producer = region->MessageRing();
  SpscRing consumer = region->MessageRing();
  const std::vector<Publish> mix = FleetMix();
  SharedCounters& counters = region->counters();
  size_t i = 0;
  uint64_t since_drain = 0;
  for (auto _ : state) {
    const Publish& p = mix[i];
    i = i + 1 == mix.size() ? 0 : i + 1;
    // The same steps as the plugin's OnMessage.
    const MessageKind kind = ClassifyTopic(p.topic, true);
    BumpSingleWriter(counters.received[static_cast<int>(kind)]);
    if (!WriteObservation(&producer, kind, MonotonicNanos(), p.client_id, p.topic, p.payload.data(),
                          static_cast<uint32_t>(p.payload.size()), KindNeedsPayload(kind))) {
      BumpSingleWriter(counters.dropped);
    }
    if (++since_drain == 4096) {
      state.PauseTiming();
      const char* data;
      uint32_t size;
      while (consumer.Peek(&data, &size)) consumer.Pop();
      since_drain = 0;
      state.ResumeTiming();
    }
  }
  state.counters["dropped"] = static_cast<double>(counters.dropped.load());
}
BENCHMARK(BM_HookPerPublish);

void BM_ClassifyTopic(benchmark::State& state) {
  const std::vector<Publish> mix = FleetMix();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ClassifyTopic(mix[i].topic, true));
    i = i + 1 == mix.size() ? 0 : i + 1;
  }
}
BENCHMARK(BM_ClassifyTopic);

// What plugin_opt_bridge_clients adds per publish (the recommended two
// entries; the hook skips it when the option is not set).
void BM_BridgeClientMatch(benchmark::State& state) {
  ClientIdSet bridges;
  bridges.Parse("bridge-*,core-link");
  std::vector<Publish> mix = FleetMix();
  mix.push_back({"bridge-edge1-local", "A1B2C3D4E5F6", ""});
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bridges.Matches(mix[i].client_id));
    i = i + 1 == mix.size() ? 0 : i + 1;
  }
}
BENCHMARK(BM_BridgeClientMatch);

void BM_MonotonicClock(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(MonotonicNanos());
}
BENCHMARK(BM_MonotonicClock);

}  // namespace
}  // namespace tkmprom

BENCHMARK_MAIN();
