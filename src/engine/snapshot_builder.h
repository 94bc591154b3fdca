// Builds the immutable Snapshot (metric families, symbol windows with their
// latency buckets, device states, recent timeouts, boots of the last hour)
// from the engine's tables and the hook's counters, with the names,
// types and HELP texts of plugin-contract.md §4.
//
// Every series whose existence is known up front (messages_total per kind,
// messages_invalid_total per kind and reason, unmatched responses per
// reason, tracking_dropped per table, the tickrmeter_backend_* families for
// each of the 14 backends, …) is present from the start with 0.
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
