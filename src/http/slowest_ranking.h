// The slowest-symbols ranking of plugin-contract.md §3, shared by
// /api/v1/symbols/slowest (api_json.h) and the status page (status_page.h):
// score = average latency over the window in seconds (0 when nothing was
// answered) + 10 × timeout rate; symbols with fewer than `min_requests`
// requests in the window are left out; equal scores are ordered by symbol.
//
// Thread safety: free functions over a const Snapshot; call them from any
// thread.
#ifndef TKMPROM_SRC_HTTP_SLOWEST_RANKING_H_
#define TKMPROM_SRC_HTTP_SLOWEST_RANKING_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tkmprom/snapshot.h"

namespace tkmprom {

struct RankedSymbol {
  const SymbolWindow* window;  // points into the ranked Snapshot
  double score;
};

// The score of one symbol; finite for any input (NaN and infinities count 0).
double SlownessScore(const SymbolWindow& window);

// At most `limit` symbols of `snapshot`, slowest first. The rows point into
// `snapshot`, which must outlive them.
std::vector<RankedSymbol> RankSlowestSymbols(const Snapshot& snapshot, size_t limit,
                                             uint64_t min_requests);

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_SLOWEST_RANKING_H_
