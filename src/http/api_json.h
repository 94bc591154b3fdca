// The JSON endpoints' bodies, built from a Snapshot with nlohmann/json and
// nothing of HTTP: /api/v1/symbols/slowest and /api/v1/devices/<id>.
//
// Thread safety: free functions over a const Snapshot; call them from any
// thread. They do not throw for any snapshot content (strings that are not
// valid UTF-8 are written with U+FFFD in place of the bad bytes).
#ifndef TKMPROM_SRC_HTTP_API_JSON_H_
#define TKMPROM_SRC_HTTP_API_JSON_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tkmprom/snapshot.h"

namespace tkmprom {

// The `limit` query parameter of /api/v1/symbols/slowest.
inline constexpr size_t kDefaultSlowestLimit = 10;
inline constexpr size_t kMaxSlowestLimit = 1000;

// Body of /api/v1/symbols/slowest: a JSON array, slowest first, of at most
// `limit` objects {symbol, backend, avg_latency_seconds, p95_latency_seconds,
// timeout_rate, requests}. Latencies are null when NaN (nothing answered in
// the window); p95 is the nearest-rank quantile (plugin-contract.md §7.3).
// `backend` is the symbol's current quote backend (SymbolWindow::backend,
// §7.5). The ranking is RankSlowestSymbols() (slowest_ranking.h):
// score = avg latency (0 when NaN) + 10 * timeout_rate; symbols
// with requests < min_requests are left out; equal scores are ordered by
// symbol name.
std::string SlowestSymbolsJson(const Snapshot& snapshot, size_t limit, uint64_t min_requests);

// Body of /api/v1/devices/<id>: one JSON object with every DeviceState field
// under snake_case keys (`_s` fields are spelled `_seconds`), numeric fields
// that were never reported (negative) as null. std::nullopt if the snapshot
// does not hold `device_id`.
std::optional<std::string> DeviceJson(const Snapshot& snapshot, std::string_view device_id);

// Parses the `limit` query value: an optionally signed decimal integer,
// clamped to 1..kMaxSlowestLimit (out-of-range magnitudes clamp too).
// std::nullopt when `text` is not such an integer (empty, letters, "1.5").
std::optional<size_t> ParseSlowestLimit(std::string_view text);

// {"error": message} for the JSON endpoints' 4xx answers.
std::string JsonError(std::string_view message);

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_API_JSON_H_
