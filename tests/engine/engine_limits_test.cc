// Bounded tables (max_devices, max_symbols, symbol_expiry) and the whole
// exposition passing `promtool check metrics`.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>

#include "src/engine/payload_parser.h"
#include "src/exposition/text_writer.h"
#include "tests/engine/engine_harness.h"

namespace tkmprom {
namespace {

std::string Id(int i) {
  char buf[13];
  std::snprintf(buf, sizeof(buf), "%012X", i);
  return buf;
}

TEST(EngineLimitsTest, MaxDevicesCountsOthersOnlyAsDropped) {
  Config c;
  c.max_devices = 2;
  EngineHarness h(c);
  h.Request(0, Id(1), "AAPL");
  h.Request(0, Id(2), "AAPL");
  h.Request(0, Id(3), "AAPL");  // not stored
  h.Heartbeat(0, R"({"device":")" + Id(3) + R"(","battery":"50"})");
  h.Boot(0, Id(4));
  h.Answer(100, Id(3), "{\"symbol\":\"AAPL\",\"isPlaylist\":true,\"type\":\"UPDATE\"}");
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 2);
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "AAPL"}}), 2);
  EXPECT_EQ(h.V("tickrmeter_tracking_dropped_total", {{"table", "devices"}}), 4);
  EXPECT_EQ(h.V("tickrmeter_stock_update_unmatched_responses_total", {{"reason", "unsolicited"}}),
            0);
  EXPECT_EQ(h.LedgerGap("AAPL"), 0);
  EXPECT_EQ(h.Snap()->devices.size(), 2u);
}

TEST(EngineLimitsTest, MaxSymbolsFoldsIntoOther) {
  Config c;
  c.max_symbols = 2;
  EngineHarness h(c);
  h.Request(0, Id(1), "A");
  h.Request(0, Id(1), "B");
  h.Request(0, Id(1), "C");
  h.Request(0, Id(1), "D");
  h.Request(0, Id(1));  // "unknown" does not count against the cap
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "_other"}}), 2);
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "C"}}), -1);
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "unknown"}}), 1);
  EXPECT_EQ(h.V("tickrmeter_tracking_dropped_total", {{"table", "symbols"}}), 2);
  // The answer for C still resolves its request, counted under _other.
  h.Answer(100, Id(1), "{\"symbol\":\"C\",\"isPlaylist\":true,\"type\":\"UPDATE\"}");
  EXPECT_EQ(h.V("tickrmeter_stock_update_responses_total", {{"symbol", "_other"}}), 1);
  EXPECT_EQ(h.LedgerGap("_other"), 0);
  EXPECT_EQ(h.Snap()->symbols.size(), 4u);  // A, B, _other, unknown
}

TEST(EngineLimitsTest, PendingRequestsPerDeviceAreBounded) {
  EngineHarness h;
  for (int i = 0; i < 70; ++i) h.Request(i, Id(1), "S" + std::to_string(i));
  const auto s = h.Snap();
  EXPECT_EQ(s->FindDevice(Id(1))->pending, 64u);
  EXPECT_EQ(h.V("tickrmeter_tracking_dropped_total", {{"table", "pending"}}), 6);
  // Refused requests are counted nowhere else.
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "S63"}}), 1);
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "S64"}}), -1);
  // Once answered, a slot serves a new request again.
  h.Answer(100, Id(1), "{\"symbol\":\"S0\",\"isPlaylist\":true,\"type\":\"UPDATE\"}");
  h.Request(200, Id(1), "S64");
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "S64"}}), 1);
}

TEST(EngineLimitsTest, OverlongSymbolsAndDeviceIdsAreNotStored) {
  Config c;
  c.device_id_pattern = "^D";
  EngineHarness h(c);
  const std::string longest(kMaxSymbolBytes, 'S');
  h.Request(0, "D1", longest);
  h.Request(0, "D1", longest + "S");  // invalid, stored nowhere
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", longest}}), 1);
  EXPECT_EQ(
      h.V("tickrmeter_messages_invalid_total", {{"kind", "stock_request"}, {"reason", "field"}}),
      1);
  // An over-long answer symbol resolves the request but is not learned.
  h.Request(1, "D1");
  h.Answer(2, "D1", "{\"symbol\":\"" + longest + "L\",\"type\":\"UPDATE\"}");
  h.Request(3, "D1");
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "unknown"}}), 2);
  const std::string long_id = "D" + std::string(kMaxDeviceIdBytes, 'x');
  h.Heartbeat(4, "{\"device\":\"" + long_id + "\",\"battery\":\"5\"}");
  h.Request(4, long_id, "AAPL");
  EXPECT_EQ(h.V("tickrmeter_messages_invalid_total", {{"kind", "heartbeat"}, {"reason", "device"}}),
            1);
  EXPECT_EQ(
      h.V("tickrmeter_messages_invalid_total", {{"kind", "stock_request"}, {"reason", "device"}}),
      1);
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 1);
}

// Topics are the other string a publisher controls in full (up to the ring's
// 1 KiB): one longer than any device id is not matched against a custom
// pattern, nor remembered among the non-device topics.
TEST(EngineLimitsTest, OverlongTopicsAreNoDeviceTopics) {
  Config c;
  c.device_id_pattern = "^D";
  EngineHarness h(c);
  const std::string longest = "D" + std::string(kMaxDeviceIdBytes - 1, 'x');
  h.Publish(MessageKind::kOther, 0, longest, SingleQuote("UPDATE", "AAPL"));
  h.Publish(MessageKind::kOther, 0, longest + "x", SingleQuote("UPDATE", "AAPL"));
  h.Publish(MessageKind::kOther, 0, "D" + std::string(1023, 'y'), SingleQuote("UPDATE", "AAPL"));
  PluginCounters p;
  p.received[static_cast<int>(MessageKind::kOther)] = 3;
  const auto s = h.Snap(p);
  EXPECT_EQ(EngineHarness::Find(*s, "tickrmeter_messages_total", {{"kind", "device_message"}}), 1);
  EXPECT_EQ(EngineHarness::Find(*s, "tickrmeter_messages_total", {{"kind", "other"}}), 2);
  EXPECT_EQ(EngineHarness::Find(*s, "tickrmeter_stock_update_unmatched_responses_total",
                                {{"reason", "unsolicited"}}),
            1);
}

