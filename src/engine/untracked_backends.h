// The backends of symbols the SymbolTable does not hold (plugin-contract.md
// §7.5: "a symbol folded into _other still counts under its backend").
//
// Each symbol remembers the backend of its last answer that named one. A
// symbol in the table keeps it in its SymbolEntry; a symbol folded into
// "_other" by max_symbols has no entry, so its backend is remembered here,
// by name, as is the backend of a symbol that expired from the table (so it
// is not forgotten when it comes back). A request of such a symbol is then
// counted under the backend found here although its symbol label is
// "_other".
//
// Why here and not per device: the backend belongs to the symbol, so a
// device that requests a folded symbol for the first time counts under the
// backend other devices' answers taught, exactly as for a symbol in the
// table.
//
// Bounds: only answered requests add names (requests alone never do), at
// most kCapacity of them. When full, learning a new name forgets the one
// first learned longest ago (counted in forgotten(); its next request counts
// under `unknown` until an answer names its backend again). Names are at
// most kMaxSymbolBytes long, so the memory is bounded by about
// kCapacity * 200 bytes.
//
// Thread safety: not thread-safe; owned by the engine thread.
#ifndef TKMPROM_ENGINE_UNTRACKED_BACKENDS_H_
#define TKMPROM_ENGINE_UNTRACKED_BACKENDS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "src/engine/backend.h"
#include "src/engine/string_index.h"

namespace tkmprom {

class UntrackedBackends {
 public:
  static constexpr size_t kCapacity = 16384;

  UntrackedBackends() = default;
  UntrackedBackends(const UntrackedBackends&) = delete;
  UntrackedBackends& operator=(const UntrackedBackends&) = delete;

  // The backend remembered for `symbol`; kUnknown when none is.
  Backend Find(std::string_view symbol) const;
  // Remembers `backend` for `symbol` (see the file comment for the bound).
  void Learn(std::string_view symbol, Backend backend);

  size_t size() const { return index_.size(); }
  // Names forgotten to make room for newer ones.
  uint64_t forgotten() const { return forgotten_; }
  // Approximate heap bytes (memory_usage.h).
  size_t MemoryBytes() const;

 private:
  struct Entry {
    std::string symbol;
    Backend backend = Backend::kUnknown;
  };
  // Entries never move (the index may point at long names); once
  // kCapacity are in use, next_ is the one first learned longest ago.
  std::deque<Entry> entries_;
  size_t next_ = 0;
  StringIndex index_;
  uint64_t forgotten_ = 0;
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_UNTRACKED_BACKENDS_H_
