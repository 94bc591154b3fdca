// Device registry through the Engine: boots (contract §5), heartbeats and
// online state (§4, §6), fleet distributions, per-device series, the custom
// device_id_pattern and invalid messages.
#include <gtest/gtest.h>

#include <string>

#include "tests/engine/engine_harness.h"

namespace tkmprom {
namespace {

constexpr char kBoots[] = "tickrmeter_device_boots_total";
constexpr char kOnline[] = "tickrmeter_devices_online";
constexpr char kInvalid[] = "tickrmeter_messages_invalid_total";

std::string Hb(const std::string& device, const std::string& fw, int uptime, int battery = 87,
               int charging = 0) {
  return R"({"status":"online","firmware_version":")" + fw + R"(","device":")" + device +
         R"(","battery":")" + std::to_string(battery) + R"(","vin":"1830","uptime":")" +
         std::to_string(uptime) + R"(","isCharging":")" + std::to_string(charging) +
         R"(","wflct":"3","iv":"elec+HB", "xmc":"1", "flashID":"C84016"})";
}

Labels Fw(const std::string& fw) { return {{"firmware_version", fw}}; }
Labels OnlineLabels(const std::string& fw, const std::string& iv, const std::string& flash) {
  return {{"firmware_version", fw}, {"inner_version", iv}, {"flash_id", flash}};
}
Labels Invalid(const std::string& kind, const std::string& reason) {
  return {{"kind", kind}, {"reason", reason}};
}

