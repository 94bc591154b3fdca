// Per-symbol statistics (plugin-contract.md §4, stock updates): the ledger
// counters, the latency histogram, the sliding-window view, and the table's
// bounds — `max_symbols` (overflow folds into "_other", each refusal counted)
// and `symbol_expiry` (idle symbols with fewer than 100 requests and nothing
// pending leave memory and the output).
//
// Labels: the special names "unknown", "_page" and "_other" are interned like
// any symbol but do not count against max_symbols.
//
// Backends (plugin-contract.md §7.5): each symbol remembers the backend of
// its last answer that named one (LearnBackend()), `unknown` before. A
// symbol in the table keeps it in its entry; a symbol folded into "_other"
// or expired keeps it in UntrackedBackends, so it is not lost to the caps.
// The label "unknown" is always backend `unknown` and "_page" always `page`
// (a device counts under "_page" because its previous symbol-less request
// was answered by a page reply); neither learns from answers.
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

#include "src/engine/backend.h"
#include "src/engine/string_index.h"
#include "src/engine/untracked_backends.h"
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
  bool is_other = false;  // the "_other" label
  // The backend of the symbol's last answer that named one (fixed for
  // "unknown" and "_page"; unused for "_other", see BackendOf()).
  Backend backend = Backend::kUnknown;
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

// Approximate heap bytes of a SymbolTable, by part (memory_usage.h).
struct SymbolTableMemory {
  size_t entries = 0;    // the SymbolEntry objects (WindowedStats inline part included)
  size_t names = 0;      // heap of the names
  size_t buckets = 0;    // latency histograms
  size_t windows = 0;    // WindowedStats heap: sub-windows and their sketches
  size_t index = 0;      // the name index and the free list
  size_t untracked = 0;  // UntrackedBackends
  size_t Total() const { return entries + names + buckets + windows + index + untracked; }
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

  // The backend a request counts under: that of symbol `requested` (the
  // name passed to Intern(), which returned `id`). For a name folded into
  // "_other", the backend remembered for the name itself.
  Backend BackendOf(uint32_t id, std::string_view requested) const;
  // An answer to a request counted under (`id`, `requested`) named
  // `backend`: the symbol remembers it (ignored for "unknown" and "_page").
  void LearnBackend(uint32_t id, std::string_view requested, Backend backend);
  const UntrackedBackends& untracked_backends() const { return untracked_backends_; }

  // Drops expired symbols (see the file comment).
  void Expire(int64_t now_ns);

  uint64_t dropped() const { return dropped_; }
  // Symbols counting against max_symbols.
  size_t tracked() const { return tracked_; }
  size_t in_use() const { return index_.size(); }
  const std::deque<SymbolEntry>& entries() const { return entries_; }
  const std::vector<double>& bounds() const { return bounds_; }
  SymbolTableMemory Memory() const;

 private:
  void Resolve(SymbolEntry& e, int64_t now_ns);
  // When a symbol last active at `last_activity_ns` may expire (saturated).
  int64_t ExpiryDue(int64_t last_activity_ns) const {
    int64_t due;
    if (__builtin_add_overflow(last_activity_ns, expiry_ns_, &due)) {
      return expiry_ns_ > 0 ? INT64_MAX : INT64_MIN;
    }
    return due;
  }

  std::vector<double> bounds_;
  int64_t window_ns_;
  int64_t expiry_ns_;
  // No symbol can expire before this (see Expire()).
  int64_t next_expiry_ns_ = INT64_MAX;
  uint64_t max_symbols_;
  std::deque<SymbolEntry> entries_;
  std::vector<uint32_t> free_;
  StringIndex index_;
  size_t tracked_ = 0;
  uint64_t dropped_ = 0;
  UntrackedBackends untracked_backends_;
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_SYMBOL_TABLE_H_
