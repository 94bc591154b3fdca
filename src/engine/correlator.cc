#include "src/engine/correlator.h"

#include <algorithm>

namespace tkmprom {
namespace {

using State = RequestSlot::State;

// Entry `index` of a comma-separated list; empty if out of range.
std::string_view CsvEntry(std::string_view csv, int64_t index) {
  if (index < 0 || csv.empty()) return {};
  for (int64_t i = 0;; ++i) {
    const size_t comma = csv.find(',');
    if (i == index) return comma == std::string_view::npos ? csv : csv.substr(0, comma);
    if (comma == std::string_view::npos) return {};
    csv.remove_prefix(comma + 1);
  }
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; }

// Symbol comparisons of the §5 answer rules ignore ASCII case (§7.4): users
// type playlist entries as they like (`btc/usd`), quote sources answer with
// their own spelling (`BTC`). Bytes outside A-Z compare as they are.
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

bool Older(const RequestSlot& a, const RequestSlot& b) {
  return a.time_ns < b.time_ns || (a.time_ns == b.time_ns && a.seq < b.seq);
}

bool IsError(AnswerKind kind) {
  return kind == AnswerKind::kError || kind == AnswerKind::kPageError;
}

// The backend an answer names (§7.5): page replies `page`, others their
// symbolType when they carry one. False when the answer names none.
bool NamedBackend(AnswerKind kind, const DeviceMessageFields& m, Backend* out) {
  if (kind == AnswerKind::kPage || kind == AnswerKind::kPageError) {
    *out = Backend::kPage;
    return true;
  }
  if (!m.has_symbol_type) return false;
  *out = BackendOfSymbolType(m.symbol_type);
  return true;
}

}  // namespace

AnswerKind ClassifyAnswer(const DeviceMessageFields& m) {
  if (m.mode == "page") return m.has_error ? AnswerKind::kPageError : AnswerKind::kPage;
  const std::string_view t = m.type;
  if (t == "UPDATE") return m.is_playlist ? AnswerKind::kPlaylistUpdate : AnswerKind::kSingleUpdate;
  if (t == "NEW") return AnswerKind::kNew;
  if (t == "NO_CONFIG" || t == "INVALID_FORMAT" || t == "STOCK_ERROR") return AnswerKind::kError;
  if (t == "DEVICE_ASSIGNED" && m.success == 0) return AnswerKind::kError;
  return AnswerKind::kNotAnswer;
}

const char* UnmatchedName(Unmatched u) {
  switch (u) {
    case Unmatched::kLate:
      return "late";
    case Unmatched::kDuplicate:
      return "duplicate";
    case Unmatched::kUnsolicited:
      return "unsolicited";
  }
  return "unsolicited";
}

Correlator::Correlator(const Config& config, SymbolTable* symbols, DeviceRegistry* devices,
                       BackendLedger* backends)
    : timeout_ns_(std::max<int64_t>(Config::ToNanos(config.request_timeout_s), 1)),
      per_device_(config.per_device_metrics),
      symbols_(symbols),
      devices_(devices),
      backends_(backends) {}

std::string_view Correlator::RequestedName(const Device& d, const RequestSlot& s) {
  if (!s.symbol.empty()) return s.symbol;
  // A symbol-less request is named by the device's learned symbol, which
  // changes only when such a request is answered; a device has at most one
  // pending (a newer one supersedes it), so while `s` is pending this is
  // the name it was counted under.
  return d.learned_symbol.empty() ? kUnknownSymbol : std::string_view(d.learned_symbol);
}

void Correlator::Enqueue(uint32_t device_id, uint32_t slot) {
  const SlotRef self{device_id, slot};
  RequestSlot& s = SlotAt(self);
  s.queue_prev = queue_tail_;
  s.queue_next = SlotRef();
  if (queue_tail_.device == SlotRef::kNoDevice) {
    queue_head_ = self;
  } else {
    SlotAt(queue_tail_).queue_next = self;
  }
  queue_tail_ = self;
  ++queue_size_;
}

void Correlator::Dequeue(uint32_t device_id, uint32_t slot) {
  RequestSlot& s = SlotAt(SlotRef{device_id, slot});
  if (s.queue_prev.device == SlotRef::kNoDevice) {
    queue_head_ = s.queue_next;
  } else {
    SlotAt(s.queue_prev).queue_next = s.queue_next;
  }
  if (s.queue_next.device == SlotRef::kNoDevice) {
    queue_tail_ = s.queue_prev;
  } else {
    SlotAt(s.queue_next).queue_prev = s.queue_prev;
  }
  s.queue_prev = s.queue_next = SlotRef();
  --queue_size_;
}

DeviceSymbolCount* Correlator::PerSymbol(Device& d, uint32_t label) {
  const uint32_t generation = symbols_->Get(label).generation;
  DeviceSymbolCount* stale = nullptr;
  for (DeviceSymbolCount& c : d.per_symbol) {
    const SymbolEntry& e = symbols_->Get(c.symbol);
    if (c.symbol == label && c.symbol_generation == generation) return &c;
    if (!e.in_use || e.generation != c.symbol_generation) stale = &c;
  }
  if (stale == nullptr) {
    if (d.per_symbol.size() >= kMaxPerDeviceSymbols) return nullptr;
    stale = &d.per_symbol.emplace_back();
  }
  *stale = DeviceSymbolCount{label, generation, 0, 0};
  return stale;
}

int Correlator::AllocateSlot(Device& d, int64_t now_ns) {
  for (size_t i = 0; i < d.slots.size(); ++i) {
    if (d.slots[i].state == State::kFree) return static_cast<int>(i);
  }
  // A record older than request_timeout no longer classifies anything.
  for (size_t i = 0; i < d.slots.size(); ++i) {
    const RequestSlot& s = d.slots[i];
    if (s.state != State::kPending && now_ns - s.time_ns > timeout_ns_) {
      return static_cast<int>(i);
    }
  }
  if (d.slots.size() < kMaxSlotsPerDevice) {
    // Grown a few slots at a time, not doubled: 8,000 devices with 33
    // slots each would otherwise hold 64.
    if (d.slots.size() == d.slots.capacity()) {
      d.slots.reserve(std::min(d.slots.size() + kSlotGrowth, kMaxSlotsPerDevice));
    }
    d.slots.emplace_back();
    return static_cast<int>(d.slots.size() - 1);
  }
  int oldest = -1;
  for (size_t i = 0; i < d.slots.size(); ++i) {
    const RequestSlot& s = d.slots[i];
    if (s.state == State::kPending) continue;
    if (oldest < 0 || s.time_ns < d.slots[oldest].time_ns) oldest = static_cast<int>(i);
  }
  return oldest;
}

void Correlator::OnRequest(uint32_t device_id, std::string_view symbol, int64_t now_ns) {
  Device& d = devices_->Get(device_id);
  int slot = -1;
  // Most requests find nothing pending: they skip the scan.
  for (size_t i = 0; d.pending != 0 && i < d.slots.size(); ++i) {
    if (d.slots[i].state == State::kPending && d.slots[i].symbol == symbol) {
      slot = static_cast<int>(i);
      break;
    }
  }
  if (slot >= 0) {
    // Replaced before any answer: the old request leaves the ledger as
    // superseded, and the queue, to re-enter it at the tail below.
    symbols_->RecordSuperseded(d.slots[slot].label, now_ns);
    backends_->RecordSuperseded(d.slots[slot].backend);
    Dequeue(device_id, static_cast<uint32_t>(slot));
  } else {
    slot = AllocateSlot(d, now_ns);
    if (slot < 0) {
      ++refused_;
      return;
    }
    ++d.pending;
  }
  RequestSlot& s = d.slots[slot];
  s.symbol.assign(symbol.data(), symbol.size());
  const std::string_view label_name = RequestedName(d, s);
  const uint32_t label = symbols_->Intern(label_name, now_ns);
  s.state = State::kPending;
  s.label = label;
  s.backend = symbols_->BackendOf(label, label_name);
  s.time_ns = now_ns;
  s.seq = next_seq_++;
  symbols_->RecordRequest(label, now_ns);
  backends_->RecordRequest(s.backend);
  ++d.requests;
  if (per_device_) {
    if (DeviceSymbolCount* c = PerSymbol(d, label)) ++c->requests;
  }
  Enqueue(device_id, static_cast<uint32_t>(slot));
}

int Correlator::Match(const Device& d, State state, AnswerKind kind, const DeviceMessageFields& m,
                      int64_t min_resolved_ns) const {
  if (state == State::kPending && d.pending == 0) return -1;
  auto best = [&](auto&& pred) {
    int found = -1;
    for (size_t i = 0; i < d.slots.size(); ++i) {
      const RequestSlot& s = d.slots[i];
      if (s.state != state) continue;
      if (state != State::kPending && s.time_ns < min_resolved_ns) continue;
      if (!pred(s)) continue;
      if (found < 0 || Older(s, d.slots[found])) found = static_cast<int>(i);
    }
    return found;
  };
  auto no_symbol = [](const RequestSlot& s) { return s.symbol.empty(); };
  switch (kind) {
    case AnswerKind::kNotAnswer:
      return -1;
    case AnswerKind::kPage:
    case AnswerKind::kSingleUpdate:
    case AnswerKind::kNew:
      return best(no_symbol);
    case AnswerKind::kPageError:
    case AnswerKind::kError: {
      const int i = best(no_symbol);
      return i >= 0 ? i : best([](const RequestSlot&) { return true; });
    }
    case AnswerKind::kPlaylistUpdate:
      break;
  }
  // The entry at symbolIndex names the request by position: the device
  // requested exactly that CSV entry, so it is compared as it is.
  if (m.has_symbol_index) {
    const std::string_view want = CsvEntry(m.symbols, m.symbol_index);
    if (!want.empty()) {
      const int i = best([&](const RequestSlot& s) { return s.symbol == want; });
      if (i >= 0) return i;
    }
  }
  // The answer's own symbol is the quote source's spelling: equal, equal
  // once a /suffix is stripped, then prefix, all ignoring ASCII case (§7.4).
  const std::string_view got = m.symbol;
  if (got.empty()) return -1;
  int i = best([&](const RequestSlot& s) { return EqualsIgnoreCase(s.symbol, got); });
  if (i >= 0) return i;
  i = best([&](const RequestSlot& s) {
    const size_t slash = s.symbol.find('/');
    return slash != std::string::npos &&
           EqualsIgnoreCase(std::string_view(s.symbol).substr(0, slash), got);
  });
  if (i >= 0) return i;
  return best([&](const RequestSlot& s) { return StartsWithIgnoreCase(s.symbol, got); });
}

void Correlator::KeepRecord(Device& d, uint32_t slot, State state, int64_t resolved_ns) {
  RequestSlot& s = d.slots[slot];
  for (size_t i = 0; i < d.slots.size(); ++i) {
    RequestSlot& r = d.slots[i];
    if (i == slot || r.state != state || r.symbol != s.symbol) continue;
    // The same outcome for the same symbol: one record, the latest, answers
    // for both (see the file comment), and this slot is free again.
    r.time_ns = std::max(r.time_ns, resolved_ns);
    s.state = State::kFree;
    return;
  }
  s.state = state;
  s.time_ns = resolved_ns;
}

void Correlator::TimeOut(uint32_t device_id, uint32_t slot, int64_t at_ns) {
  Dequeue(device_id, slot);
  Device& d = devices_->Get(device_id);
  RequestSlot& s = d.slots[slot];
  symbols_->RecordTimeout(s.label, at_ns);
  backends_->RecordTimeout(s.backend);
  recent_timeouts_.Record(d.id, symbols_->Get(s.label).name, at_ns);
  KeepRecord(d, slot, State::kTimedOut, at_ns);
  if (d.pending > 0) --d.pending;
  ++d.timeouts;
}

void Correlator::Learn(Device& d, AnswerKind kind, const DeviceMessageFields& m) {
  std::string_view learned;
  switch (kind) {
    case AnswerKind::kPage:
    case AnswerKind::kPageError:
      learned = kPageSymbol;
      break;
    case AnswerKind::kSingleUpdate:
      learned = m.symbol;
      break;
    case AnswerKind::kNew:
      // A playlist device's symbol-less request is answered with entry 0.
      learned = m.is_playlist ? CsvEntry(m.symbols, 0) : std::string_view();
      if (learned.empty()) learned = m.symbol;
      break;
    default:
      return;
  }
  // An over-long answer symbol is not worth a per-device copy (kMaxSymbolBytes).
  if (!learned.empty() && learned.size() <= kMaxSymbolBytes && learned != d.learned_symbol) {
    d.learned_symbol.assign(learned.data(), learned.size());
  }
}

void Correlator::OnAnswer(uint32_t device_id, AnswerKind kind, const DeviceMessageFields& m,
                          int64_t now_ns) {
  if (kind == AnswerKind::kNotAnswer) return;
  if (device_id == StringIndex::kNone) {
    ++unmatched_[static_cast<int>(Unmatched::kUnsolicited)];
    return;
  }
  Device& d = devices_->Get(device_id);
  for (;;) {
    const int i = Match(d, State::kPending, kind, m, 0);
    if (i < 0) break;
    RequestSlot& s = d.slots[i];
    if (now_ns - s.time_ns >= timeout_ns_) {
      // Overdue but not swept yet: it timed out before this answer came.
      TimeOut(device_id, static_cast<uint32_t>(i), s.time_ns + timeout_ns_);
      continue;
    }
    Dequeue(device_id, static_cast<uint32_t>(i));
    if (IsError(kind)) {
      symbols_->RecordError(s.label, now_ns);
      backends_->RecordError(s.backend);
      ++d.errors;
    } else {
      const double latency_s = std::max<int64_t>(now_ns - s.time_ns, 0) / 1e9;
      symbols_->RecordResponse(s.label, now_ns, latency_s);
      backends_->RecordResponse(s.backend, latency_s);
      ++d.responses;
      if (per_device_) {
        if (DeviceSymbolCount* c = PerSymbol(d, s.label)) ++c->responses;
      }
    }
    // Before Learn(): RequestedName() of a symbol-less request depends on
    // the learned symbol.
    Backend named;
    if (NamedBackend(kind, m, &named)) symbols_->LearnBackend(s.label, RequestedName(d, s), named);
    const bool symbol_less = s.symbol.empty();
    KeepRecord(d, static_cast<uint32_t>(i), State::kAnswered, now_ns);
    if (d.pending > 0) --d.pending;
    if (symbol_less) Learn(d, kind, m);
    return;
  }
  const int64_t since = now_ns - timeout_ns_;
  Unmatched reason = Unmatched::kUnsolicited;
  if (Match(d, State::kTimedOut, kind, m, since) >= 0) {
    reason = Unmatched::kLate;
  } else if (Match(d, State::kAnswered, kind, m, since) >= 0) {
    reason = Unmatched::kDuplicate;
  }
  ++unmatched_[static_cast<int>(reason)];
}

void Correlator::Sweep(int64_t now_ns) {
  // In request order, as before issue 13: with the broker's monotonic
  // timestamps that is deadline order; a request stamped before the clock
  // (tests only) waits behind the later deadlines queued before it.
  while (queue_head_.device != SlotRef::kNoDevice) {
    const SlotRef head = queue_head_;
    const int64_t deadline_ns = SlotAt(head).time_ns + timeout_ns_;
    if (deadline_ns > now_ns) break;
    TimeOut(head.device, head.slot, deadline_ns);
  }
}

void Correlator::ForgetDevice(uint32_t device_id, int64_t now_ns) {
  Device& d = devices_->Get(device_id);
  for (size_t i = 0; i < d.slots.size(); ++i) {
    if (d.slots[i].state == State::kPending) TimeOut(device_id, static_cast<uint32_t>(i), now_ns);
  }
}

}  // namespace tkmprom
