#include "src/http/api_json.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "src/http/slowest_ranking.h"

namespace tkmprom {
namespace {

using Json = nlohmann::json;

// Symbols and device ids come from hostile publishes: never let invalid
// UTF-8 turn into an exception.
std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json NumberOrNull(double v) { return std::isnan(v) ? Json(nullptr) : Json(v); }

Json KnownOrNull(int64_t v) { return v < 0 ? Json(nullptr) : Json(v); }

Json KnownOrNull(double v) { return (std::isnan(v) || v < 0) ? Json(nullptr) : Json(v); }

}  // namespace

std::string SlowestSymbolsJson(const Snapshot& snapshot, size_t limit, uint64_t min_requests) {
  Json out = Json::array();
  for (const RankedSymbol& row : RankSlowestSymbols(snapshot, limit, min_requests)) {
    const SymbolWindow& w = *row.window;
    out.push_back({{"symbol", w.symbol},
                   {"backend", w.backend},
                   {"avg_latency_seconds", NumberOrNull(w.avg_latency_s)},
                   {"p95_latency_seconds", NumberOrNull(w.p95_latency_s)},
                   {"timeout_rate", std::isfinite(w.timeout_rate) ? w.timeout_rate : 0.0},
                   {"requests", w.requests}});
  }
  return Dump(out);
}

std::optional<std::string> DeviceJson(const Snapshot& snapshot, std::string_view device_id) {
  const DeviceState* found = snapshot.FindDevice(device_id);
  if (found == nullptr) return std::nullopt;
  const DeviceState& d = *found;
  Json out = {
      {"device_id", d.device_id},
      {"firmware_version", d.firmware_version},
      {"inner_version", d.inner_version},
      {"flash_id", d.flash_id},
      {"online", d.online},
      {"last_seen_age_seconds", KnownOrNull(d.last_seen_age_s)},
      {"last_heartbeat_age_seconds", KnownOrNull(d.last_heartbeat_age_s)},
      {"battery", KnownOrNull(d.battery)},
      {"vin", KnownOrNull(d.vin)},
      {"uptime_seconds", KnownOrNull(d.uptime_s)},
      {"charging", KnownOrNull(d.charging)},
      {"wifi_disconnects", KnownOrNull(d.wifi_disconnects)},
      {"xmc", KnownOrNull(d.xmc)},
      {"boots", d.boots},
      {"requests", d.requests},
      {"responses", d.responses},
      {"errors", d.errors},
      {"timeouts", d.timeouts},
      {"pending", d.pending},
      {"last_symbol", d.last_symbol},
  };
  return Dump(out);
}

std::optional<size_t> ParseSlowestLimit(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    // Saturate instead of overflowing: anything this large clamps anyway.
    if (value <= kMaxSlowestLimit) value = value * 10 + static_cast<size_t>(c - '0');
  }
  if (negative || value < 1) return 1;
  return std::min(value, kMaxSlowestLimit);
}

std::string JsonError(std::string_view message) {
  return Dump(Json{{"error", std::string(message)}});
}

}  // namespace tkmprom
