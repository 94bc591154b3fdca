// Byte-exact payloads of protocol reference §1.3: device requests, the
// backend's quote, page, error and lifecycle replies, boot and alert messages.
//
// Thread safety: pure functions (the Rng argument is the caller's).
#ifndef FLEETSIM_PAYLOADS_H_
#define FLEETSIM_PAYLOADS_H_

#include <string>

#include "device_model.h"
#include "random.h"
#include "symbol_pool.h"

namespace fleetsim {

// STOCKPRICEUPDATE; `symbol` empty for the no-symbol form.
std::string RequestPayload(const std::string& device_id, const std::string& symbol);

// TICKRMETERBOOT / DEVICE_BOOTED.
std::string BootPayload(const std::string& device_id);

// DEVICESTATUS poll.
inline const char* PollPayload() { return "{\"action\":\"status\"}"; }

// Single-mode text quote (§1.3 b); `type` is "UPDATE" or "NEW".
std::string SingleQuotePayload(const Device& device, const Symbol& symbol, const char* type,
                               Rng& rng);

// Playlist-mode text quote (§1.3 c) with symbolIndex `index` (-1: entry not
// found); the quoted symbol is `quoted` (differs from the entry for best/worst
// playlists).
std::string PlaylistQuotePayload(const Device& device, const Playlist& playlist, int index,
                                 const Symbol& quoted, const char* type, Rng& rng);

// The CSV of a playlist as the backend sends it: the entries as typed.
std::string PlaylistCsv(const Playlist& playlist);

// Page reply (§1.3 a), with `error` for the failure form.
std::string PagePayload(const Device& device, bool error);

std::string NoConfigPayload();
std::string DeviceNotFoundPayload();
std::string DeviceRegPayload(Rng& rng, double now);
std::string AlertPayload(Rng& rng);
std::string HttpStreamPayload(const Device& device, const Symbol& symbol);

}  // namespace fleetsim

#endif  // FLEETSIM_PAYLOADS_H_
