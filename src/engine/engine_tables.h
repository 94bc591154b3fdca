// Everything the engine thread mutates, gathered so that the snapshot builder
// can read it without being a friend of Engine. Internal to src/engine.
//
// Thread safety: not thread-safe; owned by the engine thread.
#ifndef TKMPROM_ENGINE_ENGINE_TABLES_H_
#define TKMPROM_ENGINE_ENGINE_TABLES_H_

#include <cstdint>

#include "src/engine/backend_ledger.h"
#include "src/engine/correlator.h"
#include "src/engine/device_registry.h"
#include "src/engine/payload_parser.h"
#include "src/engine/symbol_table.h"
#include "tkmprom/config.h"
#include "tkmprom/message_kind.h"

namespace tkmprom {

// The kinds whose payload the engine parses, as rows of the invalid counters.
inline constexpr MessageKind kParsedKinds[] = {MessageKind::kStockRequest,
                                               MessageKind::kDeviceMessage, MessageKind::kHeartbeat,
                                               MessageKind::kBoot};
inline constexpr int kParsedKindCount = 4;

struct EngineTables {
  explicit EngineTables(const Config& c)
      : config(c),
        symbols(c),
        devices(c),
        backends(symbols.bounds()),
        correlator(c, &symbols, &devices, &backends) {}

  Config config;
  SymbolTable symbols;
  DeviceRegistry devices;
  BackendLedger backends;  // per quote backend (§7.5)
  Correlator correlator;
  int64_t now_ns = INT64_MIN;  // the engine clock; INT64_MIN before any time
  uint64_t invalid[kParsedKindCount][kInvalidReasonCount] = {};
  uint64_t promoted_other = 0;          // kOther observations that matched the device pattern
  uint64_t promoted_other_bridged = 0;  // the same, arrived over a bridge
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_ENGINE_TABLES_H_
