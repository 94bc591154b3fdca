// The kinds of publish the simulator sends, named as the plugin's `kind`
// label of tickrmeter_messages_total (include/tkmprom/message_kind.h), so that
// the ground truth totals compare one to one.
//
// Thread safety: constants.
#ifndef FLEETSIM_PUBLISH_KIND_H_
#define FLEETSIM_PUBLISH_KIND_H_

#include <cstdint>

namespace fleetsim {

enum class Kind : uint8_t {
  kStockRequest = 0,
  kDeviceMessage,
  kHeartbeat,
  kStatusPoll,
  kBoot,
  kBooted,
  kHttpStream,
  kLog,
  kAlert,
  kFirmwareUpdate,
  kOther,
};
inline constexpr int kKindCount = 11;

inline const char* KindName(Kind kind) {
  static const char* const kNames[kKindCount] = {
      "stock_request", "device_message",  "heartbeat",   "status_poll",
      "boot",          "booted",          "http_stream", "log",
      "alert",         "firmware_update", "other"};
  return kNames[static_cast<int>(kind)];
}

}  // namespace fleetsim

#endif  // FLEETSIM_PUBLISH_KIND_H_