TEST(DevicesTest, BootResendsAndEchoesCountedOnce) {
  EngineHarness h;
  h.Boot(0, kDev);
  h.Booted(10, kDev);
  h.Booted(20, kDev);
  h.Boot(10'000, kDev);  // resend: nothing arrived on the device topic
  h.Booted(10'010, kDev);
  h.Boot(20'000, kDev);
  h.Boot(75'000, kDev);  // resends keep refreshing the 60 s window
  EXPECT_EQ(h.V(kBoots, Fw("unknown")), 1);
  h.Snap();
  EXPECT_EQ(h.Snap()->FindDevice(kDev)->boots, 1u);
}

TEST(DevicesTest, BootAfterAnswerCountsAgain) {
  EngineHarness h;
  h.Heartbeat(0, Hb(kDev, "70p", 100));
  h.Boot(1000, kDev);
  h.Answer(1500, kDev, SingleQuote("NEW", "AAPL"));
  h.Boot(5000, kDev);  // a real second boot: the device had its answer
  EXPECT_EQ(h.V(kBoots, Fw("70p")), 2);
}

TEST(DevicesTest, BootAfterSixtySecondsCountsAgain) {
  EngineHarness h;
  h.Boot(0, kDev);
  h.Boot(61'000, kDev);
  EXPECT_EQ(h.V(kBoots, Fw("unknown")), 2);
}

TEST(DevicesTest, UptimeDropIsBoot) {
  EngineHarness h;
  h.Heartbeat(0, Hb(kDev, "65d", 5000));
  h.Heartbeat(60'000, Hb(kDev, "70p", 30));  // rebooted into new firmware, no announcement seen
  EXPECT_EQ(h.V(kBoots, Fw("70p")), 1);
  EXPECT_EQ(h.V(kBoots, Fw("65d")), -1);
}

TEST(DevicesTest, UptimeDropAfterBootAnnouncementNotCountedTwice) {
  EngineHarness h;
  h.Heartbeat(0, Hb(kDev, "70p", 5000));
  h.Boot(60'000, kDev);
  h.Heartbeat(60'100, Hb(kDev, "70p", 2));
  EXPECT_EQ(h.V(kBoots, Fw("70p")), 1);
  // A later drop without an announcement counts.
  h.Heartbeat(120'000, Hb(kDev, "70p", 62));
  h.Heartbeat(180'000, Hb(kDev, "70p", 1));
  EXPECT_EQ(h.V(kBoots, Fw("70p")), 2);
}

// Protocol §3.1: on connect a booting device sends its heartbeat first and
// TICKRMETERBOOT right after; the two rules see one boot.
TEST(DevicesTest, BootAnnouncementRightAfterAnUptimeDropIsTheSameBoot) {
  EngineHarness h;
  h.Heartbeat(0, Hb(kDev, "70p", 5000));
  h.Heartbeat(60'000, Hb(kDev, "70p", 3));
  h.Boot(60'050, kDev);
  h.Boot(70'050, kDev);  // and its resend
  EXPECT_EQ(h.V(kBoots, Fw("70p")), 1);
  // Once the device had an answer, the next announcement is a new boot.
  h.Answer(71'000, kDev, R"({"type":"NO_CONFIG","success":false,"message":"x"})");
  h.Boot(200'000, kDev);
  EXPECT_EQ(h.V(kBoots, Fw("70p")), 2);
}

TEST(DevicesTest, UptimeWrapIsNotBoot) {
  EngineHarness h;
  h.Heartbeat(0, Hb(kDev, "70p", 4294950));
  h.Heartbeat(60'000, Hb(kDev, "70p", 43));
  EXPECT_EQ(h.V(kBoots, Fw("70p")), -1);
}

TEST(DevicesTest, HeartbeatShapesOfOldFirmwareAndNumbersAsNumbers) {
  EngineHarness h;
  h.Heartbeat(
      0,
      R"({"status":"online","firmware_version":"40p","device":"A1B2C3D4E5F6","battery":"55","vin":"2731","uptime":"120","isCharging":"1","wflc":"2"})");
  h.Heartbeat(
      0,
      R"({"status":"online","firmware_version":"30","device":"0123456789AB","battery":91,"vin":2900})");
  auto s = h.Snap();
  const DeviceState& a = *s->FindDevice(kDev);
  EXPECT_EQ(a.firmware_version, "40p");
  EXPECT_EQ(a.battery, 55);
  EXPECT_EQ(a.charging, 1);
  EXPECT_EQ(a.wifi_disconnects, 2);
  EXPECT_EQ(a.uptime_s, 120);
  const DeviceState& b = *s->FindDevice(kDev2);
  EXPECT_EQ(b.battery, 91);
  EXPECT_EQ(b.vin, 2900);
  EXPECT_EQ(b.uptime_s, -1);
  EXPECT_EQ(h.V(kOnline, OnlineLabels("40p", "unknown", "unknown")), 1);
  EXPECT_EQ(h.V(kOnline, OnlineLabels("30", "unknown", "unknown")), 1);
  EXPECT_EQ(h.V("tickrmeter_devices_charging"), 1);
  EXPECT_EQ(h.V(kInvalid, Invalid("heartbeat", "field")), 0);
}

TEST(DevicesTest, OnlineLabelsFleetDistributionsAndOfflineAfterDeviceTimeout) {
  EngineHarness h;
  h.Heartbeat(0, Hb(kDev, "70p", 7200, 95, 1));
  h.Heartbeat(0, Hb(kDev2, "70p", 100, 20, 0));
  h.Request(0, "FFFFFFFFFFFF");  // seen only through a request: unknown labels
  EXPECT_EQ(h.V(kOnline, OnlineLabels("70p", "elec+HB", "C84016")), 2);
  EXPECT_EQ(h.V(kOnline, OnlineLabels("unknown", "unknown", "unknown")), 1);
  EXPECT_EQ(h.V("tickrmeter_devices_battery_level", {{"upper_bound", "10"}}), 0);
  EXPECT_EQ(h.V("tickrmeter_devices_battery_level", {{"upper_bound", "25"}}), 1);
  EXPECT_EQ(h.V("tickrmeter_devices_battery_level", {{"upper_bound", "90"}}), 1);
  EXPECT_EQ(h.V("tickrmeter_devices_battery_level", {{"upper_bound", "100"}}), 2);
  EXPECT_EQ(h.V("tickrmeter_devices_uptime_seconds", {{"upper_bound", "3600"}}), 1);
  EXPECT_EQ(h.V("tickrmeter_devices_uptime_seconds", {{"upper_bound", "86400"}}), 2);
  EXPECT_EQ(h.V("tickrmeter_devices_uptime_seconds", {{"upper_bound", "+Inf"}}), 2);
  EXPECT_EQ(h.V("tickrmeter_devices_charging"), 1);
  // kDev stays; the others fall silent past device_timeout (2100 s).
  h.Heartbeat(2'000'000, Hb(kDev, "70p", 9200, 95, 1));
  h.Advance(2'100'001);
  EXPECT_EQ(h.V(kOnline, OnlineLabels("70p", "elec+HB", "C84016")), 1);
  EXPECT_EQ(h.V(kOnline, OnlineLabels("unknown", "unknown", "unknown")), 0);
  EXPECT_EQ(h.V("tickrmeter_devices_battery_level", {{"upper_bound", "25"}}), 0);
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 3);
  EXPECT_FALSE(h.Snap()->FindDevice(kDev2)->online);
}

TEST(DevicesTest, DeviceRemovedAfterTwiceDeviceTimeout) {
  EngineHarness h;
  h.Heartbeat(0, Hb(kDev, "70p", 100));
  h.Advance(4'199'000);
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 1);
  h.Advance(4'201'000);
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 0);
  EXPECT_EQ(h.Snap()->FindDevice(kDev), nullptr);
  // It comes back as a new entry.
  h.Heartbeat(4'300'000, Hb(kDev, "70p", 200));
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 1);
}

// Issue 15: the removal scan is skipped while no device can be due; each
// device still leaves exactly 2 × device_timeout after it was last seen,
// also one first seen at a time older than the engine clock.
TEST(DevicesTest, EachDeviceRemovedWhenItsOwnTimeIsDue) {
  EngineHarness h;
  h.Heartbeat(0, Hb(kDev, "70p", 100));
  h.Advance(1'000'000);
  h.Heartbeat(900'000, Hb(kDev2, "70p", 100));  // stamped before the clock
  h.Advance(3'000'000);
  h.Heartbeat(3'000'000, Hb(kDev, "70p", 200));
  h.Advance(5'099'000);
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 2);
  h.Advance(5'101'000);
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 1);
  EXPECT_EQ(h.Snap()->FindDevice(kDev2), nullptr);
  h.Advance(7'199'000);
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 1);
  h.Advance(7'201'000);
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 0);
}

TEST(DevicesTest, PerDeviceMetricsOffHasNoDeviceIdLabel) {
  EngineHarness h;
  h.Heartbeat(0, Hb(kDev, "70p", 100));
  h.Request(0, kDev);
  h.Answer(10, kDev, SingleQuote("UPDATE", "AAPL"));
  for (const MetricFamily& f : CollectFamilies(*h.Snap())) {
    EXPECT_EQ(f.name.rfind("tickrmeter_device_", 0) == 0 && f.name != "tickrmeter_device_boots",
              false)
        << f.name;
    for (const Sample& s : f.samples) {
      for (const Label& l : s.labels) EXPECT_NE(l.name, "device_id") << f.name;
    }
  }
}

TEST(DevicesTest, PerDeviceMetricsOn) {
  Config c;
  c.per_device_metrics = true;
  EngineHarness h(c);
  h.Heartbeat(0, Hb(kDev, "70p", 100, 42));
  h.Request(0, kDev);
  h.Answer(10, kDev, SingleQuote("UPDATE", "AAPL"));
  h.Request(20, kDev2, "MSFT");
  EXPECT_EQ(h.V("tickrmeter_device_battery_level", {{"device_id", kDev}}), 42);
  EXPECT_EQ(h.V("tickrmeter_device_uptime_seconds", {{"device_id", kDev}}), 100);
  EXPECT_EQ(h.V("tickrmeter_device_vin_level", {{"device_id", kDev}}), 1830);
  EXPECT_EQ(h.V("tickrmeter_device_wifi_disconnects", {{"device_id", kDev}}), 3);
  EXPECT_EQ(h.V("tickrmeter_device_charging", {{"device_id", kDev}}), 0);
  EXPECT_GT(h.V("tickrmeter_device_last_seen_timestamp_seconds", {{"device_id", kDev}}), 1.6e9);
  EXPECT_EQ(
      h.V("tickrmeter_stock_update_requests_total", {{"symbol", "unknown"}, {"device_id", kDev}}),
      1);
  EXPECT_EQ(
      h.V("tickrmeter_stock_update_responses_total", {{"symbol", "unknown"}, {"device_id", kDev}}),
      1);
  EXPECT_EQ(
      h.V("tickrmeter_stock_update_requests_total", {{"symbol", "MSFT"}, {"device_id", kDev2}}), 1);
  // A device without heartbeat has no battery series.
  EXPECT_EQ(h.V("tickrmeter_device_battery_level", {{"device_id", kDev2}}), -1);
}

TEST(DevicesTest, InvalidMessagesCountedByKindAndReason) {
  EngineHarness h;
  h.Publish(MessageKind::kStockRequest, 0, "STOCKPRICEUPDATE", "{\"type\":\"UPDATE\",");
  h.Publish(MessageKind::kStockRequest, 0, "STOCKPRICEUPDATE", "{\"type\":\"UPDATE\"}");
  h.Request(0, "a1b2c3d4e5f6");  // lowercase: not a device id
  h.Publish(MessageKind::kStockRequest, 0, "STOCKPRICEUPDATE",
            "{\"type\":\"UPDATE\",\"device\":\"A1B2C3D4E5F6\"}", /*truncated=*/true);
  h.Heartbeat(0, R"({"status":"online","battery":"87"})");
  h.Boot(0, "NOTADEVICE");
  h.Answer(0, kDev, "{\"symbol\":");
  EXPECT_EQ(h.V(kInvalid, Invalid("stock_request", "json")), 1);
  EXPECT_EQ(h.V(kInvalid, Invalid("stock_request", "field")), 1);
  EXPECT_EQ(h.V(kInvalid, Invalid("stock_request", "device")), 1);
  EXPECT_EQ(h.V(kInvalid, Invalid("stock_request", "truncated")), 1);
  EXPECT_EQ(h.V(kInvalid, Invalid("heartbeat", "field")), 1);
  EXPECT_EQ(h.V(kInvalid, Invalid("boot", "device")), 1);
  EXPECT_EQ(h.V(kInvalid, Invalid("device_message", "json")), 1);
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 0);
  EXPECT_TRUE(h.Samples("tickrmeter_stock_update_requests_total").empty());
}

TEST(DevicesTest, CustomDeviceIdPattern) {
  Config c;
  c.device_id_pattern = "^dev-[0-9]+$";
  ASSERT_FALSE(c.DefaultDevicePattern());
  EngineHarness h(c);
  h.Request(0, "dev-17");
  h.Request(0, kDev);  // default-shaped, but not a device under this pattern
  // The hook leaves such topics as kOther; the engine promotes them.
  h.Publish(MessageKind::kOther, 100, "dev-17", SingleQuote("UPDATE", "AAPL"));
  h.Publish(MessageKind::kOther, 100, "ON_TV_SYMBOL_SUBSCRIBE", "[\"AAPL\"]");
  h.Publish(MessageKind::kOther, 100, "ON_TV_SYMBOL_SUBSCRIBE", "[\"AAPL\"]");
  EXPECT_EQ(h.V("tickrmeter_stock_update_responses_total", {{"symbol", "unknown"}}), 1);
  EXPECT_EQ(h.V(kInvalid, Invalid("stock_request", "device")), 1);
  PluginCounters p;
  p.received[static_cast<int>(MessageKind::kStockRequest)] = 2;
  p.received[static_cast<int>(MessageKind::kOther)] = 3;
  auto s = h.Snap(p);
  auto kind = [&](const char* k) {
    return EngineHarness::Find(*s, "tickrmeter_messages_total", {{"kind", k}}).value_or(-1);
  };
  EXPECT_EQ(kind("device_message"), 1);
  EXPECT_EQ(kind("other"), 2);
  EXPECT_EQ(kind("stock_request"), 2);
}

// Bulk retained clean-ups publish zero-length payloads on any topic.
TEST(DevicesTest, ZeroLengthPublishesAreDeletionsNotInvalid) {
  EngineHarness h;
  h.Request(0, kDev, "AAPL");
  h.Publish(MessageKind::kDeviceMessage, 10, kDev, "");
  h.Publish(MessageKind::kStockRequest, 10, "STOCKPRICEUPDATE", "");
  h.Publish(MessageKind::kHeartbeat, 10, "DEVICESTATUS_RES", "");
  h.Publish(MessageKind::kBoot, 10, "TICKRMETERBOOT", "");
  for (const char* kind : {"stock_request", "device_message", "heartbeat", "boot"}) {
    EXPECT_EQ(h.V(kInvalid, Invalid(kind, "json")), 0) << kind;
  }
  EXPECT_EQ(h.V("tickrmeter_stock_update_pending", {{"symbol", "AAPL"}}), 1);
  EXPECT_EQ(h.V("tickrmeter_stock_update_unmatched_responses_total", {{"reason", "unsolicited"}}),
            0);
  // One byte is not a deletion.
  h.Publish(MessageKind::kDeviceMessage, 20, kDev, " ");
  EXPECT_EQ(h.V(kInvalid, Invalid("device_message", "json")), 1);
}

TEST(DevicesTest, ZeroLengthPublishOnCustomPatternDeviceTopicIsADeviceMessage) {
  Config c;
  c.device_id_pattern = "^dev-[0-9]+$";
  EngineHarness h(c);
  h.Publish(MessageKind::kOther, 0, "dev-1", "");
  EXPECT_EQ(h.V(kInvalid, Invalid("device_message", "json")), 0);
  PluginCounters p;
  p.received[static_cast<int>(MessageKind::kOther)] = 1;
  auto s = h.Snap(p);
  EXPECT_EQ(EngineHarness::Find(*s, "tickrmeter_messages_total", {{"kind", "device_message"}}), 1);
}

TEST(DevicesTest, PluginSeriesExportedFromStart) {
  EngineHarness h;
  PluginCounters p;
  p.version = "1.2.3";
  p.mosquitto_version = "2.0.11";
  p.observations_dropped = 4;
  p.companion_restarts[static_cast<int>(RestartReason::kHung)] = 1;
  auto s = h.Snap(p);
  EXPECT_EQ(h.Samples("tickrmeter_messages_total").size(), 11u);
  EXPECT_EQ(h.Samples(kInvalid).size(), 16u);
  EXPECT_EQ(h.Samples("tickrmeter_stock_update_unmatched_responses_total").size(), 3u);
  for (const char* table : {"devices", "symbols", "pending", "labels"}) {
    EXPECT_EQ(EngineHarness::Find(*s, "tickrmeter_tracking_dropped_total", {{"table", table}}), 0);
  }
  EXPECT_EQ(EngineHarness::Find(*s, "tickrmeter_observations_dropped_total", {}), 4);
  EXPECT_EQ(EngineHarness::Find(*s, "tickrmeter_companion_restarts_total", {{"reason", "hung"}}),
            1);
  for (const char* reason : {"exit", "signal"}) {
    EXPECT_EQ(EngineHarness::Find(*s, "tickrmeter_companion_restarts_total", {{"reason", reason}}),
              0);
  }
  EXPECT_EQ(EngineHarness::Find(*s, "tickrmeter_build_info",
                                {{"version", "1.2.3"}, {"mosquitto_version", "2.0.11"}}),
            1);
  EXPECT_EQ(EngineHarness::Find(*s, "tickrmeter_devices_tracked", {}), 0);
  EXPECT_EQ(EngineHarness::Find(*s, "tickrmeter_devices_charging", {}), 0);
}

// One publish of each shape of the protocol reference's samples.jsonl, in
// file order: every one is usable, and the traffic adds up as expected.
TEST(DevicesTest, SamplesOfEveryShapeAreUsable) {
  struct Pub {
    MessageKind kind;
    const char* topic;
    const char* payload;
  };
  const Pub kSamples[] = {
      {MessageKind::kStockRequest, "STOCKPRICEUPDATE",
       R"json({"type":"UPDATE","device":"A1B2C3D4E5F6"})json"},
      {MessageKind::kStockRequest, "STOCKPRICEUPDATE",
       R"json({"type":"UPDATE","device":"A1B2C3D4E5F6","symbol":"BTC/USD"})json"},
      {MessageKind::kDeviceMessage, "A1B2C3D4E5F6",
       R"json({"symbol":"AAPL","price":"$229.97","p":229.97,"percent":"1 day +0.85%","perValue":0.85,"date":"03:45PM 12 Jan 2025","name":"Apple Inc.","currency":"$","isPlaylist":false,"type":"UPDATE","interval":"300","symbolType":1,"ledBrightness":100,"alertEnabled":false})json"},
      {MessageKind::kDeviceMessage, "A1B2C3D4E5F6",
       R"json({"symbol":"BTC","price":"$97123","p":97123.41,"percent":"1 day -1.20%","perValue":-1.2,"date":"03:45PM 12 Jan 2025","name":"My list","currency":"$","isPlaylist":true,"isMusicCreatorPl":false,"type":"UPDATE","cycleInterval":"120","updateInterval":"120","symbols":"AAPL,BTC/USD,MSFT","symbolIndex":1,"cycleMode":"default","ledBrightness":50,"alertEnabled":false})json"},
      {MessageKind::kDeviceMessage, "A1B2C3D4E5F6",
       R"json({"symbol":"AAPL","price":"$229.97","p":229.97,"percent":"-","perValue":-9999999,"date":"03:45PM 12 Jan 2025","name":"My list","currency":"$","isPlaylist":true,"type":"NEW","cycleInterval":"120","updateInterval":"120","symbols":"AAPL,BTC/USD,MSFT","symbolIndex":0,"cycleMode":"default","ledBrightness":50,"alertEnabled":false})json"},
      {MessageKind::kDeviceMessage, "A1B2C3D4E5F6",
       R"json({"mode":"page","page":[{"id":812,"ledColor":"green","rev":3,"blink":false,"alert":false}],"updateInterval":"300","ttl":300,"ledBrightness":100})json"},
      {MessageKind::kDeviceMessage, "A1B2C3D4E5F6",
       R"json({"mode":"page","page":[{"id":-1,"ledColor":"#000000","rev":-1,"blink":false,"alert":false}],"updateInterval":300,"ttl":300,"ledBrightness":100,"error":"Error in getting data"})json"},
      {MessageKind::kDeviceMessage, "A1B2C3D4E5F6",
       R"json({"type":"NO_CONFIG","success":false,"message":"No configuration found."})json"},
      {MessageKind::kDeviceMessage, "A1B2C3D4E5F6",
       R"json({"type":"DEVICE_ASSIGNED","success":false,"message":"Device Not Found"})json"},
      {MessageKind::kDeviceMessage, "A1B2C3D4E5F6",
       R"json({"type":"DEVICE_REG","key":"48213","valid":"2025-01-12T15:04:05.000Z","success":true,"message":"ADDED_SUCCESSFULLY"})json"},
      {MessageKind::kDeviceMessage, "A1B2C3D4E5F6",
       R"json({"type":"DEVICE_UNASSGINED","message":"Device registration removed."})json"},
      {MessageKind::kHeartbeat, "DEVICESTATUS_RES",
       R"json({"status":"online","firmware_version":"70p","device":"A1B2C3D4E5F6","battery":"87","vin":"1830","uptime":"86400","isCharging":"0","wflct":"3","iv":"elec+HB", "xmc":"1", "flashID":"C84016"})json"},
      {MessageKind::kHeartbeat, "DEVICESTATUS_RES",
       R"json({"status":"online","firmware_version":"40p","device":"A1B2C3D4E5F6","battery":"55","vin":"2731","uptime":"120","isCharging":"1","wflc":"2"})json"},
      {MessageKind::kHeartbeat, "DEVICESTATUS_RES",
       R"json({"status":"online","firmware_version":"30","device":"A1B2C3D4E5F6","battery":91,"vin":2900})json"},
      {MessageKind::kStatusPoll, "DEVICESTATUS", R"json({"action":"status"})json"},
      {MessageKind::kBoot, "TICKRMETERBOOT", R"json({"type":"BOOT","device":"A1B2C3D4E5F6"})json"},
      {MessageKind::kBooted, "DEVICE_BOOTED", R"json({"type":"BOOT","device":"A1B2C3D4E5F6"})json"},
      {MessageKind::kHttpStream, "HTTPSTREAMSTOCKS",
       R"json({"device":"A1B2C3D4E5F6","params":{"getQuoteParams":{"macAddress":"A1B2C3D4E5F6","stream":"commodities","market":"","symbol":"XAU","symbolType":6,"currency":"USD"},"configObject":{"isPlaylist":false},"userTimeParams":{"timeZone":"Europe/London","timeFormat":"12h"}}})json"},
      {MessageKind::kLog, "LOG/A1B2C3D4E5F6",
       R"json(SR lock check start.|Flash ID: C84016, SFDP 0x06: CC, SFDP 0xF4: CC.|non-xmc (C84016). SR lock skipped.|)json"},
      {MessageKind::kAlert, "ALERT/A1B2C3D4E5F6", R"json({"type":"DISABLE"})json"},
      {MessageKind::kFirmwareUpdate, "FIRMWAREUPDATE/A1B2C3D4E5F6", R"json()json"},
  };
  EngineHarness h;
  int64_t ms = 0;
  for (const Pub& p : kSamples) h.Publish(p.kind, ms += 10, p.topic, p.payload);
  for (const Sample* s : h.Samples(kInvalid)) EXPECT_EQ(s->value, 0);
  // Two requests (symbol-less, BTC/USD): the single-mode AAPL answer takes the
  // symbol-less one, the playlist BTC answer BTC/USD. Then the playlist NEW,
  // the page reply, the page error, NO_CONFIG and DEVICE_ASSIGNED find nothing
  // pending and match the answered symbol-less request: 5 duplicates. The
  // DEVICE_REG and DEVICE_UNASSGINED lifecycle messages are not answers.
  EXPECT_EQ(h.V("tickrmeter_stock_update_responses_total", {{"symbol", "unknown"}}), 1);
  EXPECT_EQ(h.V("tickrmeter_stock_update_responses_total", {{"symbol", "BTC/USD"}}), 1);
  EXPECT_EQ(h.V("tickrmeter_stock_update_unmatched_responses_total", {{"reason", "duplicate"}}), 5);
  EXPECT_EQ(h.V("tickrmeter_stock_update_unmatched_responses_total", {{"reason", "unsolicited"}}),
            0);
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 1);
  // One boot: the 40p heartbeat's uptime drop; the TICKRMETERBOOT that
  // follows (and its DEVICE_BOOTED echo) announces that same boot.
  EXPECT_EQ(h.V(kBoots, Fw("40p")), 1);
  EXPECT_EQ(h.V(kBoots, Fw("30")), -1);
  EXPECT_EQ(h.V(kOnline, OnlineLabels("30", "unknown", "unknown")), 1);
}

}  // namespace
}  // namespace tkmprom
