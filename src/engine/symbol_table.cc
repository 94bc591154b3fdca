#include "src/engine/symbol_table.h"

#include <algorithm>
#include <cmath>

#include "src/engine/memory_usage.h"

namespace tkmprom {

SymbolTable::SymbolTable(const Config& config)
    : bounds_(config.latency_buckets),
      window_ns_(Config::ToNanos(config.quantile_window_s)),
      expiry_ns_(Config::ToNanos(config.symbol_expiry_s)),
      max_symbols_(config.max_symbols) {
  // +Inf is always the last bucket; a configured one would duplicate it.
  bounds_.erase(
      std::remove_if(bounds_.begin(), bounds_.end(), [](double b) { return !std::isfinite(b); }),
      bounds_.end());
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  index_.Reserve(std::min<uint64_t>(max_symbols_, 4096) + 8);
}

uint32_t SymbolTable::Intern(std::string_view name, int64_t now_ns) {
  uint32_t id = index_.Find(name);
  if (id != StringIndex::kNone) return id;
  const bool special = name == kUnknownSymbol || name == kPageSymbol || name == kOtherSymbol;
  if (!special && tracked_ >= max_symbols_) {
    ++dropped_;
    return Intern(kOtherSymbol, now_ns);
  }
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
    SymbolEntry& e = entries_[id];
    const uint32_t generation = e.generation + 1;
    e = SymbolEntry(window_ns_);
    e.generation = generation;
  } else {
    id = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back(window_ns_);
  }
  SymbolEntry& e = entries_[id];
  e.name.assign(name.data(), name.size());
  e.in_use = true;
  e.special = special;
  e.is_other = name == kOtherSymbol;
  if (name == kPageSymbol) {
    e.backend = Backend::kPage;
  } else if (!special) {
    // Back from expiry, or known while it was folded into "_other".
    e.backend = untracked_backends_.Find(name);
  }
  e.last_activity_ns = now_ns;
  next_expiry_ns_ = std::min(next_expiry_ns_, ExpiryDue(now_ns));
  e.buckets.assign(bounds_.size() + 1, 0);
  index_.Insert(e.name, id);
  if (!special) ++tracked_;
  return id;
}

void SymbolTable::RecordRequest(uint32_t id, int64_t now_ns) {
  SymbolEntry& e = entries_[id];
  ++e.requests;
  ++e.pending;
  e.last_activity_ns = std::max(e.last_activity_ns, now_ns);
  e.window.AddRequest(now_ns);
}

void SymbolTable::Resolve(SymbolEntry& e, int64_t now_ns) {
  if (e.pending > 0) --e.pending;
  e.last_activity_ns = std::max(e.last_activity_ns, now_ns);
}

void SymbolTable::RecordResponse(uint32_t id, int64_t now_ns, double latency_s) {
  SymbolEntry& e = entries_[id];
  Resolve(e, now_ns);
  ++e.responses;
  const size_t bucket =
      std::lower_bound(bounds_.begin(), bounds_.end(), latency_s) - bounds_.begin();
  ++e.buckets[bucket];
  e.latency_sum += latency_s;
  e.window.AddAnswer(now_ns, latency_s);
  e.window.AddResolved(now_ns, false);
}

void SymbolTable::RecordError(uint32_t id, int64_t now_ns) {
  SymbolEntry& e = entries_[id];
  Resolve(e, now_ns);
  ++e.errors;
  e.window.AddResolved(now_ns, false);
}

void SymbolTable::RecordTimeout(uint32_t id, int64_t now_ns) {
  SymbolEntry& e = entries_[id];
  Resolve(e, now_ns);
  ++e.timeouts;
  e.window.AddResolved(now_ns, true);
}

void SymbolTable::RecordSuperseded(uint32_t id, int64_t now_ns) {
  SymbolEntry& e = entries_[id];
  Resolve(e, now_ns);
  ++e.superseded;
}

Backend SymbolTable::BackendOf(uint32_t id, std::string_view requested) const {
  const SymbolEntry& e = entries_[id];
  if (e.is_other && requested != kOtherSymbol) return untracked_backends_.Find(requested);
  return e.backend;
}

void SymbolTable::LearnBackend(uint32_t id, std::string_view requested, Backend backend) {
  SymbolEntry& e = entries_[id];
  if (e.is_other) {
    if (requested != kOtherSymbol) untracked_backends_.Learn(requested, backend);
    return;
  }
  if (!e.special) e.backend = backend;
}

void SymbolTable::Expire(int64_t now_ns) {
  // last_activity_ns only grows and requests never fall, so the earliest
  // last_activity_ns of a symbol that could still expire, left by the
  // previous scan (or a new symbol's), bounds the next expiry.
  if (now_ns < next_expiry_ns_) return;
  int64_t earliest = INT64_MAX;
  for (uint32_t id = 0; id < entries_.size(); ++id) {
    SymbolEntry& e = entries_[id];
    if (!e.in_use || e.requests >= kExpiryMinRequests) continue;
    if (e.pending != 0 || now_ns - e.last_activity_ns < expiry_ns_) {
      earliest = std::min(earliest, e.last_activity_ns);
      continue;
    }
    index_.Erase(e.name);
    if (!e.special && e.backend != Backend::kUnknown) untracked_backends_.Learn(e.name, e.backend);
    e.in_use = false;
    if (!e.special) --tracked_;
    free_.push_back(id);
  }
  next_expiry_ns_ = ExpiryDue(earliest);
}

SymbolTableMemory SymbolTable::Memory() const {
  SymbolTableMemory m;
  m.entries = HeapBytes(entries_);
  for (const SymbolEntry& e : entries_) {
    m.names += HeapBytes(e.name);
    m.buckets += HeapBytes(e.buckets);
    m.windows += e.window.MemoryBytes() - sizeof(WindowedStats);
  }
  m.index = index_.MemoryBytes() + HeapBytes(free_);
  m.untracked = untracked_backends_.MemoryBytes();
  return m;
}

}  // namespace tkmprom
