// Correlation rules of plugin-contract.md §5 and §6, and the protocol traps
// of the protocol reference §2.4/§2.5/§4, driven through the Engine.
#include <gtest/gtest.h>

#include "tests/engine/engine_harness.h"

namespace tkmprom {
namespace {

constexpr char kReq[] = "tickrmeter_stock_update_requests_total";
constexpr char kResp[] = "tickrmeter_stock_update_responses_total";
constexpr char kErr[] = "tickrmeter_stock_update_errors_total";
constexpr char kTimeout[] = "tickrmeter_symbol_timeout_total";
constexpr char kSup[] = "tickrmeter_stock_update_superseded_total";
constexpr char kPend[] = "tickrmeter_stock_update_pending";
constexpr char kUnmatched[] = "tickrmeter_stock_update_unmatched_responses_total";
constexpr char kHistCount[] = "tickrmeter_stock_update_latency_seconds_count";
constexpr char kHistSum[] = "tickrmeter_stock_update_latency_seconds_sum";

Labels Sym(const std::string& s) { return {{"symbol", s}}; }
Labels Reason(const std::string& r) { return {{"reason", r}}; }

TEST(CorrelationTest, SingleModeAnswerCountsResponseWithLatency) {
  EngineHarness h;
  h.Request(0, kDev);
  h.Answer(250, kDev, SingleQuote("UPDATE", "AAPL"));
  // The first symbol-less request has no learned symbol yet.
  EXPECT_EQ(h.V(kReq, Sym("unknown")), 1);
  EXPECT_EQ(h.V(kResp, Sym("unknown")), 1);
  EXPECT_EQ(h.V(kPend, Sym("unknown")), 0);
  EXPECT_EQ(h.V(kHistCount, Sym("unknown")), 1);
  EXPECT_NEAR(h.V(kHistSum, Sym("unknown")), 0.25, 1e-9);
  EXPECT_EQ(
      h.V("tickrmeter_stock_update_latency_seconds_bucket", {{"symbol", "unknown"}, {"le", "0.1"}}),
      0);
  EXPECT_EQ(
      h.V("tickrmeter_stock_update_latency_seconds_bucket", {{"symbol", "unknown"}, {"le", "0.5"}}),
      1);
  EXPECT_EQ(h.V("tickrmeter_stock_update_latency_seconds_bucket",
                {{"symbol", "unknown"}, {"le", "+Inf"}}),
            1);
  EXPECT_NEAR(h.V("tickrmeter_symbol_avg_latency_seconds", Sym("unknown")), 0.25, 1e-9);
  EXPECT_NEAR(
      h.V("tickrmeter_symbol_latency_seconds", {{"symbol", "unknown"}, {"quantile", "0.5"}}), 0.25,
      0.0025);
}

TEST(CorrelationTest, SymbolLessRequestCountedUnderSymbolLearnedFromPreviousAnswer) {
  EngineHarness h;
  h.Request(0, kDev);
  h.Answer(100, kDev, SingleQuote("UPDATE", "AAPL"));
  h.Request(60'000, kDev);
  EXPECT_EQ(h.V(kReq, Sym("AAPL")), 1);
  EXPECT_EQ(h.V(kPend, Sym("AAPL")), 1);
  h.Answer(60'300, kDev, SingleQuote("UPDATE", "AAPL"));
  EXPECT_EQ(h.V(kResp, Sym("AAPL")), 1);
  EXPECT_EQ(h.V(kReq, Sym("unknown")), 1);
}

TEST(CorrelationTest, LabelIsFixedAtRequestTime) {
  EngineHarness h;
  h.Request(0, kDev);
  h.Answer(100, kDev, SingleQuote("UPDATE", "AAPL"));
  h.Request(1000, kDev);  // counted under AAPL
  h.Request(1000, kDev2);
  h.Answer(1100, kDev2, SingleQuote("UPDATE", "MSFT"));
  // The device now learns MSFT while its request counted under AAPL is pending.
  h.Answer(1200, kDev, SingleQuote("UPDATE", "MSFT"));
  EXPECT_EQ(h.V(kResp, Sym("AAPL")), 1);
  EXPECT_EQ(h.V(kResp, Sym("MSFT")), -1);  // no request was ever counted under MSFT
  EXPECT_EQ(h.LedgerGap("AAPL"), 0);
  h.Request(2000, kDev);
  EXPECT_EQ(h.V(kReq, Sym("MSFT")), 1);
}

TEST(CorrelationTest, PlaylistEntryZeroAnsweredTwiceByNewAndUpdate) {
  EngineHarness h;
  const std::string csv = "AAPL,BTC/USD,MSFT";
  h.Request(0, kDev);
  h.Request(0, kDev, "AAPL");
  h.Request(300, kDev, "BTC/USD");
  h.Request(600, kDev, "MSFT");
  h.Answer(400, kDev, PlaylistQuote("NEW", "AAPL", csv, 0));
  h.Answer(500, kDev, PlaylistQuote("UPDATE", "AAPL", csv, 0));
  h.Answer(900, kDev, PlaylistQuote("UPDATE", "BTC", csv, 1));
  h.Answer(1000, kDev, PlaylistQuote("UPDATE", "MSFT", csv, 2));
  EXPECT_EQ(h.V(kResp, Sym("unknown")), 1);
  EXPECT_EQ(h.V(kResp, Sym("AAPL")), 1);
  EXPECT_EQ(h.V(kResp, Sym("BTC/USD")), 1);
  EXPECT_EQ(h.V(kResp, Sym("MSFT")), 1);
  EXPECT_EQ(h.V(kUnmatched, Reason("duplicate")), 0);
  EXPECT_EQ(h.V(kUnmatched, Reason("unsolicited")), 0);
  // The next burst's symbol-less request is counted under entry 0.
  h.Request(120'000, kDev);
  EXPECT_EQ(h.V(kReq, Sym("AAPL")), 2);
  EXPECT_NEAR(h.V(kHistSum, Sym("AAPL")), 0.5, 1e-9);
}

TEST(CorrelationTest, SymbolIndexMinusOneFallsBackToSymbolRules) {
  EngineHarness h;
  h.Request(0, kDev, "AAPL");
  h.Request(0, kDev, "MSFT");
  h.Answer(200, kDev, PlaylistQuote("UPDATE", "MSFT", "X,Y", -1));
  EXPECT_EQ(h.V(kResp, Sym("MSFT")), 1);
  EXPECT_EQ(h.V(kPend, Sym("AAPL")), 1);
}

TEST(CorrelationTest, SymbolIndexWinsOverAnswerSymbol) {
  // cycleMode best/worst: the quote is of another entry, symbolIndex points
  // at the requested one.
  EngineHarness h;
  h.Request(0, kDev, "AAPL");
  h.Request(0, kDev, "MSFT");
  h.Answer(200, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL,MSFT", 1));
  EXPECT_EQ(h.V(kResp, Sym("MSFT")), 1);
  EXPECT_EQ(h.V(kPend, Sym("AAPL")), 1);
}

TEST(CorrelationTest, BtcUsdAnsweredAsBtcMatchesOnceSuffixStripped) {
  EngineHarness h;
  h.Request(0, kDev, "BTC/USD");
  h.Answer(200, kDev, PlaylistQuote("UPDATE", "BTC", "ETH/USD", 7));  // index out of range
  EXPECT_EQ(h.V(kResp, Sym("BTC/USD")), 1);
  EXPECT_EQ(h.V(kPend, Sym("BTC/USD")), 0);
}

TEST(CorrelationTest, PrefixMatchResolvesFirstPendingSymbolStartingWithAnswer) {
  EngineHarness h;
  h.Request(0, kDev, "XAUUSD");
  h.Request(100, kDev, "XAUEUR");
  h.Answer(200, kDev, PlaylistQuote("UPDATE", "XAU", "", -1));
  EXPECT_EQ(h.V(kResp, Sym("XAUUSD")), 1);
  EXPECT_EQ(h.V(kPend, Sym("XAUEUR")), 1);
}

TEST(CorrelationTest, IndexInRangeButNotPendingStillTriesEqualSuffixPrefix) {
  EngineHarness h;
  h.Request(0, kDev, "ETH/EUR");
  // symbols[0] = "BTC/USD" is not pending; the answer symbol ETH matches ETH/EUR.
  h.Answer(200, kDev, PlaylistQuote("UPDATE", "ETH", "BTC/USD,ETH/EUR", 0));
  EXPECT_EQ(h.V(kResp, Sym("ETH/EUR")), 1);
}

// §7.4: "equal", "equal once a /suffix is stripped" and "starts with"
// ignore ASCII case; the label is the requested symbol as the device sent it.
TEST(CorrelationTest, LowerCaseEntryAnsweredByUpperCaseSymbolMatchesOnceSuffixStripped) {
  EngineHarness h;
  h.Request(0, kDev, "btc/usd");
  h.Answer(200, kDev, PlaylistQuote("UPDATE", "BTC", "AAPL,btc/usd", -1));
  EXPECT_EQ(h.V(kResp, Sym("btc/usd")), 1);
  EXPECT_EQ(h.V(kPend, Sym("btc/usd")), 0);
  EXPECT_EQ(h.V(kUnmatched, Reason("unsolicited")), 0);
  EXPECT_EQ(h.V(kReq, Sym("BTC")), -1);  // no series under the answer's spelling
  EXPECT_EQ(h.V(kReq, Sym("BTC/USD")), -1);
}

TEST(CorrelationTest, EqualRuleIgnoresCase) {
  EngineHarness h;
  h.Request(0, kDev, "aapl");
  h.Request(0, kDev, "Msft");
  h.Answer(200, kDev, PlaylistQuote("UPDATE", "MSFT", "", -1));
  h.Answer(300, kDev, PlaylistQuote("UPDATE", "AAPL", "", -1));
  EXPECT_EQ(h.V(kResp, Sym("Msft")), 1);
  EXPECT_EQ(h.V(kResp, Sym("aapl")), 1);
  EXPECT_NEAR(h.V(kHistSum, Sym("Msft")), 0.2, 1e-9);
  EXPECT_EQ(h.LedgerGap("aapl"), 0);
}

TEST(CorrelationTest, CaseBlindEqualWinsOverOlderSuffixMatch) {
  EngineHarness h;
  h.Request(0, kDev, "BTC/USD");
  h.Request(100, kDev, "btc");
  h.Answer(200, kDev, PlaylistQuote("UPDATE", "BTC", "", -1));
  EXPECT_EQ(h.V(kResp, Sym("btc")), 1);
  EXPECT_EQ(h.V(kPend, Sym("BTC/USD")), 1);
}

TEST(CorrelationTest, PrefixRuleIgnoresCase) {
  EngineHarness h;
  h.Request(0, kDev, "xauUSD");
  h.Request(100, kDev, "XAGusd");
  h.Answer(200, kDev, PlaylistQuote("UPDATE", "Xau", "", -1));
  EXPECT_EQ(h.V(kResp, Sym("xauUSD")), 1);
  EXPECT_EQ(h.V(kPend, Sym("XAGusd")), 1);
}

// Index in range but not pending: the case-blind rules still apply (§6).
TEST(CorrelationTest, IndexNotPendingFallsBackToCaseBlindRules) {
  EngineHarness h;
  h.Request(0, kDev, "eth/eur");
  h.Answer(200, kDev, PlaylistQuote("UPDATE", "ETH", "BTC/USD,eth/eur", 0));
  EXPECT_EQ(h.V(kResp, Sym("eth/eur")), 1);
}

// Only ASCII letters are folded; other bytes compare as they are.
TEST(CorrelationTest, NonAsciiBytesAreNotFolded) {
  EngineHarness h;
  h.Request(0, kDev, "\xc3\xa4x");                                    // "äx"
  h.Answer(200, kDev, PlaylistQuote("UPDATE", "\xc3\x84X", "", -1));  // "ÄX"
  EXPECT_EQ(h.V(kPend, Sym("\xc3\xa4x")), 1);
  EXPECT_EQ(h.V(kUnmatched, Reason("unsolicited")), 1);
}

// late / duplicate are decided by the same rules (§6), so also ignore case.
TEST(CorrelationTest, LateAndDuplicateClassificationIgnoresCase) {
  EngineHarness h;
  h.Request(0, kDev, "eth/eur");
  h.Advance(31'000);
  EXPECT_EQ(h.V(kTimeout, Sym("eth/eur")), 1);
  h.Answer(32'000, kDev, PlaylistQuote("UPDATE", "ETH", "", -1));
  EXPECT_EQ(h.V(kUnmatched, Reason("late")), 1);
  h.Request(40'000, kDev, "msft");
  h.Answer(40'100, kDev, PlaylistQuote("UPDATE", "MSFT", "", -1));
  h.Answer(40'200, kDev, PlaylistQuote("UPDATE", "Msft", "", -1));
  h.Request(41'000, kDev, "xauusd");
  h.Answer(41'100, kDev, PlaylistQuote("UPDATE", "XAU", "", -1));
  h.Answer(41'200, kDev, PlaylistQuote("UPDATE", "xAu", "", -1));
  EXPECT_EQ(h.V(kResp, Sym("msft")), 1);
  EXPECT_EQ(h.V(kResp, Sym("xauusd")), 1);
  EXPECT_EQ(h.V(kUnmatched, Reason("duplicate")), 2);
  EXPECT_EQ(h.V(kUnmatched, Reason("unsolicited")), 0);
}

// Page replies, single-mode UPDATE and NEW resolve by the request's lack of
// a symbol, not by comparing symbols: case plays no part, and the symbol a
// device learns keeps the answer's spelling.
TEST(CorrelationTest, PageSingleAndNewAreUnaffectedByCase) {
  EngineHarness h;
  h.Request(0, kDev);
  h.Answer(100, kDev, SingleQuote("UPDATE", "aapl"));
  h.Request(1000, kDev);
  EXPECT_EQ(h.V(kReq, Sym("aapl")), 1);
  EXPECT_EQ(h.V(kReq, Sym("AAPL")), -1);
  // NEW never resolves a symbol request, whatever the case.
  h.Request(2000, kDev2, "TSLA");
  h.Answer(2100, kDev2, PlaylistQuote("NEW", "tsla", "TSLA", 0));
  EXPECT_EQ(h.V(kPend, Sym("TSLA")), 1);
  EXPECT_EQ(h.V(kUnmatched, Reason("unsolicited")), 1);
  h.Answer(2200, kDev, kPageReply);
  EXPECT_EQ(h.V(kResp, Sym("aapl")), 1);
}

TEST(CorrelationTest, NewAnswersSymbolLessRequest) {
  EngineHarness h;
  h.Request(0, kDev);
  h.Answer(300, kDev, SingleQuote("NEW", "TSLA"));
  EXPECT_EQ(h.V(kResp, Sym("unknown")), 1);
  EXPECT_EQ(h.V(kUnmatched, Reason("unsolicited")), 0);
  h.Request(10'000, kDev);
  EXPECT_EQ(h.V(kReq, Sym("TSLA")), 1);
}

TEST(CorrelationTest, NewWithNothingPendingIsUnsolicitedBootAnswer) {
  EngineHarness h;
  h.Boot(0, kDev);
  h.Answer(500, kDev, SingleQuote("NEW", "TSLA"));
  // A pending symbol request is not resolved by NEW either.
  h.Request(1000, kDev, "AAPL");
  h.Answer(1200, kDev, PlaylistQuote("NEW", "AAPL", "AAPL", 0));
  EXPECT_EQ(h.V(kUnmatched, Reason("unsolicited")), 2);
  EXPECT_EQ(h.V(kPend, Sym("AAPL")), 1);
  EXPECT_EQ(h.V(kResp, Sym("AAPL")), 0);
}

TEST(CorrelationTest, DeviceAssignedWithSuccessFalseIsError) {
  EngineHarness h;
  h.Request(0, kDev);
  h.Answer(100, kDev, kNotFound);
  EXPECT_EQ(h.V(kErr, Sym("unknown")), 1);
  EXPECT_EQ(h.V(kResp, Sym("unknown")), 0);
  EXPECT_EQ(h.V(kPend, Sym("unknown")), 0);
}

TEST(CorrelationTest, NoConfigResolvesSymbolLessElseOldest) {
  EngineHarness h;
  h.Request(0, kDev, "MSFT");
  h.Request(100, kDev);
  h.Request(200, kDev, "AAPL");
  h.Answer(300, kDev, kNoConfig);  // the symbol-less one first
  EXPECT_EQ(h.V(kErr, Sym("unknown")), 1);
  h.Answer(400, kDev, kNoConfig);  // then the oldest
  EXPECT_EQ(h.V(kErr, Sym("MSFT")), 1);
  EXPECT_EQ(h.V(kPend, Sym("AAPL")), 1);
  // An error does not teach a symbol.
  h.Request(1000, kDev);
  EXPECT_EQ(h.V(kReq, Sym("unknown")), 2);
}

TEST(CorrelationTest, LifecycleMessagesAreNotAnswers) {
  EngineHarness h;
  h.Request(0, kDev);
  h.Answer(100, kDev, kDeviceReg);
  h.Answer(100, kDev,
           "{\"type\":\"DEVICE_UNASSGINED\",\"message\":\"Device registration removed.\"}");
  h.Answer(100, kDev, "{\"type\":\"DEVICE_ASSIGNED\",\"success\":true}");
  EXPECT_EQ(h.V(kPend, Sym("unknown")), 1);
  EXPECT_EQ(h.V(kUnmatched, Reason("unsolicited")), 0);
}

TEST(CorrelationTest, PageReplyAnswersAndTeachesPage) {
  EngineHarness h;
  h.Request(0, kDev);
  h.Answer(700, kDev, kPageReply);
  EXPECT_EQ(h.V(kResp, Sym("unknown")), 1);
  h.Request(300'000, kDev);
  EXPECT_EQ(h.V(kReq, Sym("_page")), 1);
  h.Answer(300'100, kDev, kPageError);
  EXPECT_EQ(h.V(kErr, Sym("_page")), 1);
  EXPECT_EQ(h.V(kResp, Sym("_page")), 0);
}

TEST(CorrelationTest, LateAnswerAfterTimeout) {
  EngineHarness h;
  h.Request(0, kDev, "AAPL");
  h.Advance(31'000);
  EXPECT_EQ(h.V(kTimeout, Sym("AAPL")), 1);
  h.Answer(35'000, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL", 0));
  EXPECT_EQ(h.V(kUnmatched, Reason("late")), 1);
  EXPECT_EQ(h.V(kResp, Sym("AAPL")), 0);
  // Beyond request_timeout after the timeout, it is no longer "late".
  h.Answer(61'000, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL", 0));
  EXPECT_EQ(h.V(kUnmatched, Reason("unsolicited")), 1);
}

TEST(CorrelationTest, AnswerAfterDeadlineButBeforeSweepIsLate) {
  EngineHarness h;
  h.Request(0, kDev);
  // No Advance() in between: the outcome must not depend on sweep timing.
  h.Answer(30'500, kDev, SingleQuote("UPDATE", "AAPL"));
  EXPECT_EQ(h.V(kTimeout, Sym("unknown")), 1);
  EXPECT_EQ(h.V(kResp, Sym("unknown")), 0);
  EXPECT_EQ(h.V(kUnmatched, Reason("late")), 1);
}

TEST(CorrelationTest, OverdueRequestBehindLaterDeadlineTimesOutBeforeItsAnswer) {
  EngineHarness h;
  h.Request(100, kDev, "AAPL");
  h.Request(50, kDev, "MSFT");  // stamped before the clock: its deadline queues behind AAPL's
  h.Advance(30'060);
  h.Answer(30'070, kDev, PlaylistQuote("UPDATE", "MSFT", "MSFT", 0));
  EXPECT_EQ(h.V(kTimeout, Sym("MSFT")), 1);
  EXPECT_EQ(h.V(kResp, Sym("MSFT")), 0);
  EXPECT_EQ(h.V(kUnmatched, Reason("late")), 1);
  EXPECT_EQ(h.V(kPend, Sym("AAPL")), 1);
}

TEST(CorrelationTest, DuplicateAnswerWithinTimeout) {
  EngineHarness h;
  h.Request(0, kDev, "AAPL");
  h.Answer(200, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL", 0));
  h.Answer(250, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL", 0));  // K = 2
  EXPECT_EQ(h.V(kResp, Sym("AAPL")), 1);
  EXPECT_EQ(h.V(kUnmatched, Reason("duplicate")), 1);
  h.Answer(40'000, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL", 0));
  EXPECT_EQ(h.V(kUnmatched, Reason("unsolicited")), 1);
  // Duplicate error replies, too.
  h.Request(50'000, kDev);
  h.Answer(50'100, kDev, kNoConfig);
  h.Answer(50'200, kDev, kNoConfig);
  EXPECT_EQ(h.V(kUnmatched, Reason("duplicate")), 2);
}

TEST(CorrelationTest, NewRequestSupersedesPendingOne) {
  EngineHarness h;
  h.Request(0, kDev, "AAPL");
  h.Request(5'000, kDev, "AAPL");
  EXPECT_EQ(h.V(kReq, Sym("AAPL")), 2);
  EXPECT_EQ(h.V(kSup, Sym("AAPL")), 1);
  EXPECT_EQ(h.V(kPend, Sym("AAPL")), 1);
  // The clock restarted: the answer's latency is from the newer request, and
  // no timeout at 30 s after the first.
  h.Advance(32'000);
  EXPECT_EQ(h.V(kTimeout, Sym("AAPL")), 0);
  h.Answer(33'000, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL", 0));
  EXPECT_NEAR(h.V(kHistSum, Sym("AAPL")), 28.0, 1e-9);
  EXPECT_EQ(h.LedgerGap("AAPL"), 0);
}

TEST(CorrelationTest, TimeoutNotBeforeRequestTimeoutAndWithin100MsAfter) {
  EngineHarness h;
  h.Request(3, kDev, "AAPL");  // not aligned with the 50 ms advance grid
  int64_t timed_out_at = -1;
  for (int64_t t = 0; t <= 31'000; t += 50) {
    h.Advance(t);
    if (h.V(kTimeout, Sym("AAPL")) == 1 && timed_out_at < 0) timed_out_at = t;
    if (timed_out_at < 0) {
      ASSERT_EQ(h.V(kPend, Sym("AAPL")), 1) << t;
    }
  }
  ASSERT_GE(timed_out_at, 3 + 30'000);
  EXPECT_LE(timed_out_at, 3 + 30'000 + 100);
  EXPECT_EQ(h.V(kPend, Sym("AAPL")), 0);
  EXPECT_EQ(h.LedgerGap("AAPL"), 0);
}

TEST(CorrelationTest, AnswersToOtherDevicesDoNotResolve) {
  EngineHarness h;
  h.Request(0, kDev);
  h.Request(0, kDev2);
  h.Answer(100, kDev2, SingleQuote("UPDATE", "AAPL"));
  h.Answer(150, kDev2, SingleQuote("UPDATE", "AAPL"));
  EXPECT_EQ(h.V(kResp, Sym("unknown")), 1);
  EXPECT_EQ(h.V(kPend, Sym("unknown")), 1);
  EXPECT_EQ(h.V(kUnmatched, Reason("duplicate")), 1);
}

TEST(CorrelationTest, StockRequestOfOtherTypeIsIgnored) {
  EngineHarness h;
  h.Publish(MessageKind::kStockRequest, 0, "STOCKPRICEUPDATE",
            "{\"type\":\"BOOT\",\"device\":\"A1B2C3D4E5F6\"}");
  h.Publish(MessageKind::kStockRequest, 0, "STOCKPRICEUPDATE", "{\"type\":\"PING\"}");
  EXPECT_TRUE(h.Samples(kReq).empty());
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 0);
  EXPECT_EQ(
      h.V("tickrmeter_messages_invalid_total", {{"kind", "stock_request"}, {"reason", "field"}}),
      0);
}

}  // namespace
}  // namespace tkmprom
