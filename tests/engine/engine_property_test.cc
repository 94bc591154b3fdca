// Randomized property test: long seeded interleavings of requests, answers of
// every shape (with and without symbolType), duplicates, reorderings,
// heartbeats, boots and clock jumps. After every step, for every symbol and
// for every quote backend (§7.5),
//   requests = responses + errors + timeouts + superseded + pending,
// the pending gauges add up to the devices' pending requests, the histogram
// count equals the responses, and no table exceeds its cap. The sums over
// backends equal the sums over symbols (pending always; the counters too
// while no symbol expired, else they are at least the symbols' sums, since
// an expired symbol's counts leave the per-symbol output only).
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

std::map<std::string, SymbolLedger> Ledgers(const std::vector<MetricFamily>& families) {
  std::map<std::string, SymbolLedger> out;
  for (const MetricFamily& f : families) {
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

// The same ledger per `backend` label, from the tickrmeter_backend_* families.
std::map<std::string, SymbolLedger> BackendLedgers(const std::vector<MetricFamily>& families) {
  std::map<std::string, SymbolLedger> out;
  for (const MetricFamily& f : families) {
    for (const Sample& sample : f.samples) {
      if (sample.labels.empty() || sample.labels[0].name != "backend") continue;
      SymbolLedger& l = out[sample.labels[0].value];
      const std::string n = f.name + sample.suffix;
      if (n == "tickrmeter_backend_requests_total") l.requests += sample.value;
      if (n == "tickrmeter_backend_responses_total") l.responses += sample.value;
      if (n == "tickrmeter_backend_errors_total") l.errors += sample.value;
      if (n == "tickrmeter_backend_timeouts_total") l.timeouts += sample.value;
      if (n == "tickrmeter_backend_superseded_total") l.superseded += sample.value;
      if (n == "tickrmeter_backend_pending") l.pending += sample.value;
      if (n == "tickrmeter_backend_latency_seconds_count") l.hist_count += sample.value;
    }
  }
  return out;
}

SymbolLedger Sum(const std::map<std::string, SymbolLedger>& ledgers) {
  SymbolLedger t;
  for (const auto& [name, l] : ledgers) {
    t.requests += l.requests;
    t.responses += l.responses;
    t.errors += l.errors;
    t.timeouts += l.timeouts;
    t.superseded += l.superseded;
    t.pending += l.pending;
    t.hist_count += l.hist_count;
  }
  return t;
}

// `symbol_expiry_s` short: symbols expire during the run; long: none does,
// and the backends' sums must equal the symbols' exactly.
void RunRandom(uint64_t seed, int steps, double symbol_expiry_s = 30) {
  const bool expiring = symbol_expiry_s < 1e6;
  Config c;
  c.request_timeout_s = 2;
  c.device_timeout_s = 20;
  c.symbol_expiry_s = symbol_expiry_s;
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
  // symbolType as answers carry it: absent, numbers, strings, out of range, null.
  const std::vector<std::string> symbol_types = {"", "1", "2", "\"3\"", "6", "12", "99", "null"};
  auto typed = [&](const std::string& payload) {
    const std::string& t = symbol_types[pick(static_cast<int>(symbol_types.size()))];
    return t.empty() ? payload : WithSymbolType(payload, t);
  };
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
        last_answer = typed(SingleQuote(pick(2) ? "UPDATE" : "NEW", sym, ""));
        h.Answer(t, dev, last_answer);
        last_device = dev;
        break;
      case 4:
      case 5:
        last_answer =
            typed(PlaylistQuote(pick(4) ? "UPDATE" : "NEW", sym, pick(5) ? csv : "", pick(6) - 1));
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
    const auto ledgers = Ledgers(h.families());
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
    for (const auto& d : snap->devices) device_pending += d.pending;
    ASSERT_EQ(pending_sum, device_pending) << "seed " << seed << " step " << step;
    ASSERT_LE(snap->devices.size(), c.max_devices);
    ASSERT_LE(real_symbols, c.max_symbols);
    ASSERT_EQ(snap->symbols.size(), ledgers.size());

    const auto backends = BackendLedgers(h.families());
    ASSERT_EQ(backends.size(), 14u) << "seed " << seed << " step " << step;
    for (const auto& [name, l] : backends) {
      ASSERT_EQ(l.requests, l.responses + l.errors + l.timeouts + l.superseded + l.pending)
          << "seed " << seed << " step " << step << " backend " << name;
      ASSERT_EQ(l.hist_count, l.responses) << "seed " << seed << " step " << step;
    }
    const SymbolLedger by_symbol = Sum(ledgers);
    const SymbolLedger by_backend = Sum(backends);
    ASSERT_EQ(by_backend.pending, by_symbol.pending) << "seed " << seed << " step " << step;
    if (expiring) {
      ASSERT_GE(by_backend.requests, by_symbol.requests);
      ASSERT_GE(by_backend.responses, by_symbol.responses);
      ASSERT_GE(by_backend.errors, by_symbol.errors);
      ASSERT_GE(by_backend.timeouts, by_symbol.timeouts);
      ASSERT_GE(by_backend.superseded, by_symbol.superseded);
    } else {
      ASSERT_EQ(by_backend.requests, by_symbol.requests) << "seed " << seed << " step " << step;
      ASSERT_EQ(by_backend.responses, by_symbol.responses);
      ASSERT_EQ(by_backend.errors, by_symbol.errors);
      ASSERT_EQ(by_backend.timeouts, by_symbol.timeouts);
      ASSERT_EQ(by_backend.superseded, by_symbol.superseded);
      ASSERT_EQ(by_backend.hist_count, by_symbol.hist_count);
    }
  }
  // The run exercised the interesting paths.
  EXPECT_GT(h.V("tickrmeter_tracking_dropped_total", {{"table", "devices"}}), 0);
  EXPECT_GT(h.V("tickrmeter_tracking_dropped_total", {{"table", "symbols"}}), 0);
  for (const char* reason : {"late", "duplicate", "unsolicited"}) {
    EXPECT_GT(h.V("tickrmeter_stock_update_unmatched_responses_total", {{"reason", reason}}), 0)
        << reason;
  }
  // Requests were counted under backends learned from symbolType, under
  // page and under unknown, and every outcome reached some backend.
  double learned = 0;
  for (const char* backend : {"stock", "crypto", "forex", "commodity", "fxon"}) {
    learned += h.V("tickrmeter_backend_requests_total", {{"backend", backend}});
  }
  EXPECT_GT(learned, 0);
  EXPECT_GT(h.V("tickrmeter_backend_requests_total", {{"backend", "page"}}), 0);
  EXPECT_GT(h.V("tickrmeter_backend_requests_total", {{"backend", "unknown"}}), 0);
  for (const char* family :
       {"tickrmeter_backend_responses_total", "tickrmeter_backend_errors_total",
        "tickrmeter_backend_timeouts_total", "tickrmeter_backend_superseded_total"}) {
    double sum = 0;
    for (const Sample* s : h.Samples(family)) sum += s->value;
    EXPECT_GT(sum, 0) << family;
  }
  if (!expiring) {
    EXPECT_GT(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "_other"}}), 0);
  }
}

TEST(EnginePropertyTest, LedgerHoldsAfterEveryStep) {
  for (uint64_t seed : {1u, 2u, 3u, 42u}) {
    RunRandom(seed, 8000);
    if (HasFatalFailure()) return;
  }
}

TEST(EnginePropertyTest, BackendTotalsEqualSymbolTotalsWhileNoSymbolExpires) {
  for (uint64_t seed : {5u, 6u, 7u}) {
    RunRandom(seed, 8000, /*symbol_expiry_s=*/1e9);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace tkmprom
