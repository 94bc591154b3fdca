#include "src/http/api_json.h"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace tkmprom {
namespace {

using Json = nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

SymbolWindow Window(std::string symbol, double avg, double p95, double timeout_rate,
                    uint64_t requests, std::string backend = "unknown") {
  SymbolWindow w;
  w.symbol = std::move(symbol);
  w.backend = std::move(backend);
  w.avg_latency_s = avg;
  w.p95_latency_s = p95;
  w.timeout_rate = timeout_rate;
  w.requests = requests;
  return w;
}

std::vector<std::string> Symbols(const Json& array) {
  std::vector<std::string> out;
  for (const Json& item : array) out.push_back(item.at("symbol").get<std::string>());
  return out;
}

TEST(SlowestSymbolsJsonTest, OrdersSlowestFirstWithAllFields) {
  Snapshot s;
  s.symbols = {Window("FAST", 0.1, 0.2, 0, 50), Window("SLOW", 2.5, 4.0, 0, 20, "crypto"),
               Window("MID", 1.0, 1.5, 0, 30, "stock")};
  Json out = Json::parse(SlowestSymbolsJson(s, 10, 10));
  ASSERT_TRUE(out.is_array());
  EXPECT_EQ(Symbols(out), (std::vector<std::string>{"SLOW", "MID", "FAST"}));
  const Json& first = out[0];
  EXPECT_DOUBLE_EQ(first.at("avg_latency_seconds").get<double>(), 2.5);
  EXPECT_DOUBLE_EQ(first.at("p95_latency_seconds").get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(first.at("timeout_rate").get<double>(), 0.0);
  EXPECT_EQ(first.at("requests").get<uint64_t>(), 20u);
  EXPECT_EQ(first.at("backend").get<std::string>(), "crypto");
  EXPECT_EQ(first.size(), 6u);
  EXPECT_EQ(out[1].at("backend").get<std::string>(), "stock");
  EXPECT_EQ(out[2].at("backend").get<std::string>(), "unknown");
}

TEST(SlowestSymbolsJsonTest, TimeoutRateWeighsTenSecondsPerUnit) {
  Snapshot s;
  // Score: A = 3.0; B = 0.5 + 10 * 0.3 = 3.5; C = 0 (NaN) + 10 * 0.2 = 2.0.
  s.symbols = {Window("A", 3.0, 3.0, 0, 10), Window("B", 0.5, 0.9, 0.3, 10),
               Window("C", kNaN, kNaN, 0.2, 10)};
  Json out = Json::parse(SlowestSymbolsJson(s, 10, 0));
  EXPECT_EQ(Symbols(out), (std::vector<std::string>{"B", "A", "C"}));
}

TEST(SlowestSymbolsJsonTest, NaNLatenciesAreNull) {
  Snapshot s;
  s.symbols = {Window("NOANSWER", kNaN, kNaN, 1.0, 12)};
  Json out = Json::parse(SlowestSymbolsJson(s, 10, 10));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].at("avg_latency_seconds").is_null());
  EXPECT_TRUE(out[0].at("p95_latency_seconds").is_null());
  EXPECT_DOUBLE_EQ(out[0].at("timeout_rate").get<double>(), 1.0);
}

TEST(SlowestSymbolsJsonTest, LeavesOutSymbolsBelowMinRequests) {
  Snapshot s;
  s.symbols = {Window("RARE", 9.0, 9.0, 0, 9), Window("EXACT", 1.0, 1.0, 0, 10),
               Window("MANY", 0.5, 0.5, 0, 1000)};
  Json out = Json::parse(SlowestSymbolsJson(s, 10, 10));
  EXPECT_EQ(Symbols(out), (std::vector<std::string>{"EXACT", "MANY"}));
}

TEST(SlowestSymbolsJsonTest, BreaksTiesBySymbolName) {
  Snapshot s;
  s.symbols = {Window("ZED", 1.0, 1.0, 0, 10), Window("ABC", 1.0, 2.0, 0, 10),
               Window("MMM", 1.0, 1.0, 0, 10), Window("ONE", kNaN, kNaN, 0, 10),
               Window("NIL", 0, 0, 0, 10)};
  Json out = Json::parse(SlowestSymbolsJson(s, 10, 0));
  EXPECT_EQ(Symbols(out), (std::vector<std::string>{"ABC", "MMM", "ZED", "NIL", "ONE"}));
}

TEST(SlowestSymbolsJsonTest, HonoursLimit) {
  Snapshot s;
  for (int i = 0; i < 50; ++i) {
    s.symbols.push_back(Window("S" + std::to_string(100 + i), i * 0.1, i * 0.1, 0, 10));
  }
  Json out = Json::parse(SlowestSymbolsJson(s, 3, 10));
  EXPECT_EQ(Symbols(out), (std::vector<std::string>{"S149", "S148", "S147"}));
  EXPECT_EQ(Json::parse(SlowestSymbolsJson(s, 0, 10)), Json::array());
  EXPECT_EQ(Json::parse(SlowestSymbolsJson(s, 1000, 10)).size(), 50u);
}

