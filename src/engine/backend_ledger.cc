#include "src/engine/backend_ledger.h"

#include <algorithm>

namespace tkmprom {

BackendLedger::BackendLedger(const std::vector<double>& bounds) : bounds_(bounds) {
  for (Entry& e : entries_) e.buckets.assign(bounds_.size() + 1, 0);
}

void BackendLedger::RecordRequest(Backend b) {
  Entry& e = entries_[static_cast<int>(b)];
  ++e.requests;
  ++e.pending;
}

BackendLedger::Entry& BackendLedger::Resolve(Backend b) {
  Entry& e = entries_[static_cast<int>(b)];
  if (e.pending > 0) --e.pending;
  return e;
}

void BackendLedger::RecordResponse(Backend b, double latency_s) {
  Entry& e = Resolve(b);
  ++e.responses;
  const size_t bucket =
      std::lower_bound(bounds_.begin(), bounds_.end(), latency_s) - bounds_.begin();
  ++e.buckets[bucket];
  e.latency_sum += latency_s;
}

void BackendLedger::RecordError(Backend b) { ++Resolve(b).errors; }

void BackendLedger::RecordTimeout(Backend b) { ++Resolve(b).timeouts; }

void BackendLedger::RecordSuperseded(Backend b) { ++Resolve(b).superseded; }

}  // namespace tkmprom
