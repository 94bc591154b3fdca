// Bounded device labels (plugin-contract.md §7.2, src/engine/device_labels.h):
// firmware_version, inner_version and flash_id of tickrmeter_devices_online
// and tickrmeter_device_boots_total, through the Engine with a fake clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "src/engine/device_labels.h"
#include "src/exposition/text_writer.h"
#include "tests/engine/engine_harness.h"

namespace tkmprom {
namespace {

constexpr char kOnline[] = "tickrmeter_devices_online";
constexpr char kBoots[] = "tickrmeter_device_boots_total";
constexpr char kDropped[] = "tickrmeter_tracking_dropped_total";
const Labels kLabelsTable = {{"table", "labels"}};

std::string Id(int i) {
  char buf[13];
  std::snprintf(buf, sizeof(buf), "%012X", i);
  return buf;
}

// A heartbeat; the three values are inserted as given (JSON-escaped already).
std::string Hb(const std::string& device, const std::string& fw, const std::string& iv,
               const std::string& flash, int uptime = 100) {
  return R"({"firmware_version":")" + fw + R"(","device":")" + device + R"(","iv":")" + iv +
         R"(","flashID":")" + flash + R"(","battery":"87","uptime":")" + std::to_string(uptime) +
         "\"}";
}

Labels Online(const std::string& fw, const std::string& iv, const std::string& flash) {
  return {{"firmware_version", fw}, {"inner_version", iv}, {"flash_id", flash}};
}

TEST(DeviceLabelsTest, LongAndNonPrintableValuesAreStoredAsInvalid) {
  EngineHarness h;
  const std::string longest(DeviceLabels::kMaxValueBytes, 'v');
  h.Heartbeat(0, Hb(Id(1), longest + "v", longest, "C8\\u00014016"));
  h.Heartbeat(0, Hb(Id(2), "70\\tp", "élec", "C84016"));  // a tab; UTF-8 is not ASCII
  h.Heartbeat(0, Hb(Id(3), "70p", "a \\\"quoted\\\" {~}", "C84016"));
  EXPECT_EQ(h.V(kOnline, Online("_invalid", longest, "_invalid")), 1);
  EXPECT_EQ(h.V(kOnline, Online("_invalid", "_invalid", "C84016")), 1);
  EXPECT_EQ(h.V(kOnline, Online("70p", "a \"quoted\" {~}", "C84016")), 1);
  // The device API shows the stored value; nothing was cut off by a cap.
  const auto s = h.Snap();
  EXPECT_EQ(s->FindDevice(Id(1))->firmware_version, "_invalid");
  EXPECT_EQ(s->FindDevice(Id(1))->inner_version, longest);
  EXPECT_EQ(s->FindDevice(Id(2))->inner_version, "_invalid");
  EXPECT_EQ(h.V(kDropped, kLabelsTable), 0);
}

// 256 distinct values at most, of which "unknown", "_invalid" and "_other"
// are three: 253 reported values are admitted.
TEST(DeviceLabelsTest, AtMost256ValuesPerLabelThenOther) {
  EngineHarness h;
  for (int i = 0; i < 300; ++i) {
    h.Heartbeat(i, Hb(Id(i + 1), "fw-" + std::to_string(i), "elec+HB", "C84016"));
  }
  h.Heartbeat(0, Hb(Id(5000), std::string(33, 'x'), "elec+HB", "C84016"));
  h.Request(0, Id(5001));
  EXPECT_EQ(h.V(kOnline, Online("fw-252", "elec+HB", "C84016")), 1);
  EXPECT_EQ(h.V(kOnline, Online("fw-253", "elec+HB", "C84016")), -1);
  EXPECT_EQ(h.V(kOnline, Online("_other", "elec+HB", "C84016")), 47);
  EXPECT_EQ(h.V(kOnline, Online("_invalid", "elec+HB", "C84016")), 1);
  EXPECT_EQ(h.V(kOnline, Online("unknown", "unknown", "unknown")), 1);
  EXPECT_EQ(h.Samples(kOnline).size(), DeviceLabels::kMaxValuesPerLabel);
  EXPECT_EQ(h.Snap()->FindDevice(Id(300))->firmware_version, "_other");
  EXPECT_EQ(h.V(kDropped, kLabelsTable), 47);
  // Heartbeats repeating the folded value add nothing.
  for (int i = 253; i < 300; ++i) {
    h.Heartbeat(1000 + i, Hb(Id(i + 1), "fw-" + std::to_string(i), "elec+HB", "C84016"));
  }
  EXPECT_EQ(h.V(kDropped, kLabelsTable), 47);
  // Another value that does not fit counts again, once.
  h.Heartbeat(2000, Hb(Id(300), "fw-new", "elec+HB", "C84016"));
  h.Heartbeat(2001, Hb(Id(300), "fw-new", "elec+HB", "C84016"));
  EXPECT_EQ(h.V(kDropped, kLabelsTable), 48);
  // An admitted value stays admitted, for any device.
  h.Heartbeat(3000, Hb(Id(300), "fw-7", "elec+HB", "C84016"));
  h.Heartbeat(3000, Hb(Id(1000), "fw-8", "elec+HB", "C84016"));
  EXPECT_EQ(h.V(kOnline, Online("fw-7", "elec+HB", "C84016")), 2);
  EXPECT_EQ(h.V(kOnline, Online("fw-8", "elec+HB", "C84016")), 2);
  EXPECT_EQ(h.V(kOnline, Online("_other", "elec+HB", "C84016")), 46);
}

TEST(DeviceLabelsTest, EachLabelHasItsOwnValueSet) {
  EngineHarness h;
  for (int i = 0; i < 260; ++i) {
    const std::string v = std::to_string(i);
    h.Heartbeat(i, Hb(Id(i + 1), "f" + v, "i" + v, "x" + v));
  }
  EXPECT_EQ(h.V(kOnline, Online("f252", "i252", "x252")), 1);
  EXPECT_EQ(h.V(kOnline, Online("_other", "_other", "_other")), 7);
  EXPECT_EQ(h.V(kDropped, kLabelsTable), 3 * 7);
}

// 1,000 series at most, of which all-unknown and all-_other are two: 998
// reported combinations are admitted.
TEST(DeviceLabelsTest, AtMost1000CombinationsThenAllOther) {
  EngineHarness h;
  // 40 x 30 = 1,200 combinations of values that each fit their label's set.
  int n = 0;
  for (int f = 0; f < 40; ++f) {
    for (int i = 0; i < 30; ++i, ++n) {
      h.Heartbeat(n, Hb(Id(n + 1), "f" + std::to_string(f), "i" + std::to_string(i), "C84016"));
    }
  }
  EXPECT_EQ(h.V(kOnline, Online("f0", "i0", "C84016")), 1);
  EXPECT_EQ(h.V(kOnline, Online("f33", "i7", "C84016")), 1);   // the 998th
  EXPECT_EQ(h.V(kOnline, Online("f33", "i8", "C84016")), -1);  // the 999th
  EXPECT_EQ(h.V(kOnline, Online("_other", "_other", "_other")), 202);
  EXPECT_EQ(h.Samples(kOnline).size(), DeviceLabels::kMaxCombinations);
  EXPECT_EQ(h.V(kDropped, kLabelsTable), 202);
  // The device API keeps the device's own (admitted) values.
  EXPECT_EQ(h.Snap()->FindDevice(Id(1200))->firmware_version, "f39");
  // Repeats add nothing; a device moving to an admitted combination leaves _other.
  h.Heartbeat(5000, Hb(Id(1200), "f39", "i29", "C84016"));
  h.Heartbeat(5000, Hb(Id(1199), "f0", "i0", "C84016"));
  EXPECT_EQ(h.V(kOnline, Online("_other", "_other", "_other")), 201);
  EXPECT_EQ(h.V(kOnline, Online("f0", "i0", "C84016")), 2);
  EXPECT_EQ(h.V(kDropped, kLabelsTable), 202);
}

TEST(DeviceLabelsTest, BootsCountUnderTheStoredFirmwareLabel) {
  EngineHarness h;
  const std::string huge(4096, 'x');
  h.Heartbeat(0, Hb(Id(1), huge, "elec+HB", "C84016", 5000));
  h.Heartbeat(60'000, Hb(Id(1), huge, "elec+HB", "C84016", 30));  // uptime drop: a boot
  h.Boot(120'000, Id(1));
  EXPECT_EQ(h.V(kBoots, {{"firmware_version", "_invalid"}}), 2);
  EXPECT_EQ(h.Samples(kBoots).size(), 1u);
  // 300 firmware values: 253 labels of their own, the rest under _other.
  for (int i = 0; i < 300; ++i) {
    h.Heartbeat(200'000, Hb(Id(i + 2), "fw-" + std::to_string(i), "elec+HB", "C84016"));
    h.Boot(200'001, Id(i + 2));
  }
  EXPECT_EQ(h.V(kBoots, {{"firmware_version", "fw-252"}}), 1);
  EXPECT_EQ(h.V(kBoots, {{"firmware_version", "_other"}}), 47);
  EXPECT_EQ(h.Samples(kBoots).size(), 253u + 2);  // + _invalid + _other
}

TEST(DeviceLabelsTest, AdmittedValuesOutliveTheirDevices) {
  EngineHarness h;
  for (size_t i = 0; i < DeviceLabels::kMaxReportedValues; ++i) {
    h.Heartbeat(0, Hb(Id(i + 1), "fw-" + std::to_string(i), "elec+HB", "C84016"));
  }
  h.Advance(2 * 2100 * 1000 + 1000);  // every device leaves memory
  EXPECT_EQ(h.V("tickrmeter_devices_tracked"), 0);
  h.Heartbeat(5'000'000, Hb(Id(1000), "fw-9", "elec+HB", "C84016"));
  h.Heartbeat(5'000'000, Hb(Id(1001), "fw-new", "elec+HB", "C84016"));
  EXPECT_EQ(h.V(kOnline, Online("fw-9", "elec+HB", "C84016")), 1);
  EXPECT_EQ(h.V(kOnline, Online("_other", "elec+HB", "C84016")), 1);
}

TEST(DeviceLabelsTest, LabelsTableIsExportedFromStart) {
  EngineHarness h;
  EXPECT_EQ(h.V(kDropped, kLabelsTable), 0);
}

// Issue 13: 6,000 heartbeats with distinct 4 KB values made /metrics 66 MB
// with 12 KB lines; then the same with distinct short, valid values.
TEST(DeviceLabelsTest, LabelFloodKeepsTheExpositionSmall) {
  for (size_t bytes : {4096u, 20u}) {
    Config c;
    c.max_devices = 10'000;
    EngineHarness h(c);
    for (int i = 0; i < 6000; ++i) {
      std::string v = std::to_string(i) + "-";
      v.resize(bytes - 1, 'v');
      h.Heartbeat(i, Hb(Id(i + 1), "F" + v, "I" + v, "X" + v));
    }
    const auto s = h.Snap();
    std::string text;
    WriteExposition(CollectFamilies(*s), ExpositionFormat::kText004, &text);
    EXPECT_LT(text.size(), 200'000u) << bytes;
    size_t longest = 0;
    for (const Sample* sample : h.Samples(kOnline)) {
      for (const Label& l : sample->labels) longest = std::max(longest, l.value.size());
    }
    EXPECT_LE(longest, DeviceLabels::kMaxValueBytes) << bytes;
    EXPECT_LE(h.Samples(kOnline).size(), DeviceLabels::kMaxCombinations) << bytes;
    for (const auto& device : s->devices) {
      ASSERT_LE(device.firmware_version.size(), DeviceLabels::kMaxValueBytes);
      ASSERT_LE(device.inner_version.size(), DeviceLabels::kMaxValueBytes);
      ASSERT_LE(device.flash_id.size(), DeviceLabels::kMaxValueBytes);
    }
    // 4 KB values are all _invalid (not counted); of the 20-byte ones, each
    // label admits 253 and folds the other 5,747 (all into the all-_other
    // combination, which is always there).
    EXPECT_EQ(h.V(kDropped, kLabelsTable), bytes == 20 ? 3 * (6000 - 253) : 0) << bytes;
  }
}

}  // namespace
}  // namespace tkmprom
