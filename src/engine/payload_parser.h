// Reads the few fields the engine needs from TickrMeter JSON payloads
// (protocol reference §1.3) with simdjson's on-demand API.
//
// Tolerance: every numeric field may be a JSON number or a string holding one
// ("87", 91); unknown fields are skipped; every field but `device` is optional;
// older heartbeat shapes (`wflc`, `wlc` instead of `wflct`) are accepted.
// Unusable payloads are reported as an InvalidReason, never as an exception.
//
// Memory: each payload is copied into one reusable buffer with
// SIMDJSON_PADDING bytes of zeroes behind it; the buffer and the parser grow to
// the largest payload seen and are then reused, so steady-state parsing does
// not allocate. The string_views in the parsed structs point into that buffer
// or the parser's string buffer: they are valid until the next Parse* call.
//
// Thread safety: not thread-safe; one PayloadParser per thread.
#ifndef TKMPROM_ENGINE_PAYLOAD_PARSER_H_
#define TKMPROM_ENGINE_PAYLOAD_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <simdjson.h>

namespace tkmprom {

// Why a message could not be used; the `reason` label of
// tickrmeter_messages_invalid_total.
enum class InvalidReason : uint8_t {
  kJson = 0,   // not parsable JSON, or not a JSON object
  kField,      // a required field is missing or has the wrong type
  kDevice,     // the device id does not match device_id_pattern
  kTruncated,  // the hook copied only part of the payload
};
inline constexpr int kInvalidReasonCount = 4;
const char* InvalidReasonName(InvalidReason reason);

// The longest symbol and device id the engine stores. Real ones are short
// ("BTC/USD", "NASDAQ:AAPL", 12 hex digits); without a bound, a publisher
// could make every request slot of every device hold a 16 KiB string. A
// request with a longer `symbol` is invalid (kField); a longer device id
// matches no device_id_pattern (kDevice).
inline constexpr size_t kMaxSymbolBytes = 128;
inline constexpr size_t kMaxDeviceIdBytes = 128;

// STOCKPRICEUPDATE.
struct RequestFields {
  std::string_view type;
  std::string_view device;
  std::string_view symbol;  // empty when absent
  bool has_symbol = false;
};

// TICKRMETERBOOT.
struct BootFields {
  std::string_view device;
};

// DEVICESTATUS_RES. Numeric fields are -1 (or kAbsent for xmc) when absent or
// unusable; string fields are empty when absent.
struct HeartbeatFields {
  static constexpr int64_t kAbsent = INT64_MIN;
  std::string_view device;
  std::string_view firmware_version;
  std::string_view inner_version;  // `iv`
  std::string_view flash_id;       // `flashID`
  int64_t battery = -1;
  int64_t vin = -1;
  int64_t uptime = -1;
  int64_t charging = -1;
  int64_t wifi_disconnects = -1;  // wflct | wflc | wlc
  int64_t xmc = kAbsent;          // may legitimately be negative (-2)
};

// The `<device id>` downlink: just what answer classification needs.
struct DeviceMessageFields {
  std::string_view type;     // empty when absent
  std::string_view mode;     // "page" for page replies
  std::string_view symbol;   // quote symbol
  std::string_view symbols;  // playlist CSV
  bool is_playlist = false;
  bool has_error = false;  // `error` present (page failure)
  bool has_symbol_index = false;
  int64_t symbol_index = -1;
  int success = -1;  // -1 absent, 0 false, 1 true
  // `symbolType` (the quote backend, plugin-contract.md §7.5): present with a
  // value other than null. symbol_type is its integer value (a number or a
  // string holding one), -1 for any other value.
  bool has_symbol_type = false;
  int64_t symbol_type = -1;
};

class PayloadParser {
 public:
  PayloadParser();
  PayloadParser(const PayloadParser&) = delete;
  PayloadParser& operator=(const PayloadParser&) = delete;

  // Each returns true and fills `out`, or returns false and sets `reason`;
  // on kField the fields that were readable are still filled in.
  // None checks the device id against the pattern: the caller does.
  bool ParseRequest(std::string_view payload, RequestFields* out, InvalidReason* reason);
  bool ParseBoot(std::string_view payload, BootFields* out, InvalidReason* reason);
  bool ParseHeartbeat(std::string_view payload, HeartbeatFields* out, InvalidReason* reason);
  bool ParseDeviceMessage(std::string_view payload, DeviceMessageFields* out,
                          InvalidReason* reason);

 private:
  // Copies `payload` into the padded buffer and starts iterating the root
  // object. False (reason kJson) when it is not a JSON object.
  bool Open(std::string_view payload, simdjson::ondemand::object* root);
  // Calls on_field(key, value) for each field of the root object; false
  // (reason kJson) unless the payload is exactly one well-formed object.
  template <typename F>
  bool WalkFields(std::string_view payload, InvalidReason* reason, F&& on_field);

  simdjson::ondemand::parser parser_;
  simdjson::ondemand::document doc_;
  std::unique_ptr<char[]> buffer_;
  size_t buffer_capacity_ = 0;  // bytes usable for the payload (padding excluded)
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_PAYLOAD_PARSER_H_
