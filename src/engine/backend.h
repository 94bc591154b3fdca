// The quote backends of plugin-contract.md §7.5: which quote source served a
// symbol, named by the `symbolType` of its answers (protocol reference §1.3),
// `page` for page replies and `unknown` for anything else or nothing yet.
// The set is fixed, so every backend's series can be exported from the start.
//
// Thread safety: constants and pure functions; call them from any thread.
#ifndef TKMPROM_ENGINE_BACKEND_H_
#define TKMPROM_ENGINE_BACKEND_H_

#include <cstdint>

namespace tkmprom {

// symbolType 1..12 in order, then page and unknown: the `backend` label's
// values in the order they are exported.
enum class Backend : uint8_t {
  kStock = 0,    // symbolType 1
  kCrypto,       // 2
  kForex,        // 3
  kIndex,        // 4
  kEtf,          // 5
  kCommodity,    // 6
  kTop10,        // 7
  kElectricity,  // 8
  kOption,       // 9
  kCustomApi,    // 10
  kMusic,        // 11
  kFxon,         // 12
  kPage,         // page replies
  kUnknown,      // any other symbolType, or no answer that named one yet
};
inline constexpr int kBackendCount = 14;

// The `backend` label value: "stock", "crypto", ..., "fxon", "page", "unknown".
const char* BackendName(Backend backend);

// The backend a `symbolType` value names: 1..12 map to kStock..kFxon,
// everything else to kUnknown.
Backend BackendOfSymbolType(int64_t symbol_type);

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_BACKEND_H_