TEST(SlowestSymbolsJsonTest, EmptySnapshotIsEmptyArray) {
  EXPECT_EQ(SlowestSymbolsJson(Snapshot{}, 10, 10), "[]");
}

TEST(SlowestSymbolsJsonTest, InvalidUtf8SymbolDoesNotThrow) {
  Snapshot s;
  s.symbols = {Window(std::string("BAD\xff\xfe", 5), 1.0, 1.0, 0, 10)};
  std::string text;
  ASSERT_NO_THROW(text = SlowestSymbolsJson(s, 10, 10));
  Json out = Json::parse(text);
  EXPECT_EQ(out[0].at("symbol").get<std::string>(), "BAD\xEF\xBF\xBD\xEF\xBF\xBD");
}

DeviceState FullDevice() {
  DeviceState d;
  d.device_id = "A1B2C3D4E5F6";
  d.firmware_version = "2.4.1";
  d.inner_version = "17";
  d.flash_id = "XM25QH32";
  d.online = true;
  d.last_seen_age_s = 12.5;
  d.last_heartbeat_age_s = 30;
  d.battery = 87;
  d.vin = 4100;
  d.uptime_s = 86400;
  d.charging = 1;
  d.wifi_disconnects = 3;
  d.xmc = 2;
  d.boots = 4;
  d.requests = 100;
  d.responses = 95;
  d.errors = 2;
  d.timeouts = 1;
  d.pending = 1;
  d.last_symbol = "AAPL";
  return d;
}

TEST(DeviceJsonTest, WritesEveryField) {
  Snapshot s;
  s.devices.push_back(FullDevice());
  std::optional<std::string> text = DeviceJson(s, "A1B2C3D4E5F6");
  ASSERT_TRUE(text.has_value());
  Json expected = {{"device_id", "A1B2C3D4E5F6"},
                   {"firmware_version", "2.4.1"},
                   {"inner_version", "17"},
                   {"flash_id", "XM25QH32"},
                   {"online", true},
                   {"last_seen_age_seconds", 12.5},
                   {"last_heartbeat_age_seconds", 30.0},
                   {"battery", 87},
                   {"vin", 4100},
                   {"uptime_seconds", 86400},
                   {"charging", 1},
                   {"wifi_disconnects", 3},
                   {"xmc", 2},
                   {"boots", 4},
                   {"requests", 100},
                   {"responses", 95},
                   {"errors", 2},
                   {"timeouts", 1},
                   {"pending", 1},
                   {"last_symbol", "AAPL"}};
  EXPECT_EQ(Json::parse(*text), expected);
}

TEST(DeviceJsonTest, UnknownNumbersAreNull) {
  Snapshot s;
  DeviceState d;
  d.device_id = "000000000001";
  s.devices.push_back(d);
  Json out = Json::parse(*DeviceJson(s, "000000000001"));
  for (const char* key : {"last_heartbeat_age_seconds", "battery", "vin", "uptime_seconds",
                          "charging", "wifi_disconnects", "xmc"}) {
    EXPECT_TRUE(out.at(key).is_null()) << key;
  }
  EXPECT_EQ(out.at("online"), false);
  EXPECT_EQ(out.at("last_seen_age_seconds"), 0.0);
  EXPECT_EQ(out.at("boots"), 0);
  EXPECT_EQ(out.at("firmware_version"), "");
}

TEST(DeviceJsonTest, UnknownDeviceIsNullopt) {
  Snapshot s;
  s.devices.push_back(FullDevice());
  EXPECT_FALSE(DeviceJson(s, "FFFFFFFFFFFF").has_value());
  EXPECT_FALSE(DeviceJson(s, "").has_value());
  EXPECT_FALSE(DeviceJson(Snapshot{}, "A1B2C3D4E5F6").has_value());
}

TEST(ParseSlowestLimitTest, ParsesAndClamps) {
  EXPECT_EQ(ParseSlowestLimit("5"), 5u);
  EXPECT_EQ(ParseSlowestLimit("1000"), 1000u);
  EXPECT_EQ(ParseSlowestLimit("1001"), 1000u);
  EXPECT_EQ(ParseSlowestLimit("99999999999999999999999"), 1000u);
  EXPECT_EQ(ParseSlowestLimit("0"), 1u);
  EXPECT_EQ(ParseSlowestLimit("-3"), 1u);
  EXPECT_EQ(ParseSlowestLimit("+7"), 7u);
  EXPECT_EQ(ParseSlowestLimit("007"), 7u);
}

TEST(ParseSlowestLimitTest, RejectsNonNumbers) {
  for (const char* bad : {"", "abc", "1.5", "10x", " 10", "-", "+", "0x10", "1e3"}) {
    EXPECT_FALSE(ParseSlowestLimit(bad).has_value()) << bad;
  }
}

TEST(JsonErrorTest, IsAnObjectWithMessage) {
  EXPECT_EQ(Json::parse(JsonError("unknown \"device\"")), (Json{{"error", "unknown \"device\""}}));
}

}  // namespace
}  // namespace tkmprom
