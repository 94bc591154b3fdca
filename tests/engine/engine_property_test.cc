// Randomized property test: long seeded interleavings of requests, answers of
// every shape, duplicates, reorderings, heartbeats, boots and clock jumps.
// After every step, for every symbol,
//   requests = responses + errors + timeouts + superseded + pending,
// the pending gauges add up to the devices' pending requests, the histogram
// count equals the responses, and no table exceeds its cap.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/engine/engine_harness.h"

namespace tkmprom {
namespace {

struct SymbolLedger {
  double requests = 0, responses = 0, errors = 0, timeouts = 0, superseded = 0, pending = 0,
         hist_count = 0;
};

std::map<std::string, SymbolLedger> Ledgers(const Snapshot& s) {
  std::map<std::string, SymbolLedger> out;
  for (const MetricFamily& f : s.families) {
    for (const Sample& sample : f.samples) {
      if (sample.labels.empty() || sample.labels[0].name != "symbol") continue;
      SymbolLedger& l = out[sample.labels[0].value];
      const std::string n = f.name + sample.suffix;
      if (n == "tickrmeter_stock_update_requests_total") l.requests += sample.value;
      if (n == "tickrmeter_stock_update_responses_total") l.responses += sample.value;
      if (n == "tickrmeter_stock_update_errors_total") l.errors += sample.value;
      if (n == "tickrmeter_symbol_timeout_total") l.timeouts += sample.value;
      if (n == "tickrmeter_stock_update_superseded_total") l.superseded += sample.value;
      if (n == "tickrmeter_stock_update_pending") l.pending += sample.value;
      if (n == "tickrmeter_stock_update_latency_seconds_count") l.hist_count += sample.value;
    }
  }
  return out;
}

void RunRandom(uint64_t seed, int steps) {
  Config c;
  c.request_timeout_s = 2;
  c.device_timeout_s = 20;
  c.symbol_expiry_s = 30;
  c.max_devices = 5;
  c.max_symbols = 6;
  EngineHarness h(c);
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };

  const std::vector<std::string> devices = {"A1B2C3D4E5F6", "0123456789AB", "FFFFFFFFFFFF",
                                            "000000000001", "000000000002", "000000000003",
                                            "00000000000A"};
  const std::vector<std::string> symbols = {"AAPL", "BTC/USD", "ETH/EUR", "MSFT",    "XAUUSD",
                                            "XAU",  "A",       "TSLA",    "BTC/EUR", "IBM"};
  const std::string csv = "AAPL,BTC/USD,MSFT,ETH/EUR";
  int64_t now_ms = 0;
  std::string last_answer, last_device = devices[0];

  for (int step = 0; step < steps; ++step) {
    // Time: mostly small steps, sometimes a jump; sometimes an observation
    // stamped a little before the engine's clock.
    const int r = pick(100);
    if (r < 70) {
      now_ms += pick(400);
    } else if (r < 97) {
      now_ms += 1000 + pick(3000);
    } else {
      now_ms += 10'000 + pick(60'000);
    }
    const int64_t t = now_ms - (pick(10) == 0 ? pick(100) : 0);
    const std::string& dev = devices[pick(static_cast<int>(devices.size()))];
    const std::string& sym = symbols[pick(static_cast<int>(symbols.size()))];
    switch (pick(14)) {
      case 0:
      case 1:
      case 2:
        h.Request(t, dev, pick(3) == 0 ? "" : sym);
        break;
      case 3:
        last_answer = SingleQuote(pick(2) ? "UPDATE" : "NEW", sym);
        h.Answer(t, dev, last_answer);
        last_device = dev;
        break;
      case 4:
      case 5:
        last_answer =
            PlaylistQuote(pick(4) ? "UPDATE" : "NEW", sym, pick(5) ? csv : "", pick(6) - 1);
        h.Answer(t, dev, last_answer);
        last_device = dev;
        break;
      case 6:
        last_answer = pick(2) ? kPageReply : kPageError;
        h.Answer(t, dev, last_answer);
        last_device = dev;
        break;
      case 7:
        last_answer = pick(2) ? kNoConfig : kNotFound;
        h.Answer(t, dev, last_answer);
        last_device = dev;
        break;
      case 8:
      case 9:
        if (!last_answer.empty()) h.Answer(t, last_device, last_answer);  // duplicate / reorder
        break;
      case 10:
        h.Heartbeat(t, R"({"device":")" + dev + R"(","battery":")" + std::to_string(pick(101)) +
                           R"(","uptime":)" + std::to_string(pick(5'000'000)) + "}");
        break;
      case 11:
        h.Boot(t, dev);
        break;
      case 12:
        h.Answer(t, dev, pick(2) ? kDeviceReg : "{\"broken\":");
        break;
      default:
        h.Advance(now_ms);
        break;
    }

    const auto snap = h.Snap();
    const auto ledgers = Ledgers(*snap);
    double pending_sum = 0;
    size_t real_symbols = 0;
    for (const auto& [name, l] : ledgers) {
      ASSERT_EQ(l.requests, l.responses + l.errors + l.timeouts + l.superseded + l.pending)
          << "seed " << seed << " step " << step << " symbol " << name;
      ASSERT_GE(l.pending, 0);
      ASSERT_EQ(l.hist_count, l.responses) << "seed " << seed << " step " << step;
      pending_sum += l.pending;
      if (name != "unknown" && name != "_page" && name != "_other") ++real_symbols;
    }
    double device_pending = 0;
    for (const auto& [id, d] : snap->devices) device_pending += d.pending;
    ASSERT_EQ(pending_sum, device_pending) << "seed " << seed << " step " << step;
    ASSERT_LE(snap->devices.size(), c.max_devices);
    ASSERT_LE(real_symbols, c.max_symbols);
    ASSERT_EQ(snap->symbols.size(), ledgers.size());
  }
  // The run exercised the interesting paths.
  EXPECT_GT(h.V("tickrmeter_tracking_dropped_total", {{"table", "devices"}}), 0);
  EXPECT_GT(h.V("tickrmeter_tracking_dropped_total", {{"table", "symbols"}}), 0);
  for (const char* reason : {"late", "duplicate", "unsolicited"}) {
    EXPECT_GT(h.V("tickrmeter_stock_update_unmatched_responses_total", {{"reason", reason}}), 0)
        << reason;
  }
}

TEST(EnginePropertyTest, LedgerHoldsAfterEveryStep) {
  for (uint64_t seed : {1u, 2u, 3u, 42u}) {
    RunRandom(seed, 8000);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace tkmprom
