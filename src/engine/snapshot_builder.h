// Builds the immutable Snapshot's typed views (symbols with their latency
// buckets and window, backends, devices, fleet totals, plugin counters,
// recent timeouts, boots of the last hour) from the engine's tables and the
// hook's counters. The names, types and HELP texts of plugin-contract.md §4
// are the exposition's (src/exposition/snapshot_exposition.h).
//
// Every row whose existence is known up front (each message kind, each
// invalid kind and reason, each unmatched reason, each tracking table, each
// of the 14 backends, …) is present from the start with 0.
//
// Thread safety: reads `tables` only; call on the engine thread.
#ifndef TKMPROM_ENGINE_SNAPSHOT_BUILDER_H_
#define TKMPROM_ENGINE_SNAPSHOT_BUILDER_H_

#include <cstdint>
#include <memory>

#include "src/engine/engine.h"
#include "src/engine/engine_tables.h"
#include "tkmprom/snapshot.h"

namespace tkmprom {

std::shared_ptr<const Snapshot> BuildEngineSnapshot(const EngineTables& tables,
                                                    const PluginCounters& plugin,
                                                    uint64_t generation);

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_SNAPSHOT_BUILDER_H_
