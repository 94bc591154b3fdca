// Per quote backend counters (plugin-contract.md §7.5): the ledger of the
// tickrmeter_backend_* families and their latency histogram.
//
// Every request is counted under one backend when it is counted (the backend
// its symbol had then; the Correlator stores it in the request's slot), and
// its outcome is recorded under the same one, so per backend
//   requests = responses + errors + timeouts + superseded + pending
// at every moment, as per symbol. The ledger does not depend on the symbol
// table: a symbol folded into "_other" or expired still counts here.
//
// Memory: kBackendCount fixed entries, each with one counter per latency
// bucket; nothing allocates after construction.
//
// Thread safety: not thread-safe; owned by the engine thread.
#ifndef TKMPROM_ENGINE_BACKEND_LEDGER_H_
#define TKMPROM_ENGINE_BACKEND_LEDGER_H_

#include <array>
#include <cstdint>
#include <vector>

#include "src/engine/backend.h"

namespace tkmprom {

class BackendLedger {
 public:
  struct Entry {
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
  };

  // `bounds`: the finite latency bucket bounds, ascending and distinct
  // (SymbolTable::bounds()).
  explicit BackendLedger(const std::vector<double>& bounds);

  void RecordRequest(Backend b);
  void RecordResponse(Backend b, double latency_s);
  void RecordError(Backend b);
  void RecordTimeout(Backend b);
  void RecordSuperseded(Backend b);

  const Entry& Get(Backend b) const { return entries_[static_cast<int>(b)]; }

 private:
  Entry& Resolve(Backend b);

  std::vector<double> bounds_;
  std::array<Entry, kBackendCount> entries_;
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_BACKEND_LEDGER_H_
