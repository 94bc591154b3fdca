// Engine benchmark (not a pass/fail test): per-observation cost and
// BuildSnapshot() time at 8,000 devices x 2,000 symbols.
//   meson test -C <build> --benchmark --suite engine -v
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "src/engine/engine.h"
#include "tests/engine/engine_workload.h"

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

  tkmprom::PluginCounters plugin;
  std::vector<double> ms;
  size_t samples = 0;
  for (int i = 0; i < 15; ++i) {
    const auto s0 = Clock::now();
    auto snap = engine.BuildSnapshot(plugin);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s0).count());
    samples = 0;
    for (const auto& f : snap->families) samples += f.samples.size();
    if (i == 0) {
      std::printf("snapshot: %zu families, %zu samples, %zu symbols, %zu devices\n",
                  snap->families.size(), samples, snap->symbols.size(), snap->devices.size());
    }
  }
  std::sort(ms.begin(), ms.end());
  std::printf("BuildSnapshot: min %.2f ms, median %.2f ms, max %.2f ms\n", ms.front(),
              ms[ms.size() / 2], ms.back());
  return 0;
}
