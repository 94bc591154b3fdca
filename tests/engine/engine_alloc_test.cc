// The steady-state per-message path does not allocate: after a warm-up that
// has seen every device and symbol and filled every sub-window, Observe()
// and Advance() make no heap allocation (counted by replacing operator new
// in this test binary).
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>

#include "src/engine/engine.h"
#include "tests/alloc_counter.h"
#include "tests/engine/engine_workload.h"

namespace tkmprom {
namespace {

TEST(EngineAllocTest, CounterSeesAllocations) {
  g_allocations = 0;
  g_counting = true;
  auto* p = new std::string(100, 'x');
  g_counting = false;
  delete p;
  EXPECT_EQ(g_allocations, 2);  // the string object and its buffer
}

TEST(EngineAllocTest, SteadyStateObserveDoesNotAllocate) {
  Config c;
  Engine engine(c);
  FleetWorkload fleet(/*devices=*/60, /*symbols=*/40, /*playlist=*/5);
  const int64_t kRound = 60'000'000'000;
  int64_t t = 1'000'000'000'000;
  uint64_t round = 0;
  // Warm-up: 12 minutes, more than quantile_window + a sub-window.
  for (; round < 12; ++round, t += kRound) {
    fleet.Round(&engine, t, kRound / 2, round);
    engine.Advance(t + kRound / 2 + 2'000'000'000);
  }
  long observed = 0;
  g_allocations = 0;
  for (; round < 18; ++round, t += kRound) {
    g_counting = true;
    observed += fleet.Round(&engine, t, kRound / 2, round);
    for (int64_t a = t + kRound / 2; a < t + kRound; a += 50'000'000) engine.Advance(a);
    g_counting = false;
  }
  EXPECT_GT(observed, 2000);
  EXPECT_EQ(g_allocations, 0) << "allocations in " << observed << " observations";
  // And the engine really worked on them.
  PluginCounters p;
  auto snap = engine.BuildSnapshot(p);
  EXPECT_EQ(snap->devices.size(), 60u);
  EXPECT_GT(snap->symbols.size(), 30u);
}

// Issue 13: every request used to leave a deadline entry until its deadline,
// superseded or not, so a flood of superseding requests grew the queue (by
// doubling) without bound. Now the flood costs nothing once warm.
TEST(EngineAllocTest, SupersedingRequestFloodDoesNotAllocate) {
  Config c;
  c.max_devices = 16;
  Engine engine(c);
  const std::string request = R"({"type":"UPDATE","device":"A1B2C3D4E5F6","symbol":"AAPL"})";
  Observation obs;
  obs.kind = MessageKind::kStockRequest;
  obs.topic = "STOCKPRICEUPDATE";
  obs.payload = request;
  obs.payload_size = static_cast<uint32_t>(request.size());
  int64_t t = 1'000'000'000'000;
  for (int i = 0; i < 1000; ++i, t += 50'000) {
    obs.timestamp_ns = t;
    engine.Observe(obs);
  }
  g_allocations = 0;
  g_counting = true;
  // 400,000 more, 50 µs apart: 20 s, within request_timeout.
  for (int i = 0; i < 400'000; ++i, t += 50'000) {
    obs.timestamp_ns = t;
    engine.Observe(obs);
  }
  g_counting = false;
  EXPECT_EQ(g_allocations, 0);
  PluginCounters p;
  auto snap = engine.BuildSnapshot(p);
  EXPECT_EQ(snap->FindDevice("A1B2C3D4E5F6")->requests, 401'000u);
  EXPECT_EQ(snap->FindDevice("A1B2C3D4E5F6")->pending, 1u);
}

}  // namespace
}  // namespace tkmprom
