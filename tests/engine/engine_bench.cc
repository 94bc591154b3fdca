// Engine benchmark (not a pass/fail test): per-observation cost and
// BuildSnapshot() time at 8,000 devices x 2,000 symbols, and the cost of
// parsing one answer on a device topic (protocol reference §1.3 shapes).
//   meson test -C <build> --benchmark --suite engine -v
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "src/engine/engine.h"
#include "src/engine/payload_parser.h"
#include "src/exposition/snapshot_exposition.h"
#include "tests/engine/engine_workload.h"

namespace {

// ns per ParseDeviceMessage() of the protocol reference's two quote
// examples, alternating (the single-mode one carries symbolType).
double ParseAnswerNs() {
  using Clock = std::chrono::steady_clock;
  const std::string answers[2] = {
      R"({"symbol":"AAPL","price":"$229.97","p":229.97,"percent":"1 day +0.85%","perValue":0.85,"date":"03:45PM 12 Jan 2025","name":"Apple Inc.","currency":"$","isPlaylist":false,"type":"UPDATE","interval":"300","symbolType":1,"ledBrightness":100,"alertEnabled":false})",
      R"({"symbol":"BTC","price":"$97123","p":97123.41,"percent":"1 day -1.20%","perValue":-1.2,"date":"03:45PM 12 Jan 2025","name":"My list","currency":"$","isPlaylist":true,"isMusicCreatorPl":false,"type":"UPDATE","cycleInterval":"120","updateInterval":"120","symbols":"AAPL,BTC/USD,MSFT","symbolIndex":1,"cycleMode":"default","ledBrightness":50,"alertEnabled":false})"};
  tkmprom::PayloadParser parser;
  tkmprom::DeviceMessageFields fields;
  tkmprom::InvalidReason reason;
  constexpr int kRounds = 400'000;
  size_t sink = 0;
  const auto start = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    if (parser.ParseDeviceMessage(answers[i & 1], &fields, &reason)) sink += fields.symbol.size();
  }
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  if (sink == 0) std::printf("(no answer parsed)\n");
  return s * 1e9 / kRounds;
}

}  // namespace

int main() {
  using Clock = std::chrono::steady_clock;
  tkmprom::Config config;
  tkmprom::Engine engine(config);
  tkmprom::FleetWorkload fleet(/*devices=*/8000, /*symbols=*/2000, /*playlist=*/5);
  const int64_t kRound = 120'000'000'000;  // every device bursts every 2 minutes
  int64_t t = 1'000'000'000'000;
  long observed = 0;
  uint64_t round = 0;
  // Warm-up: every device, symbol and sub-window seen.
  for (; round < 4; ++round, t += kRound) {
    fleet.Round(&engine, t, kRound / 2, round);
    engine.Advance(t + kRound / 2 + 2'000'000'000);
  }
  const auto start = Clock::now();
  for (; round < 10; ++round, t += kRound) {
    observed += fleet.Round(&engine, t, kRound / 2, round);
    engine.Advance(t + kRound / 2 + 2'000'000'000);
  }
  const double observe_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("observe: %ld observations in %.3f s = %.0f ns each\n", observed, observe_s,
              observe_s * 1e9 / observed);

  std::printf("parse answer: %.0f ns each\n", ParseAnswerNs());

  tkmprom::PluginCounters plugin;
  std::vector<double> ms;
  size_t samples = 0;
  for (int i = 0; i < 15; ++i) {
    const auto s0 = Clock::now();
    auto snap = engine.BuildSnapshot(plugin);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s0).count());
    samples = 0;
    for (const auto& f : tkmprom::CollectFamilies(*snap)) samples += f.samples.size();
    if (i == 0) {
      std::printf("snapshot: %zu families, %zu samples, %zu symbols, %zu devices\n",
                  tkmprom::CollectFamilies(*snap).size(), samples, snap->symbols.size(),
                  snap->devices.size());
    }
  }
  std::sort(ms.begin(), ms.end());
  std::printf("BuildSnapshot: min %.2f ms, median %.2f ms, max %.2f ms\n", ms.front(),
              ms[ms.size() / 2], ms.back());
  return 0;
}
