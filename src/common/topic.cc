#include "tkmprom/topic.h"

#include <cstring>

namespace tkmprom {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::memcmp(s.data(), prefix.data(), prefix.size()) == 0;
}

}  // namespace

bool IsDefaultDeviceId(std::string_view s) {
  if (s.size() != 12) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

MessageKind ClassifyTopic(std::string_view topic, bool default_device_pattern) {
  // Device topics dominate the traffic with requests; test the cheap shape first.
  if (default_device_pattern && IsDefaultDeviceId(topic)) return MessageKind::kDeviceMessage;
  if (topic == "STOCKPRICEUPDATE") return MessageKind::kStockRequest;
  if (topic == "DEVICESTATUS_RES") return MessageKind::kHeartbeat;
  if (topic == "DEVICESTATUS") return MessageKind::kStatusPoll;
  if (topic == "TICKRMETERBOOT") return MessageKind::kBoot;
  if (topic == "DEVICE_BOOTED") return MessageKind::kBooted;
  if (topic == "HTTPSTREAMSTOCKS") return MessageKind::kHttpStream;
  if (StartsWith(topic, "LOG/")) return MessageKind::kLog;
  if (StartsWith(topic, "ALERT/")) return MessageKind::kAlert;
  if (StartsWith(topic, "FIRMWAREUPDATE/")) return MessageKind::kFirmwareUpdate;
  return MessageKind::kOther;
}

}  // namespace tkmprom
