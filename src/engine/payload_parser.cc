#include "src/engine/payload_parser.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace tkmprom {
namespace {

namespace od = simdjson::ondemand;

// Trims JSON whitespace (the heartbeat has spaces inside string values of
// some firmware builds, and raw number tokens may carry trailing blanks).
std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool DoubleToInt(double d, int64_t* out) {
  if (!std::isfinite(d) || d < -9.2e18 || d > 9.2e18) return false;
  *out = static_cast<int64_t>(d);
  return true;
}

bool TextToInt(std::string_view s, int64_t* out) {
  s = Trim(s);
  if (s.empty()) return false;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && ptr == s.data() + s.size()) {
    *out = v;
    return true;
  }
  double d = 0;
  auto [dptr, dec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (dec != std::errc() || dptr != s.data() + s.size()) return false;
  return DoubleToInt(d, out);
}

// A number, a string holding one, or a boolean (as 0/1).
bool ReadInt(od::value value, int64_t* out) {
  od::json_type type;
  if (value.type().get(type)) return false;
  switch (type) {
    case od::json_type::number: {
      double d = 0;
      if (value.get_double().get(d)) return false;
      return DoubleToInt(d, out);
    }
    case od::json_type::string: {
      std::string_view s;
      if (value.get_string().get(s)) return false;
      return TextToInt(s, out);
    }
    case od::json_type::boolean: {
      bool b = false;
      if (value.get_bool().get(b)) return false;
      *out = b ? 1 : 0;
      return true;
    }
    default:
      return false;
  }
}

// A string, or the raw text of a number (firmware "5" may arrive as 5).
bool ReadText(od::value value, std::string_view* out) {
  od::json_type type;
  if (value.type().get(type)) return false;
  if (type == od::json_type::string) return value.get_string().get(*out) == simdjson::SUCCESS;
  if (type == od::json_type::number) {
    std::string_view raw = value.raw_json_token();
    *out = Trim(raw);
    return true;
  }
  return false;
}

// true / "true" / nonzero number → true.
bool ReadBool(od::value value, bool* out) {
  od::json_type type;
  if (value.type().get(type)) return false;
  if (type == od::json_type::boolean) return value.get_bool().get(*out) == simdjson::SUCCESS;
  if (type == od::json_type::string) {
    std::string_view s;
    if (value.get_string().get(s)) return false;
    *out = s == "true" || s == "1";
    return true;
  }
  int64_t i = 0;
  if (!ReadInt(value, &i)) return false;
  *out = i != 0;
  return true;
}

// symbolType: false when null; else true, with *out the integer of a number
// or numeric string (quirk 6: numbers may come as strings), -1 otherwise.
bool ReadSymbolType(od::value value, int64_t* out) {
  od::json_type type;
  if (value.type().get(type) || type == od::json_type::null) return false;
  *out = -1;
  if (type == od::json_type::number || type == od::json_type::string) {
    int64_t n = 0;
    if (ReadInt(value, &n)) *out = n;
  }
  return true;
}

}  // namespace

const char* InvalidReasonName(InvalidReason reason) {
  switch (reason) {
    case InvalidReason::kJson:
      return "json";
    case InvalidReason::kField:
      return "field";
    case InvalidReason::kDevice:
      return "device";
    case InvalidReason::kTruncated:
      return "truncated";
  }
  return "json";
}

PayloadParser::PayloadParser() = default;

bool PayloadParser::Open(std::string_view payload, od::object* root) {
  // Also when nothing was allocated yet: an empty payload as the very first
  // one (`mosquitto_pub -t TICKRMETERBOOT -n`) must not write the padding
  // through a null buffer (found by tests/fuzz/engine_observe_fuzzer).
  if (payload.size() > buffer_capacity_ || buffer_ == nullptr) {
    size_t capacity = buffer_capacity_ == 0 ? 1024 : buffer_capacity_;
    while (capacity < payload.size()) capacity *= 2;
    buffer_.reset(new (std::nothrow) char[capacity + simdjson::SIMDJSON_PADDING]);
    buffer_capacity_ = buffer_ ? capacity : 0;
    if (!buffer_) return false;
  }
  // An empty view's data() may be null, which memcpy must not see.
  if (!payload.empty()) std::memcpy(buffer_.get(), payload.data(), payload.size());
  std::memset(buffer_.get() + payload.size(), 0, simdjson::SIMDJSON_PADDING);
  if (parser_.iterate(buffer_.get(), payload.size(), buffer_capacity_ + simdjson::SIMDJSON_PADDING)
          .get(doc_)) {
    return false;
  }
  return doc_.get_object().get(*root) == simdjson::SUCCESS;
}

// The four parsers share one shape: walk the root object's fields once, in
// document order, and pick the keys of interest. A structural error anywhere
// (also in skipped values), or anything but blanks after the object, is kJson.
template <typename F>
bool PayloadParser::WalkFields(std::string_view payload, InvalidReason* reason, F&& on_field) {
  od::object root;
  if (!Open(payload, &root)) {
    *reason = InvalidReason::kJson;
    return false;
  }
  for (auto field : root) {
    std::string_view key;
    od::value value;
    if (field.unescaped_key().get(key) || field.value().get(value)) {
      *reason = InvalidReason::kJson;
      return false;
    }
    on_field(key, value);
  }
  // simdjson 3.0 has no document::at_end(); current_location() is
  // OUT_OF_BOUNDS exactly when nothing follows the object.
  if (doc_.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    *reason = InvalidReason::kJson;
    return false;
  }
  return true;
}

