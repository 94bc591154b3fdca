// Per-symbol statistics (plugin-contract.md §4, stock updates): the ledger
// counters, the latency histogram, the sliding-window view, and the table's
// bounds — `max_symbols` (overflow folds into "_other", each refusal counted)
// and `symbol_expiry` (idle symbols with fewer than 100 requests and nothing
// pending leave memory and the output).
//
// Labels: the special names "unknown", "_page" and "_other" are interned like
// any symbol but do not count against max_symbols.
//
// Ids are indices into a std::deque that only grows; a freed id is reused
// with a new generation, so holders of (id, generation) can tell.
//
// Thread safety: not thread-safe; owned by the engine thread.
#ifndef TKMPROM_ENGINE_SYMBOL_TABLE_H_
#define TKMPROM_ENGINE_SYMBOL_TABLE_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "src/engine/string_index.h"
#include "src/engine/windowed_stats.h"
#include "tkmprom/config.h"

namespace tkmprom {

inline constexpr std::string_view kUnknownSymbol = "unknown";
inline constexpr std::string_view kPageSymbol = "_page";
inline constexpr std::string_view kOtherSymbol = "_other";
// Symbols with at least this many requests never expire.
inline constexpr uint64_t kExpiryMinRequests = 100;

struct SymbolEntry {
  explicit SymbolEntry(int64_t window_ns) : window(window_ns) {}

  std::string name;
  bool in_use = false;
  bool special = false;
  uint32_t generation = 0;
  int64_t last_activity_ns = 0;

  // The ledger: requests = responses + errors + timeouts + superseded + pending.
  uint64_t requests = 0;
  uint64_t responses = 0;
  uint64_t errors = 0;
  uint64_t timeouts = 0;
  uint64_t superseded = 0;
  uint64_t pending = 0;

  // Latency of successful answers: per-bucket (not cumulative) counts, the
  // last one for values above every bound; sum and count = responses.
  std::vector<uint64_t> buckets;
  double latency_sum = 0;

  WindowedStats window;
};

class SymbolTable {
 public:
  explicit SymbolTable(const Config& config);

  // The id counting under `name`; "_other" when `name` is new and the table
  // is full (counted in dropped()). Never fails.
  uint32_t Intern(std::string_view name, int64_t now_ns);

  SymbolEntry& Get(uint32_t id) { return entries_[id]; }
  const SymbolEntry& Get(uint32_t id) const { return entries_[id]; }

  void RecordRequest(uint32_t id, int64_t now_ns);
  void RecordResponse(uint32_t id, int64_t now_ns, double latency_s);
  void RecordError(uint32_t id, int64_t now_ns);
  void RecordTimeout(uint32_t id, int64_t now_ns);
  void RecordSuperseded(uint32_t id, int64_t now_ns);

  // Drops expired symbols (see the file comment).
  void Expire(int64_t now_ns);

  uint64_t dropped() const { return dropped_; }
  // Symbols counting against max_symbols.
  size_t tracked() const { return tracked_; }
  size_t in_use() const { return index_.size(); }
  const std::deque<SymbolEntry>& entries() const { return entries_; }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  void Resolve(SymbolEntry& e, int64_t now_ns);

  std::vector<double> bounds_;
  int64_t window_ns_;
  int64_t expiry_ns_;
  uint64_t max_symbols_;
  std::deque<SymbolEntry> entries_;
  std::vector<uint32_t> free_;
  StringIndex index_;
  size_t tracked_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_SYMBOL_TABLE_H_