TEST(EngineLimitsTest, IdleSymbolsExpireUnlessBusy) {
  Config c;
  c.symbol_expiry_s = 3600;
  EngineHarness h(c);
  h.Request(0, Id(1), "RARE");
  for (int i = 0; i < 100; ++i) h.Request(i * 10, Id(2), "BUSY");
  h.Advance(3'500'000);
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "RARE"}}), 1);
  h.Advance(3'700'000);
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "RARE"}}), -1);
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "BUSY"}}), 100);
  // A symbol with a pending request never expires.
  Config long_timeout = c;
  long_timeout.request_timeout_s = 10'000;
  EngineHarness p(long_timeout);
  p.Request(0, Id(1), "WAIT");
  p.Advance(3'700'000);
  EXPECT_EQ(p.V("tickrmeter_stock_update_pending", {{"symbol", "WAIT"}}), 1);
  // Once it expired, a new request starts the symbol from zero.
  h.Request(3'800'000, Id(1), "RARE");
  EXPECT_EQ(h.V("tickrmeter_stock_update_requests_total", {{"symbol", "RARE"}}), 1);
}

TEST(EngineLimitsTest, WindowedValuesAreNaNWithoutAnswers) {
  EngineHarness h;
  h.Request(0, Id(1), "AAPL");
  EXPECT_TRUE(std::isnan(h.V("tickrmeter_symbol_avg_latency_seconds", {{"symbol", "AAPL"}})));
  EXPECT_TRUE(std::isnan(
      h.V("tickrmeter_symbol_latency_seconds", {{"symbol", "AAPL"}, {"quantile", "0.99"}})));
  h.Answer(500, Id(1), "{\"symbol\":\"AAPL\",\"isPlaylist\":true,\"type\":\"UPDATE\"}");
  EXPECT_NEAR(h.V("tickrmeter_symbol_avg_latency_seconds", {{"symbol", "AAPL"}}), 0.5, 1e-9);
  h.Advance(400'000);  // past quantile_window
  EXPECT_TRUE(std::isnan(h.V("tickrmeter_symbol_avg_latency_seconds", {{"symbol", "AAPL"}})));
  EXPECT_EQ(h.V("tickrmeter_symbol_latency_seconds_count", {{"symbol", "AAPL"}}), 1);
  const auto s = h.Snap();
  ASSERT_EQ(s->symbols.size(), 1u);
  EXPECT_TRUE(std::isnan(s->symbols[0].p95_latency_s));
}

TEST(EngineLimitsTest, LatencyBucketsSortedDedupedWithOneInf) {
  Config c;
  c.latency_buckets = {1, 0.25, 1, std::numeric_limits<double>::infinity()};
  EngineHarness h(c);
  h.Request(0, Id(1), "AAPL");
  h.Answer(700, Id(1), "{\"symbol\":\"AAPL\",\"isPlaylist\":true,\"type\":\"UPDATE\"}");
  const auto buckets = h.Samples("tickrmeter_stock_update_latency_seconds_bucket");
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[0]->labels.back().value, "0.25");
  EXPECT_EQ(buckets[0]->value, 0);
  EXPECT_EQ(buckets[1]->labels.back().value, "1");
  EXPECT_EQ(buckets[1]->value, 1);
  EXPECT_EQ(buckets[2]->labels.back().value, "+Inf");
  EXPECT_EQ(buckets[2]->value, 1);
}

std::string RunPromtool(const std::string& text) {
  char path[] = "/tmp/tkmprom_engine_metrics_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return "mkstemp failed";
  close(fd);
  std::ofstream(path) << text;
  const std::string cmd = std::string("promtool check metrics < ") + path + " 2>&1";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[512];
    while (fgets(buf, sizeof(buf), p)) out += buf;
    if (pclose(p) != 0) out += "\n(exit status non-zero)";
  }
  std::remove(path);
  return out;
}

TEST(EngineLimitsTest, ExpositionPassesPromtool) {
  if (std::system("promtool --version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no promtool";
  for (bool per_device : {false, true}) {
    Config c;
    c.per_device_metrics = per_device;
    EngineHarness h(c);
    h.Heartbeat(0, R"({"firmware_version":"70p","device":")" + Id(1) +
                       R"(","battery":"87","uptime":"99","isCharging":"1","wflct":"3","vin":"1"})");
    h.Boot(0, Id(2));
    h.Request(0, Id(1));
    h.Request(0, Id(1), "BTC/USD");
    h.Request(0, Id(2), "a \"quoted\" \\ symbol");
    h.Answer(100, Id(1), "{\"symbol\":\"AAPL\",\"isPlaylist\":false,\"type\":\"UPDATE\"}");
    h.Answer(100, Id(1), "{\"symbol\":\"BTC\",\"isPlaylist\":true,\"type\":\"UPDATE\"}");
    h.Advance(40'000);
    PluginCounters p;
    p.version = "0.1.0";
    p.mosquitto_version = "2.0.11";
    std::string text;
    WriteExposition(CollectFamilies(*h.Snap(p)), ExpositionFormat::kText004, &text);
    EXPECT_EQ(RunPromtool(text), "") << text;
  }
}

}  // namespace
}  // namespace tkmprom
