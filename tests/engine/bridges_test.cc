// The engine in a bridged fleet (plugin_opt_bridge_clients,
// plugin_opt_bridged_publishes): each request, device and answer is counted
// by exactly one broker, so sums over brokers are fleet totals.
#include <gtest/gtest.h>

#include <string>

#include "tests/engine/engine_harness.h"

namespace tkmprom {
namespace {

constexpr char kRequests[] = "tickrmeter_stock_update_requests_total";
constexpr char kResponses[] = "tickrmeter_stock_update_responses_total";
constexpr char kLatencyCount[] = "tickrmeter_stock_update_latency_seconds_count";
constexpr char kLatencySum[] = "tickrmeter_stock_update_latency_seconds_sum";
constexpr char kPending[] = "tickrmeter_stock_update_pending";
constexpr char kTracked[] = "tickrmeter_devices_tracked";
constexpr char kBoots[] = "tickrmeter_device_boots_total";
constexpr char kInvalid[] = "tickrmeter_messages_invalid_total";

const Labels kAapl = {{"symbol", "AAPL"}};

Config Bridged(const char* mode = "answers") {
  Config c;
  std::string message;
  EXPECT_EQ(ApplyOption("bridge_clients", "bridge-*", &c, &message), OptionResult::kOk);
  EXPECT_EQ(ApplyOption("bridged_publishes", mode, &c, &message), OptionResult::kOk);
  return c;
}

double Unmatched(EngineHarness& h) {
  double total = 0;
  for (const char* reason : {"late", "duplicate", "unsolicited"}) {
    total += h.V("tickrmeter_stock_update_unmatched_responses_total", {{"reason", reason}});
  }
  return total;
}

std::string Hb(const std::string& device) {
  return R"({"status":"online","firmware_version":"70p","device":")" + device +
         R"(","battery":"87","vin":"1830","uptime":"100","isCharging":"0","wflct":"3"})";
}

