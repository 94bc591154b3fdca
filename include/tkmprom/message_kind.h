// The kinds of publish tkmprom tells apart, as exported in the `kind` label of
// tickrmeter_messages_total. The broker-side hook assigns one to every publish.
//
// Thread safety: plain values and constant tables; safe from any thread.
#ifndef TKMPROM_MESSAGE_KIND_H_
#define TKMPROM_MESSAGE_KIND_H_

#include <cstdint>

namespace tkmprom {

enum class MessageKind : uint8_t {
  kStockRequest = 0,  // STOCKPRICEUPDATE
  kDeviceMessage,     // <device id> downlink (answers, pushes, lifecycle)
  kHeartbeat,         // DEVICESTATUS_RES
  kStatusPoll,        // DEVICESTATUS
  kBoot,              // TICKRMETERBOOT
  kBooted,            // DEVICE_BOOTED
  kHttpStream,        // HTTPSTREAMSTOCKS
  kLog,               // LOG/<id>
  kAlert,             // ALERT/<id>
  kFirmwareUpdate,    // FIRMWAREUPDATE/<id>
  kOther,             // anything else
};

inline constexpr int kMessageKindCount = 11;

// The label value of `kind`, e.g. "stock_request".
const char* MessageKindName(MessageKind kind);

// True for the kinds whose payload the engine reads. The hook copies the
// payload of the other kinds' publishes only as a length.
constexpr bool KindNeedsPayload(MessageKind kind) {
  return kind == MessageKind::kStockRequest || kind == MessageKind::kDeviceMessage ||
         kind == MessageKind::kHeartbeat || kind == MessageKind::kBoot;
}

}  // namespace tkmprom

#endif  // TKMPROM_MESSAGE_KIND_H_
