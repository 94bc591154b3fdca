#include "src/http/slowest_ranking.h"

#include <algorithm>
#include <cmath>

namespace tkmprom {

double SlownessScore(const SymbolWindow& w) {
  double avg = std::isfinite(w.avg_latency_s) ? w.avg_latency_s : 0;
  double rate = std::isfinite(w.timeout_rate) ? w.timeout_rate : 0;
  return avg + 10 * rate;
}

std::vector<RankedSymbol> RankSlowestSymbols(const Snapshot& snapshot, size_t limit,
                                             uint64_t min_requests) {
  std::vector<RankedSymbol> ranked;
  ranked.reserve(snapshot.symbols.size());
  for (const SymbolWindow& w : snapshot.symbols) {
    if (w.requests < min_requests) continue;
    ranked.push_back({&w, SlownessScore(w)});
  }
  // Scores are finite (SlownessScore() maps NaN to 0), so this is a strict
  // weak order.
  auto slower = [](const RankedSymbol& a, const RankedSymbol& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.window->symbol < b.window->symbol;
  };
  const size_t n = std::min(limit, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + n, ranked.end(), slower);
  ranked.resize(n);
  return ranked;
}

}  // namespace tkmprom