// The edge: the device's request is local, its answer comes over the bridge.
TEST(BridgesTest, EdgeCorrelatesLocalRequestsWithBridgedAnswers) {
  EngineHarness h(Bridged());
  h.Request(0, kDev, "AAPL");
  h.SetBridged(true);
  h.Answer(250, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL,MSFT", 0));
  EXPECT_EQ(h.V(kRequests, kAapl), 1);
  EXPECT_EQ(h.V(kResponses, kAapl), 1);
  EXPECT_EQ(h.V(kLatencyCount, kAapl), 1);
  EXPECT_NEAR(h.V(kLatencySum, kAapl), 0.25, 1e-9);
  EXPECT_EQ(h.LedgerGap("AAPL"), 0);
}

// Another edge's devices' traffic reaches every edge through the core.
TEST(BridgesTest, EdgeIgnoresOtherBrokersDevices) {
  EngineHarness h(Bridged());
  h.SetBridged(true);
  h.Request(0, kDev2, "AAPL");
  h.Heartbeat(10, Hb(kDev2));
  h.Boot(20, kDev2);
  h.Answer(250, kDev2, PlaylistQuote("UPDATE", "AAPL", "AAPL,MSFT", 0));
  h.Answer(260, kDev2, "not json");
  EXPECT_EQ(h.V(kRequests, kAapl), -1);  // the symbol was never seen here
  EXPECT_EQ(h.V(kTracked), 0);
  EXPECT_EQ(h.V(kBoots, {{"firmware_version", "unknown"}}), -1);
  EXPECT_EQ(Unmatched(h), 0);
  EXPECT_EQ(h.V(kInvalid, {{"kind", "device_message"}, {"reason", "json"}}), 0);
}

// Devices reconnect to any edge: one seen publishing through another broker
// is forgotten here, so it is online and correlated at one broker only.
TEST(BridgesTest, DeviceThatMovedToAnotherBrokerIsForgotten) {
  EngineHarness h(Bridged());
  h.Heartbeat(0, Hb(kDev));
  h.Heartbeat(0, Hb(kDev2));
  h.Request(10, kDev, "AAPL");
  h.Request(10, kDev2, "AAPL");
  ASSERT_EQ(h.V(kTracked), 2);
  h.SetBridged(true);
  h.Request(1000, kDev, "MSFT");  // kDev asks through another edge
  EXPECT_EQ(h.V(kTracked), 1);
  // Its request pending here will never be answered here: a timeout.
  EXPECT_EQ(h.V("tickrmeter_symbol_timeout_total", kAapl), 1);
  EXPECT_EQ(h.V(kPending, kAapl), 1);  // kDev2's
  // The answer to its new request reaches this edge too, and is not ours.
  h.Answer(1100, kDev, PlaylistQuote("UPDATE", "MSFT", "AAPL,MSFT", 1));
  EXPECT_EQ(Unmatched(h), 0);
  EXPECT_EQ(h.LedgerGap("AAPL"), 0);
  // Heartbeats and boots through another broker move a device too.
  h.Heartbeat(2000, Hb(kDev2));
  EXPECT_EQ(h.V(kTracked), 0);
  // A bridged request that names no device, or an unknown one, changes nothing.
  h.SetBridged(false);
  h.Heartbeat(3000, Hb(kDev));
  h.SetBridged(true);
  h.Publish(MessageKind::kStockRequest, 3100, "STOCKPRICEUPDATE", "{\"type\":\"UPDATE\"}");
  h.Publish(MessageKind::kStockRequest, 3100, "STOCKPRICEUPDATE", "not json");
  h.Boot(3200, kDev2);
  EXPECT_EQ(h.V(kTracked), 1);
  EXPECT_EQ(h.V(kInvalid, {{"kind", "stock_request"}, {"reason", "json"}}), 0);
  h.Boot(3300, kDev);
  EXPECT_EQ(h.V(kTracked), 0);
}

// The core: requests arrive over bridges, answers from the local backend; the
// edges count both, so the core counts neither.
TEST(BridgesTest, CoreLeavesCorrelationToTheEdges) {
  EngineHarness h(Bridged());
  h.SetBridged(true);
  h.Request(0, kDev, "AAPL");
  h.SetBridged(false);
  h.Answer(250, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL,MSFT", 0));
  h.Advance(60'000);
  EXPECT_EQ(h.V(kTracked), 0);
  EXPECT_EQ(Unmatched(h), 0);
  EXPECT_EQ(h.V("tickrmeter_symbol_timeout_total", kAapl), -1);
}

// Without bridge_clients, an answer nobody asked for is unsolicited, as before.
TEST(BridgesTest, StandaloneBrokerStillCountsUnsolicitedAnswers) {
  EngineHarness h;
  h.Answer(250, kDev, SingleQuote("NEW", "AAPL"));
  EXPECT_EQ(h.V("tickrmeter_stock_update_unmatched_responses_total", {{"reason", "unsolicited"}}),
            1);
}

// A device this edge tracks still gets its unmatched answers counted.
TEST(BridgesTest, TrackedDevicesDuplicateAnswersCounted) {
  EngineHarness h(Bridged());
  h.Request(0, kDev, "AAPL");
  h.SetBridged(true);
  h.Answer(100, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL,MSFT", 0));
  h.Answer(110, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL,MSFT", 0));
  EXPECT_EQ(h.V("tickrmeter_stock_update_unmatched_responses_total", {{"reason", "duplicate"}}), 1);
}

// bridged_publishes all: a core that correlates for edges without tkmprom.
TEST(BridgesTest, AllModeHandlesBridgedPublishesLikeLocalOnes) {
  EngineHarness h(Bridged("all"));
  h.SetBridged(true);
  h.Heartbeat(0, Hb(kDev));
  h.Request(10, kDev, "AAPL");
  h.SetBridged(false);
  h.Answer(110, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL,MSFT", 0));
  EXPECT_EQ(h.V(kTracked), 1);
  EXPECT_EQ(h.V(kResponses, kAapl), 1);
  EXPECT_NEAR(h.V(kLatencySum, kAapl), 0.1, 1e-9);
}

TEST(BridgesTest, NoneModeIgnoresEveryBridgedPublish) {
  EngineHarness h(Bridged("none"));
  h.Request(0, kDev, "AAPL");
  h.SetBridged(true);
  h.Answer(100, kDev, PlaylistQuote("UPDATE", "AAPL", "AAPL,MSFT", 0));
  EXPECT_EQ(h.V(kResponses, kAapl), 0);
  EXPECT_EQ(h.V(kPending, kAapl), 1);
}

TEST(BridgesTest, BridgedCountsAreExportedApartFromLocalOnes) {
  Config c = Bridged();
  std::string message;
  ASSERT_EQ(ApplyOption("device_id_pattern", "^dev-[0-9]+$", &c, &message), OptionResult::kOk);
  EngineHarness h(c);
  h.Request(0, "dev-1", "AAPL");
  h.SetBridged(true);  // the hook leaves custom-pattern device topics as kOther
  h.Publish(MessageKind::kOther, 100, "dev-1", PlaylistQuote("UPDATE", "AAPL", "AAPL,MSFT", 0));
  h.Publish(MessageKind::kOther, 100, "ELSEWHERE", "x");
  EXPECT_EQ(h.V(kResponses, kAapl), 1);
  PluginCounters p;
  p.received[static_cast<int>(MessageKind::kStockRequest)] = 1;
  p.bridged[static_cast<int>(MessageKind::kOther)] = 2;
  auto s = h.Snap(p);
  auto get = [&](const char* name, const char* kind) {
    return EngineHarness::Find(*s, name, {{"kind", kind}}).value_or(-1);
  };
  EXPECT_EQ(get("tickrmeter_messages_total", "stock_request"), 1);
  EXPECT_EQ(get("tickrmeter_messages_total", "device_message"), 0);
  EXPECT_EQ(get("tickrmeter_messages_total", "other"), 0);
  EXPECT_EQ(get("tickrmeter_messages_bridged_total", "stock_request"), 0);
  EXPECT_EQ(get("tickrmeter_messages_bridged_total", "device_message"), 1);
  EXPECT_EQ(get("tickrmeter_messages_bridged_total", "other"), 1);
}

}  // namespace
}  // namespace tkmprom
