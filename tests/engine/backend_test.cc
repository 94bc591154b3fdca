// Quote backends (plugin-contract.md §7.5) through the Engine: which backend
// a request is counted under, what it learns from answers, the per-backend
// ledger, and the bounded memory of backends for symbols outside the table.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "src/engine/backend.h"
#include "src/engine/untracked_backends.h"
#include "tests/engine/engine_harness.h"

namespace tkmprom {
namespace {

constexpr char kReq[] = "tickrmeter_backend_requests_total";
constexpr char kResp[] = "tickrmeter_backend_responses_total";
constexpr char kErr[] = "tickrmeter_backend_errors_total";
constexpr char kTimeout[] = "tickrmeter_backend_timeouts_total";
constexpr char kSup[] = "tickrmeter_backend_superseded_total";
constexpr char kPend[] = "tickrmeter_backend_pending";
constexpr char kHistCount[] = "tickrmeter_backend_latency_seconds_count";
constexpr char kHistSum[] = "tickrmeter_backend_latency_seconds_sum";

constexpr const char* kAllBackends[] = {
    "stock",       "crypto", "forex",      "index", "etf",  "commodity", "top10",
    "electricity", "option", "custom_api", "music", "fxon", "page",      "unknown"};

Labels B(const std::string& backend) { return {{"backend", backend}}; }

// A playlist UPDATE for `symbol` with symbolIndex -1, naming `symbol_type`.
std::string Typed(const std::string& symbol, const std::string& symbol_type) {
  return WithSymbolType(PlaylistQuote("UPDATE", symbol, "", -1), symbol_type);
}

std::string Id(int i) {
  char buf[13];
  std::snprintf(buf, sizeof(buf), "%012X", i);
  return buf;
}

// Every backend's ledger adds up, and nothing is left over.
void ExpectLedgersHold(EngineHarness& h) {
  for (const char* b : kAllBackends) EXPECT_EQ(h.BackendLedgerGap(b), 0) << b;
}

TEST(BackendTest, NamesFollowSymbolType) {
  EXPECT_STREQ(BackendName(BackendOfSymbolType(1)), "stock");
  EXPECT_STREQ(BackendName(BackendOfSymbolType(2)), "crypto");
  EXPECT_STREQ(BackendName(BackendOfSymbolType(10)), "custom_api");
  EXPECT_STREQ(BackendName(BackendOfSymbolType(11)), "music");
  EXPECT_STREQ(BackendName(BackendOfSymbolType(12)), "fxon");
  for (int64_t t : {-1, 0, 13, 1000}) EXPECT_EQ(BackendOfSymbolType(t), Backend::kUnknown) << t;
  for (int i = 0; i < kBackendCount; ++i) {
    EXPECT_STREQ(BackendName(static_cast<Backend>(i)), kAllBackends[i]);
  }
}

TEST(BackendTest, EveryBackendIsExportedFromTheStart) {
  EngineHarness h;
  for (const char* b : kAllBackends) {
    for (const char* n : {kReq, kResp, kErr, kTimeout, kSup, kPend, kHistCount, kHistSum}) {
      EXPECT_EQ(h.V(n, B(b)), 0) << n << " " << b;
    }
    for (const char* le : {"0.1", "0.5", "1", "2", "5", "10", "30", "60", "+Inf"}) {
      EXPECT_EQ(h.V("tickrmeter_backend_latency_seconds_bucket", {{"backend", b}, {"le", le}}), 0)
          << b << " " << le;
    }
  }
  const auto snap = h.Snap();
  ASSERT_EQ(snap->backends.size(), static_cast<size_t>(kBackendCount));
  for (int i = 0; i < kBackendCount; ++i) {
    EXPECT_EQ(snap->backends[i].backend, kAllBackends[i]);
    EXPECT_EQ(snap->backends[i].latency_buckets.size(), 9u);
  }
}

// The first request of a symbol counts under `unknown`, and so does its
// answer; the answer teaches the symbol's backend to its later requests.
TEST(BackendTest, FirstRequestIsUnknownThenTheLearnedBackend) {
  EngineHarness h;
  h.Request(0, kDev, "BTC/USD");
  EXPECT_EQ(h.V(kReq, B("unknown")), 1);
  EXPECT_EQ(h.V(kPend, B("unknown")), 1);
  h.Answer(250, kDev, Typed("BTC", "2"));
  EXPECT_EQ(h.V(kResp, B("unknown")), 1);
  EXPECT_EQ(h.V(kResp, B("crypto")), 0);
  EXPECT_NEAR(h.V(kHistSum, B("unknown")), 0.25, 1e-9);
  EXPECT_EQ(
      h.V("tickrmeter_backend_latency_seconds_bucket", {{"backend", "unknown"}, {"le", "0.5"}}), 1);
  // Another device's request for the symbol: the symbol remembers, not the device.
  h.Request(1000, kDev2, "BTC/USD");
  h.Request(1000, kDev, "BTC/USD");
  EXPECT_EQ(h.V(kReq, B("crypto")), 2);
  h.Answer(1400, kDev2, Typed("BTC", "2"));
  EXPECT_EQ(h.V(kResp, B("crypto")), 1);
  EXPECT_NEAR(h.V(kHistSum, B("crypto")), 0.4, 1e-9);
  EXPECT_EQ(h.V(kPend, B("crypto")), 1);
  const auto snap = h.Snap();
  ASSERT_EQ(snap->symbols.size(), 1u);
  EXPECT_EQ(snap->symbols[0].backend, "crypto");
  ExpectLedgersHold(h);
}

// symbolType may come as a string (protocol quirk 6); a value outside 1..12
// names `unknown`; an answer without symbolType (an error reply, an old
// shape) names nothing and the symbol keeps its backend.
TEST(BackendTest, StringTypesUnknownTypesAndAnswersThatNameNone) {
  EngineHarness h;
  h.Request(0, kDev, "EURUSD");
  h.Answer(100, kDev, Typed("EURUSD", "\"3\""));
  h.Request(1000, kDev, "EURUSD");
  EXPECT_EQ(h.V(kReq, B("forex")), 1);
  h.Answer(1100, kDev, PlaylistQuote("UPDATE", "EURUSD", "", -1));  // no symbolType
  h.Request(2000, kDev, "EURUSD");
  EXPECT_EQ(h.V(kReq, B("forex")), 2);
  h.Answer(2100, kDev, kNoConfig);  // an error names no backend
  h.Request(3000, kDev, "EURUSD");
  EXPECT_EQ(h.V(kErr, B("forex")), 1);
  EXPECT_EQ(h.V(kReq, B("forex")), 3);
  h.Answer(3100, kDev, Typed("EURUSD", "99"));
  h.Request(4000, kDev, "EURUSD");
  EXPECT_EQ(h.V(kReq, B("unknown")), 2);
  h.Answer(4100, kDev, Typed("EURUSD", "null"));  // null: names none
  h.Request(5000, kDev, "EURUSD");
  EXPECT_EQ(h.V(kReq, B("unknown")), 3);
  h.Answer(5100, kDev, Typed("EURUSD", "12"));
  h.Request(6000, kDev, "EURUSD");
  EXPECT_EQ(h.V(kReq, B("fxon")), 1);
  ExpectLedgersHold(h);
}

// A request keeps the backend it was counted under when it is superseded,
// even if its symbol learned another backend meanwhile.
TEST(BackendTest, SupersededRequestKeepsItsBackend) {
  EngineHarness h;
  h.Request(0, kDev, "AAPL");  // unknown
  h.Request(0, kDev2, "AAPL");
  h.Answer(100, kDev2, Typed("AAPL", "1"));  // AAPL is now stock
  h.Request(5000, kDev, "AAPL");             // supersedes the unknown one
  EXPECT_EQ(h.V(kSup, B("unknown")), 1);
  EXPECT_EQ(h.V(kSup, B("stock")), 0);
  EXPECT_EQ(h.V(kReq, B("stock")), 1);
  EXPECT_EQ(h.V(kPend, B("stock")), 1);
  EXPECT_EQ(h.V(kPend, B("unknown")), 0);
  h.Request(6000, kDev, "AAPL");  // supersedes the stock one
  EXPECT_EQ(h.V(kSup, B("stock")), 1);
  ExpectLedgersHold(h);
}

TEST(BackendTest, TimeoutsCountUnderTheRequestsBackend) {
  EngineHarness h;
  h.Request(0, kDev, "ETH/EUR");
  h.Answer(300, kDev, Typed("ETH", "2"));
  h.Request(1000, kDev, "ETH/EUR");
  h.Advance(31'001);
  EXPECT_EQ(h.V(kTimeout, B("crypto")), 1);
  EXPECT_EQ(h.V(kPend, B("crypto")), 0);
  // A late answer is no answer of the symbol: it resolves nothing and
  // teaches nothing.
  h.Answer(32'000, kDev, Typed("ETH", "1"));
  EXPECT_EQ(h.V("tickrmeter_stock_update_unmatched_responses_total", {{"reason", "late"}}), 1);
  h.Request(40'000, kDev, "ETH/EUR");
  EXPECT_EQ(h.V(kReq, B("crypto")), 2);
  ExpectLedgersHold(h);
}

// A device that leaves memory (silent for twice device_timeout) has its
// pending requests settled as timeouts under their backends.
TEST(BackendTest, ForgottenDevicesRequestsTimeOutUnderTheirBackend) {
  Config c;
  c.device_timeout_s = 10;
  c.request_timeout_s = 1000;
  EngineHarness h(c);
  h.Request(0, kDev, "ETH/EUR");
  h.Answer(300, kDev, Typed("ETH", "2"));
  h.Request(1000, kDev, "ETH/EUR");
  h.Advance(25'000);
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 0);
  EXPECT_EQ(h.V(kTimeout, B("crypto")), 1);
  EXPECT_EQ(h.V(kPend, B("crypto")), 0);
  ExpectLedgersHold(h);
}

// A symbol-less request counts under the backend of the symbol it is
// labelled with; "unknown" stays `unknown` whatever answered it.
TEST(BackendTest, SymbolLessRequestsUseTheLabelSymbolsBackend) {
  EngineHarness h;
  h.Request(0, kDev);  // label unknown
  h.Answer(100, kDev, SingleQuote("UPDATE", "AAPL", "1"));
  EXPECT_EQ(h.V(kResp, B("unknown")), 1);
  h.Request(1000, kDev2);  // another device's first: still unknown
  EXPECT_EQ(h.V(kReq, B("unknown")), 2);
  h.Request(2000, kDev);  // label AAPL, which no answer of its own has named yet
  EXPECT_EQ(h.V(kReq, B("unknown")), 3);
  h.Answer(2100, kDev, SingleQuote("UPDATE", "AAPL", "1"));
  h.Request(3000, kDev);
  h.Request(3000, kDev2, "AAPL");  // the symbol, requested by name
  EXPECT_EQ(h.V(kReq, B("stock")), 2);
  ExpectLedgersHold(h);
}

// Page replies name `page`; the label "_page" always counts under `page`.
TEST(BackendTest, PageRepliesArePage) {
  EngineHarness h;
  h.Request(0, kDev);
  h.Answer(700, kDev, kPageReply);
  EXPECT_EQ(h.V(kResp, B("unknown")), 1);
  h.Request(300'000, kDev);  // label _page
  EXPECT_EQ(h.V(kReq, B("page")), 1);
  h.Answer(300'100, kDev, kPageError);
  EXPECT_EQ(h.V(kErr, B("page")), 1);
  h.Request(600'000, kDev);
  h.Answer(600'500, kDev, kPageReply);
  EXPECT_EQ(h.V(kResp, B("page")), 1);
  EXPECT_NEAR(h.V(kHistSum, B("page")), 0.5, 1e-9);
  for (const SymbolWindow& w : h.Snap()->symbols) {
    EXPECT_EQ(w.backend, w.symbol == "_page" ? "page" : "unknown") << w.symbol;
  }
  ExpectLedgersHold(h);
}

// max_symbols folds new symbols into "_other", but each keeps its own
// backend (§7.5), learned from its own answers, across devices.
TEST(BackendTest, SymbolsFoldedIntoOtherKeepTheirBackend) {
  Config c;
  c.max_symbols = 1;
  EngineHarness h(c);
  h.Request(0, Id(1), "AAPL");
  h.Request(0, Id(1), "BTC/USD");  // folded
  h.Request(0, Id(1), "GOLD");     // folded
  h.Answer(100, Id(1), Typed("AAPL", "1"));
  h.Answer(200, Id(1), Typed("BTC", "2"));
  h.Answer(300, Id(1), Typed("GOLD", "6"));
  EXPECT_EQ(h.V("tickrmeter_stock_update_responses_total", {{"symbol", "_other"}}), 2);
  EXPECT_EQ(h.V(kResp, B("unknown")), 3);
  h.Request(1000, Id(2), "BTC/USD");
  h.Request(1000, Id(2), "GOLD");
  h.Request(1000, Id(2), "AAPL");
  h.Request(1000, Id(2), "NEW1");  // folded, never answered
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "_other"}}), 5);
  EXPECT_EQ(h.V(kReq, B("crypto")), 1);
  EXPECT_EQ(h.V(kReq, B("commodity")), 1);
  EXPECT_EQ(h.V(kReq, B("stock")), 1);
  EXPECT_EQ(h.V(kReq, B("unknown")), 4);
  // The "_other" label stands for many symbols: no backend of its own.
  for (const SymbolWindow& w : h.Snap()->symbols) {
    if (w.symbol == "_other") {
      EXPECT_EQ(w.backend, "unknown");
    } else if (w.symbol == "AAPL") {
      EXPECT_EQ(w.backend, "stock");
    }
  }
  // A symbol-less request labelled with a folded learned symbol, too.
  h.Request(2000, Id(3));
  h.Answer(2100, Id(3), WithSymbolType(PlaylistQuote("NEW", "ETH", "ETH/EUR,X", 0), "2"));
  h.Request(3000, Id(3));  // label _other (ETH/EUR), backend still unknown
  h.Answer(3100, Id(3), WithSymbolType(PlaylistQuote("NEW", "ETH", "ETH/EUR,X", 0), "2"));
  h.Request(4000, Id(3));
  h.Request(4000, Id(4), "ETH/EUR");
  EXPECT_EQ(h.V(kReq, B("crypto")), 3);
  EXPECT_EQ(h.V("tickrmeter_tracking_dropped_total", {{"table", "backends"}}), 0);
  ExpectLedgersHold(h);
}

// A symbol that expired from the table keeps its backend for its return.
TEST(BackendTest, ExpiredSymbolRemembersItsBackend) {
  Config c;
  c.symbol_expiry_s = 3600;
  EngineHarness h(c);
  h.Request(0, kDev, "RARE");
  h.Answer(100, kDev, Typed("RARE", "4"));
  h.Advance(3'700'000);
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "RARE"}}), -1);
  h.Request(3'800'000, kDev, "RARE");
  EXPECT_EQ(h.V(kReq, B("index")), 1);
  EXPECT_EQ(h.V(kReq, B("unknown")), 1);  // the first one, before expiry
  ExpectLedgersHold(h);
}

// A case-blind match (§7.4) teaches the requested symbol.
TEST(BackendTest, CaseBlindMatchTeachesTheRequestedSymbol) {
  EngineHarness h;
  h.Request(0, kDev, "btc/usd");
  h.Answer(100, kDev, Typed("BTC", "2"));
  h.Request(1000, kDev, "btc/usd");
  EXPECT_EQ(h.V(kReq, B("crypto")), 1);
  ExpectLedgersHold(h);
}

// Per backend the sums over backends equal the sums over symbols.
TEST(BackendTest, BackendTotalsEqualSymbolTotals) {
  EngineHarness h;
  h.Request(0, kDev, "AAPL");
  h.Request(0, kDev, "BTC/USD");
  h.Request(0, kDev);
  h.Answer(100, kDev, Typed("AAPL", "1"));
  h.Answer(200, kDev, SingleQuote("UPDATE", "TSLA", "\"1\""));
  h.Request(1000, kDev, "AAPL");
  h.Request(1000, kDev, "AAPL");
  h.Answer(1100, kDev, kNoConfig);
  h.Advance(40'000);
  const auto snap = h.Snap();
  auto total = [&](const char* name, const char* label) {
    double sum = 0;
    for (const MetricFamily& f : CollectFamilies(*snap)) {
      for (const Sample& s : f.samples) {
        if (f.name + s.suffix == name && s.labels.size() == 1 && s.labels[0].name == label) {
          sum += s.value;
        }
      }
    }
    return sum;
  };
  const std::pair<const char*, const char*> pairs[] = {
      {"tickrmeter_stock_update_requests_total", kReq},
      {"tickrmeter_stock_update_responses_total", kResp},
      {"tickrmeter_stock_update_errors_total", kErr},
      {"tickrmeter_symbol_timeout_total", kTimeout},
      {"tickrmeter_stock_update_superseded_total", kSup},
      {"tickrmeter_stock_update_pending", kPend},
      {"tickrmeter_stock_update_latency_seconds_sum", kHistSum}};
  for (const auto& [per_symbol, per_backend] : pairs) {
    EXPECT_NEAR(total(per_symbol, "symbol"), total(per_backend, "backend"), 1e-9) << per_backend;
  }
  // The script reached every outcome.
  EXPECT_EQ(h.V(kResp, B("unknown")), 2);
  EXPECT_EQ(h.V(kErr, B("unknown")), 1);
  EXPECT_EQ(h.V(kSup, B("stock")), 1);
  EXPECT_EQ(h.V(kTimeout, B("stock")), 1);
}

TEST(UntrackedBackendsTest, RemembersUpToCapacityThenForgetsTheOldest) {
  UntrackedBackends memory;
  EXPECT_EQ(memory.Find("X"), Backend::kUnknown);
  const std::string long_prefix(40, 'L');  // beyond StringIndex's inline names
  for (size_t i = 0; i < UntrackedBackends::kCapacity; ++i) {
    memory.Learn(long_prefix + std::to_string(i), Backend::kCrypto);
  }
  memory.Learn(long_prefix + "0", Backend::kStock);  // known: updated, nothing forgotten
  EXPECT_EQ(memory.size(), UntrackedBackends::kCapacity);
  EXPECT_EQ(memory.forgotten(), 0u);
  EXPECT_EQ(memory.Find(long_prefix + "0"), Backend::kStock);
  memory.Learn("NEW", Backend::kForex);
  memory.Learn("NEWER", Backend::kEtf);
  EXPECT_EQ(memory.size(), UntrackedBackends::kCapacity);
  EXPECT_EQ(memory.forgotten(), 2u);
  EXPECT_EQ(memory.Find(long_prefix + "0"), Backend::kUnknown);
  EXPECT_EQ(memory.Find(long_prefix + "1"), Backend::kUnknown);
  EXPECT_EQ(memory.Find(long_prefix + "2"), Backend::kCrypto);
  EXPECT_EQ(memory.Find("NEW"), Backend::kForex);
  EXPECT_EQ(memory.Find("NEWER"), Backend::kEtf);
  const std::string last = long_prefix + std::to_string(UntrackedBackends::kCapacity - 1);
  EXPECT_EQ(memory.Find(last), Backend::kCrypto);
}

}  // namespace
}  // namespace tkmprom