bool PayloadParser::ParseRequest(std::string_view payload, RequestFields* out,
                                 InvalidReason* reason) {
  *out = RequestFields();
  bool type_ok = false, device_ok = false, field_bad = false;
  const bool walked = WalkFields(payload, reason, [&](std::string_view key, od::value& value) {
    if (key == "type") {
      type_ok = value.get_string().get(out->type) == simdjson::SUCCESS;
    } else if (key == "device") {
      device_ok = value.get_string().get(out->device) == simdjson::SUCCESS;
    } else if (key == "symbol") {
      if (!ReadText(value, &out->symbol) || out->symbol.size() > kMaxSymbolBytes) field_bad = true;
      out->has_symbol = !out->symbol.empty();
    }
  });
  if (!walked) return false;
  if (!type_ok || !device_ok || field_bad || out->device.empty()) {
    *reason = InvalidReason::kField;
    return false;
  }
  return true;
}

bool PayloadParser::ParseBoot(std::string_view payload, BootFields* out, InvalidReason* reason) {
  *out = BootFields();
  bool device_ok = false;
  const bool walked = WalkFields(payload, reason, [&](std::string_view key, od::value& value) {
    if (key == "device") device_ok = value.get_string().get(out->device) == simdjson::SUCCESS;
  });
  if (!walked) return false;
  if (!device_ok || out->device.empty()) {
    *reason = InvalidReason::kField;
    return false;
  }
  return true;
}

bool PayloadParser::ParseHeartbeat(std::string_view payload, HeartbeatFields* out,
                                   InvalidReason* reason) {
  *out = HeartbeatFields();
  bool device_ok = false;
  const bool walked = WalkFields(payload, reason, [&](std::string_view key, od::value& value) {
    // Optional fields with an unusable value are ignored, not fatal: the
    // rest of the heartbeat is still worth keeping.
    int64_t n = 0;
    if (key == "device") {
      device_ok = value.get_string().get(out->device) == simdjson::SUCCESS;
    } else if (key == "firmware_version") {
      if (!ReadText(value, &out->firmware_version)) out->firmware_version = {};
    } else if (key == "iv") {
      if (!ReadText(value, &out->inner_version)) out->inner_version = {};
    } else if (key == "flashID") {
      if (!ReadText(value, &out->flash_id)) out->flash_id = {};
    } else if (key == "battery") {
      if (ReadInt(value, &n) && n >= 0) out->battery = n;
    } else if (key == "vin") {
      if (ReadInt(value, &n) && n >= 0) out->vin = n;
    } else if (key == "uptime") {
      if (ReadInt(value, &n) && n >= 0) out->uptime = n;
    } else if (key == "isCharging") {
      if (ReadInt(value, &n) && n >= 0) out->charging = n != 0 ? 1 : 0;
    } else if (key == "wflct" || key == "wflc" || key == "wlc") {
      if (ReadInt(value, &n) && n >= 0) out->wifi_disconnects = n;
    } else if (key == "xmc") {
      if (ReadInt(value, &n)) out->xmc = n;
    }
  });
  if (!walked) return false;
  out->firmware_version = Trim(out->firmware_version);
  out->inner_version = Trim(out->inner_version);
  out->flash_id = Trim(out->flash_id);
  if (!device_ok || out->device.empty()) {
    *reason = InvalidReason::kField;
    return false;
  }
  return true;
}

bool PayloadParser::ParseDeviceMessage(std::string_view payload, DeviceMessageFields* out,
                                       InvalidReason* reason) {
  *out = DeviceMessageFields();
  bool field_bad = false;
  const bool walked = WalkFields(payload, reason, [&](std::string_view key, od::value& value) {
    if (key == "type") {
      if (value.get_string().get(out->type)) field_bad = true;
    } else if (key == "mode") {
      if (value.get_string().get(out->mode)) out->mode = {};
    } else if (key == "symbol") {
      if (!ReadText(value, &out->symbol)) out->symbol = {};
    } else if (key == "symbols") {
      if (value.get_string().get(out->symbols)) out->symbols = {};
    } else if (key == "isPlaylist") {
      bool b = false;
      out->is_playlist = ReadBool(value, &b) && b;
    } else if (key == "symbolIndex") {
      out->has_symbol_index = ReadInt(value, &out->symbol_index);
      if (!out->has_symbol_index) out->symbol_index = -1;
    } else if (key == "success") {
      bool b = false;
      out->success = ReadBool(value, &b) ? (b ? 1 : 0) : -1;
    } else if (key == "error") {
      out->has_error = true;
    } else if (key == "symbolType") {
      out->has_symbol_type = ReadSymbolType(value, &out->symbol_type);
      if (!out->has_symbol_type) out->symbol_type = -1;
    }
  });
  if (!walked) return false;
  if (field_bad) {
    *reason = InvalidReason::kField;
    return false;
  }
  return true;
}

}  // namespace tkmprom
