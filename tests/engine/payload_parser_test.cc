// PayloadParser: the shapes of protocol reference §1.3 and samples.jsonl,
// numbers as strings, old heartbeat shapes, broken input.
#include "src/engine/payload_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace tkmprom {
namespace {

TEST(PayloadParserTest, RequestWithAndWithoutSymbol) {
  PayloadParser p;
  RequestFields r;
  InvalidReason why;
  ASSERT_TRUE(p.ParseRequest(R"({"type":"UPDATE","device":"A1B2C3D4E5F6"})", &r, &why));
  EXPECT_EQ(r.type, "UPDATE");
  EXPECT_EQ(r.device, "A1B2C3D4E5F6");
  EXPECT_FALSE(r.has_symbol);
  ASSERT_TRUE(
      p.ParseRequest(R"({"type":"UPDATE","device":"A1B2C3D4E5F6","symbol":"BTC/USD"})", &r, &why));
  EXPECT_TRUE(r.has_symbol);
  EXPECT_EQ(r.symbol, "BTC/USD");
  // Extra fields, other order, spaces.
  ASSERT_TRUE(p.ParseRequest(
      R"( { "symbol" : "AAPL", "x":[1,{"y":2}], "device":"D", "type":"UPDATE" } )", &r, &why));
  EXPECT_EQ(r.symbol, "AAPL");
  EXPECT_EQ(r.device, "D");
}

// One object and blanks only: what follows it makes the payload invalid, in
// every parser (they share the walk).
TEST(PayloadParserTest, ContentAfterTheObjectIsInvalidJson) {
  PayloadParser p;
  RequestFields r;
  BootFields b;
  HeartbeatFields h;
  DeviceMessageFields m;
  InvalidReason why = InvalidReason::kTruncated;
  const std::string ok = R"({"type":"UPDATE","device":"A1B2C3D4E5F6","symbol":"AAPL"})";
  EXPECT_TRUE(p.ParseRequest(ok + " \n\t", &r, &why));
  for (const std::string& tail : {" x", "{}", ",", "}", "]", " 1", "\"s\""}) {
    why = InvalidReason::kTruncated;
    EXPECT_FALSE(p.ParseRequest(ok + tail, &r, &why)) << tail;
    EXPECT_EQ(why, InvalidReason::kJson) << tail;
    why = InvalidReason::kTruncated;
    EXPECT_FALSE(p.ParseBoot(R"({"type":"BOOT","device":"A1B2C3D4E5F6"})" + tail, &b, &why))
        << tail;
    EXPECT_EQ(why, InvalidReason::kJson) << tail;
    EXPECT_FALSE(p.ParseHeartbeat(R"({"device":"A1B2C3D4E5F6","battery":"80"})" + tail, &h, &why))
        << tail;
    EXPECT_FALSE(p.ParseDeviceMessage(R"({"type":"NEW","symbol":"AAPL"})" + tail, &m, &why))
        << tail;
  }
}

TEST(PayloadParserTest, RequestProblemsHaveReasons) {
  PayloadParser p;
  RequestFields r;
  InvalidReason why = InvalidReason::kTruncated;
  EXPECT_FALSE(p.ParseRequest(R"({"type":"UPDATE","device":"A1B2)", &r, &why));
  EXPECT_EQ(why, InvalidReason::kJson);
  // An unescaped quote in the symbol (the firmware does not escape).
  EXPECT_FALSE(
      p.ParseRequest(R"({"type":"UPDATE","device":"A1B2C3D4E5F6","symbol":"A"B"})", &r, &why));
  EXPECT_EQ(why, InvalidReason::kJson);
  EXPECT_FALSE(p.ParseRequest(R"([1,2])", &r, &why));
  EXPECT_EQ(why, InvalidReason::kJson);
  EXPECT_FALSE(p.ParseRequest("", &r, &why));
  EXPECT_EQ(why, InvalidReason::kJson);
  EXPECT_FALSE(p.ParseRequest(R"({"type":"UPDATE"})", &r, &why));
  EXPECT_EQ(why, InvalidReason::kField);
  EXPECT_FALSE(p.ParseRequest(R"({"type":"UPDATE","device":12})", &r, &why));
  EXPECT_EQ(why, InvalidReason::kField);
  EXPECT_FALSE(p.ParseRequest(R"({"device":"A1B2C3D4E5F6"})", &r, &why));
  EXPECT_EQ(why, InvalidReason::kField);
}

TEST(PayloadParserTest, CurrentHeartbeatWithSpaces) {
  PayloadParser p;
  HeartbeatFields h;
  InvalidReason why;
  ASSERT_TRUE(p.ParseHeartbeat(
      R"({"status":"online","firmware_version":"70p","device":"A1B2C3D4E5F6","battery":"87","vin":"1830","uptime":"86400","isCharging":"0","wflct":"3","iv":"elec+HB", "xmc":"1", "flashID":"C84016"})",
      &h, &why));
  EXPECT_EQ(h.device, "A1B2C3D4E5F6");
  EXPECT_EQ(h.firmware_version, "70p");
  EXPECT_EQ(h.inner_version, "elec+HB");
  EXPECT_EQ(h.flash_id, "C84016");
  EXPECT_EQ(h.battery, 87);
  EXPECT_EQ(h.vin, 1830);
  EXPECT_EQ(h.uptime, 86400);
  EXPECT_EQ(h.charging, 0);
  EXPECT_EQ(h.wifi_disconnects, 3);
  EXPECT_EQ(h.xmc, 1);
}

TEST(PayloadParserTest, OldHeartbeatShapes) {
  PayloadParser p;
  HeartbeatFields h;
  InvalidReason why;
  ASSERT_TRUE(p.ParseHeartbeat(
      R"({"status":"online","firmware_version":"40p","device":"A1B2C3D4E5F6","battery":"55","vin":"2731","uptime":"120","isCharging":"1","wflc":"2"})",
      &h, &why));
  EXPECT_EQ(h.wifi_disconnects, 2);
  EXPECT_EQ(h.charging, 1);
  EXPECT_EQ(h.inner_version, "");
  EXPECT_EQ(h.xmc, HeartbeatFields::kAbsent);
  ASSERT_TRUE(p.ParseHeartbeat(
      R"({"status":"online","firmware_version":"41p","device":"A1B2C3D4E5F6","battery":"55", "vin":"2731","uptime":"120","isCharging":"1","wlc":"9"})",
      &h, &why));
  EXPECT_EQ(h.wifi_disconnects, 9);
  // Numbers as numbers; fw 22-35 shape without uptime.
  ASSERT_TRUE(p.ParseHeartbeat(
      R"({"status":"online","firmware_version":"30","device":"A1B2C3D4E5F6","battery":91,"vin":2900})",
      &h, &why));
  EXPECT_EQ(h.battery, 91);
  EXPECT_EQ(h.vin, 2900);
  EXPECT_EQ(h.uptime, -1);
  EXPECT_EQ(h.wifi_disconnects, -1);
  // A numeric firmware version and a negative xmc.
  ASSERT_TRUE(p.ParseHeartbeat(
      R"({"firmware_version":5,"device":"A1B2C3D4E5F6","xmc":"-2","uptime":12.0})", &h, &why));
  EXPECT_EQ(h.firmware_version, "5");
  EXPECT_EQ(h.xmc, -2);
  EXPECT_EQ(h.uptime, 12);
}

TEST(PayloadParserTest, HeartbeatBadOptionalFieldIgnoredMissingDeviceInvalid) {
  PayloadParser p;
  HeartbeatFields h;
  InvalidReason why;
  ASSERT_TRUE(
      p.ParseHeartbeat(R"({"device":"A1B2C3D4E5F6","battery":"lots","vin":[1]})", &h, &why));
  EXPECT_EQ(h.battery, -1);
  EXPECT_EQ(h.vin, -1);
  EXPECT_FALSE(p.ParseHeartbeat(R"({"status":"online","battery":"87"})", &h, &why));
  EXPECT_EQ(why, InvalidReason::kField);
}

TEST(PayloadParserTest, DeviceMessages) {
  PayloadParser p;
  DeviceMessageFields m;
  InvalidReason why;
  ASSERT_TRUE(p.ParseDeviceMessage(
      R"({"symbol":"BTC","price":"$97123","p":97123.41,"percent":"1 day -1.20%","perValue":-1.2,"date":"03:45PM 12 Jan 2025","name":"My list","currency":"$","isPlaylist":true,"isMusicCreatorPl":false,"type":"UPDATE","cycleInterval":"120","updateInterval":"120","symbols":"AAPL,BTC/USD,MSFT","symbolIndex":1,"cycleMode":"default","ledBrightness":50,"alertEnabled":false})",
      &m, &why));
  EXPECT_EQ(m.type, "UPDATE");
  EXPECT_EQ(m.symbol, "BTC");
  EXPECT_TRUE(m.is_playlist);
  EXPECT_EQ(m.symbols, "AAPL,BTC/USD,MSFT");
  EXPECT_TRUE(m.has_symbol_index);
  EXPECT_EQ(m.symbol_index, 1);
  ASSERT_TRUE(
      p.ParseDeviceMessage(R"({"type":"UPDATE","isPlaylist":true,"symbolIndex":"2"})", &m, &why));
  EXPECT_EQ(m.symbol_index, 2);
  ASSERT_TRUE(p.ParseDeviceMessage(
      R"({"mode":"page","page":[{"id":-1}],"updateInterval":300,"error":"Error in getting data"})",
      &m, &why));
  EXPECT_EQ(m.mode, "page");
  EXPECT_TRUE(m.has_error);
  ASSERT_TRUE(p.ParseDeviceMessage(
      R"({"type":"DEVICE_ASSIGNED","success":false,"message":"Device Not Found"})", &m, &why));
  EXPECT_EQ(m.success, 0);
  EXPECT_FALSE(p.ParseDeviceMessage("not json", &m, &why));
  EXPECT_EQ(why, InvalidReason::kJson);
  EXPECT_FALSE(p.ParseDeviceMessage(R"({"type":7})", &m, &why));
  EXPECT_EQ(why, InvalidReason::kField);
}

// symbolType names the quote backend (§7.5); like every numeric field it
// may arrive as a string (protocol reference, quirk 6).
TEST(PayloadParserTest, SymbolTypeAsNumberOrString) {
  PayloadParser p;
  DeviceMessageFields m;
  InvalidReason why;
  ASSERT_TRUE(p.ParseDeviceMessage(
      R"({"symbol":"AAPL","price":"$229.97","p":229.97,"percent":"1 day +0.85%","perValue":0.85,"date":"03:45PM 12 Jan 2025","name":"Apple Inc.","currency":"$","isPlaylist":false,"type":"UPDATE","interval":"300","symbolType":1,"ledBrightness":100,"alertEnabled":false})",
      &m, &why));
  EXPECT_TRUE(m.has_symbol_type);
  EXPECT_EQ(m.symbol_type, 1);
  struct Case {
    const char* json;
    bool present;
    int64_t value;
  };
  const Case cases[] = {
      {R"({"type":"UPDATE","symbolType":"2"})", true, 2},
      {R"({"type":"UPDATE","symbolType":" 12 "})", true, 12},
      {R"({"type":"UPDATE","symbolType":12.0})", true, 12},
      {R"({"type":"UPDATE","symbolType":99})", true, 99},
      {R"({"type":"UPDATE","symbolType":"crypto"})", true, -1},
      {R"({"type":"UPDATE","symbolType":true})", true, -1},
      {R"({"type":"UPDATE","symbolType":[2]})", true, -1},
      {R"({"type":"UPDATE","symbolType":null})", false, -1},
      {R"({"type":"UPDATE"})", false, -1},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(p.ParseDeviceMessage(c.json, &m, &why)) << c.json;
    EXPECT_EQ(m.has_symbol_type, c.present) << c.json;
    EXPECT_EQ(m.symbol_type, c.value) << c.json;
  }
}

TEST(PayloadParserTest, BufferGrowsAndIsReused) {
  PayloadParser p;
  RequestFields r;
  InvalidReason why;
  std::string big =
      R"({"type":"UPDATE","device":"A1B2C3D4E5F6","pad":")" + std::string(5000, 'x') + R"("})";
  ASSERT_TRUE(p.ParseRequest(big, &r, &why));
  EXPECT_EQ(r.device, "A1B2C3D4E5F6");
  ASSERT_TRUE(p.ParseRequest(R"({"type":"UPDATE","device":"B"})", &r, &why));
  EXPECT_EQ(r.device, "B");
}

}  // namespace
}  // namespace tkmprom
