// Bounds on the label values devices report in heartbeats
// (plugin-contract.md §7.2): firmware_version, inner_version (`iv`) and
// flash_id (`flashID`) label tickrmeter_devices_online, and firmware_version
// labels tickrmeter_device_boots_total. Any MQTT client can publish a
// heartbeat, so without bounds one publisher could make every series of those
// families unique and kilobytes long (issue 13: 6,000 heartbeats with 4 KB
// values made /metrics 66 MB).
//
// The rules, applied where a value enters the device registry, so that
// /metrics, the status page and the device API all show the same stored
// value:
//   - A value longer than kMaxValueBytes, or with a byte outside printable
//     ASCII (0x20-0x7E), is stored as "_invalid".
//   - A label shows at most kMaxValuesPerLabel (256) distinct values in any
//     family, the three placeholders included: "unknown" (absent, stored as
//     ""), "_invalid" and "_other". So the first 253 distinct valid values
//     devices report are admitted, and stay admitted for the life of the
//     engine (a series once exported keeps its label, also after its devices
//     left); later new values are stored as "_other". A device reporting one
//     of the placeholder names gets that placeholder.
//   - tickrmeter_devices_online holds at most kMaxCombinations (1,000)
//     (firmware_version, inner_version, flash_id) series, two of them kept
//     for the all-"unknown" one (exported from the start) and the
//     all-"_other" one. So the first 998 other combinations of stored values
//     are admitted, likewise for good; a device whose combination is not
//     admitted counts online under "_other" for all three labels, while its
//     stored values (the device API, the boot counter) stay its own.
// These are upper bounds on the output, as plugin-contract.md §7.2 states
// them. The sets only grow and are bounded: 3 x 253 values of at most 32
// bytes and 998 combinations (a 4-byte key each), about 80 KiB in all.
// Looking up an admitted value or combination does not allocate.
//
// Counting what is folded is the DeviceRegistry's job (it knows what each
// device reported before); see DeviceRegistry::labels_dropped().
//
// Thread safety: not thread-safe; owned by the engine thread.
#ifndef TKMPROM_ENGINE_DEVICE_LABELS_H_
#define TKMPROM_ENGINE_DEVICE_LABELS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "src/engine/memory_usage.h"

namespace tkmprom {

inline constexpr std::string_view kInvalidLabel = "_invalid";
inline constexpr std::string_view kOtherLabel = "_other";
inline constexpr std::string_view kUnknownLabel = "unknown";

class DeviceLabels {
 public:
  enum Which : int { kFirmwareVersion = 0, kInnerVersion = 1, kFlashId = 2 };
  static constexpr int kLabelCount = 3;
  static constexpr size_t kMaxValueBytes = 32;
  // Output bounds, placeholders included (see the file comment).
  static constexpr size_t kMaxValuesPerLabel = 256;
  static constexpr size_t kMaxCombinations = 1000;
  // What that leaves for the values and combinations devices report.
  static constexpr size_t kMaxReportedValues = kMaxValuesPerLabel - 3;
  static constexpr size_t kMaxReportedCombinations = kMaxCombinations - 2;

  // A value as stored: `value` views static or catalog-owned characters that
  // stay valid as long as the DeviceLabels; `id` names it in combinations.
  struct Stored {
    std::string_view value;
    uint16_t id = kAbsentId;
    bool folded = false;  // a valid new value refused by kMaxReportedValues ("_other")
  };

  DeviceLabels() { combinations_.reserve(kMaxReportedCombinations); }

  // What to store for label `which` when a device reports `raw` ("" = absent).
  Stored Admit(Which which, std::string_view raw) {
    if (raw.empty()) return {{}, kAbsentId, false};
    if (raw == kUnknownLabel) return {kUnknownLabel, kAbsentId, false};
    if (raw == kOtherLabel) return {kOtherLabel, kOtherId, false};
    if (raw == kInvalidLabel || !Printable(raw)) return {kInvalidLabel, kInvalidId, false};
    std::map<std::string, uint16_t, std::less<>>& values = values_[which];
    auto it = values.find(raw);
    if (it == values.end()) {
      if (values.size() >= kMaxReportedValues) return {kOtherLabel, kOtherId, true};
      it = values.emplace(std::string(raw), static_cast<uint16_t>(values.size())).first;
    }
    return {it->first, it->second, false};
  }

  // Approximate heap bytes (memory_usage.h).
  size_t MemoryBytes() const {
    size_t bytes = HeapBytes(combinations_);
    for (const auto& v : values_) bytes += HeapBytes(v);
    return bytes;
  }

  // Whether the combination of three Admit() ids counts under its own labels
  // (admitting it if there is room) or under "_other" for all three.
  bool AdmitCombination(uint16_t firmware, uint16_t inner, uint16_t flash) {
    const uint32_t key = Key(firmware, inner, flash);
    if (key == Key(kAbsentId, kAbsentId, kAbsentId) || key == Key(kOtherId, kOtherId, kOtherId)) {
      return true;
    }
    auto it = std::lower_bound(combinations_.begin(), combinations_.end(), key);
    if (it != combinations_.end() && *it == key) return true;
    if (combinations_.size() >= kMaxReportedCombinations) return false;
    combinations_.insert(it, key);
    return true;
  }

 private:
  // Ids 0..kMaxReportedValues-1 are admitted values, in admission order.
  static constexpr uint16_t kAbsentId = kMaxReportedValues;
  static constexpr uint16_t kInvalidId = kMaxReportedValues + 1;
  static constexpr uint16_t kOtherId = kMaxReportedValues + 2;
  static constexpr int kIdBits = 9;
  static_assert(kOtherId < (1u << kIdBits), "ids fit in kIdBits");

  static uint32_t Key(uint32_t firmware, uint32_t inner, uint32_t flash) {
    return firmware | inner << kIdBits | flash << (2 * kIdBits);
  }
  static bool Printable(std::string_view s) {
    if (s.size() > kMaxValueBytes) return false;
    for (const char c : s) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte < 0x20 || byte > 0x7E) return false;
    }
    return true;
  }

  std::map<std::string, uint16_t, std::less<>> values_[kLabelCount];
  std::vector<uint32_t> combinations_;  // sorted keys
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_DEVICE_LABELS_H_
