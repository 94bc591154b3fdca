#include "tkmprom/message_kind.h"

namespace tkmprom {

const char* MessageKindName(MessageKind kind) {
  static constexpr const char* kNames[kMessageKindCount] = {
      "stock_request", "device_message",  "heartbeat",   "status_poll",
      "boot",          "booted",          "http_stream", "log",
      "alert",         "firmware_update", "other",
  };
  const auto i = static_cast<unsigned>(kind);
  return i < kMessageKindCount ? kNames[i] : "other";
}

}  // namespace tkmprom
