// Matches stock update requests with the answers on the device topics
// (plugin-contract.md §5, §6; protocol reference §2.4, §2.5) and times out the
// unanswered ones.
//
// Requests are kept per device in RequestSlots keyed by the requested symbol
// ("" for a request without one). An answer's symbol is compared with the
// requested ones ignoring ASCII case (§7.4); the label stays the requested
// symbol as the device sent it. A slot stays after its request resolved,
// as a record for classifying later answers as `late` or `duplicate` within
// request_timeout. Every request is counted, at request time, under one
// SymbolTable label and one quote backend (the backend its symbol had then,
// §7.5), both stored in its slot and reused by its outcome, so per label and
// per backend requests = responses + errors + timeouts + superseded + pending.
// An answer that resolves a request and names a backend (symbolType; page
// replies name `page`) teaches it to the request's symbol
// (SymbolTable::LearnBackend()), for the symbol's later requests.
//
// Timeouts: all requests share one timeout, so deadlines enter a FIFO in
// request order, and Sweep() times out requests from its head while their
// deadline (RequestSlot::time_ns + request_timeout) has passed. The FIFO is a doubly
// linked list threaded through the pending RequestSlots themselves
// (RequestSlot::queue_prev/queue_next): a slot is linked exactly while it is
// pending, so an answered, timed-out or forgotten request leaves in O(1) and a
// superseding request moves its slot to the tail. The queue therefore holds
// exactly the pending requests, at most
// max_devices × kMaxSlotsPerDevice of them: it has no cap of its own, the
// per-device slot cap is its cap (refused() counts what it turns away), and it
// costs no memory beyond the slots. (Until issue 13 every request appended an
// entry that stayed until its deadline, answered or superseded or not: a flood
// of 400,000 superseding requests for one device grew the queue by 400,000
// entries.) An answer to a request whose deadline passed but was not swept yet
// counts the timeout first, so the outcome never depends on sweep timing.
//
// Records: a resolved request's slot stays as a record of its outcome
// (answered or timed out) and symbol, so that a later answer matching it
// within request_timeout counts as `duplicate` or `late`. Only whether such a
// record exists, resolved since now - request_timeout, matters, and the
// match depends on nothing but the record's state and symbol; so a device
// keeps one record per (state, symbol as requested), the latest: resolving
// a request whose outcome and symbol already have a record moves that
// record's time forward and frees the slot. A device requesting a few
// symbols over and over holds a few records, not one per request within
// request_timeout (about 25 each when a broker benchmark compresses 20
// minutes of a fleet into seconds). Until issue 15 every resolved request
// kept its own slot: the classifications are the same, except that a device
// at kMaxSlotsPerDevice overwrote its oldest record, possibly a symbol's only
// one, where it now more often has a free slot.
//
// The last RecentTimeouts::kCapacity timeouts (device, label, deadline) are
// kept for the status page.
//
// Thread safety: not thread-safe; owned by the engine thread.
#ifndef TKMPROM_ENGINE_CORRELATOR_H_
#define TKMPROM_ENGINE_CORRELATOR_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "src/engine/backend_ledger.h"
#include "src/engine/device_registry.h"
#include "src/engine/payload_parser.h"
#include "src/engine/recent_timeouts.h"
#include "src/engine/symbol_table.h"
#include "tkmprom/config.h"

namespace tkmprom {

// What a message on a device topic is (protocol §2.5).
enum class AnswerKind : uint8_t {
  kNotAnswer,       // lifecycle (DEVICE_REG, …) or unknown shape
  kPage,            // page reply without `error`
  kPageError,       // page reply with `error`
  kSingleUpdate,    // text quote, type UPDATE, not a playlist
  kPlaylistUpdate,  // text quote, type UPDATE, isPlaylist true
  kNew,             // text quote, type NEW
  kError,           // NO_CONFIG, DEVICE_ASSIGNED+success:false, INVALID_FORMAT, STOCK_ERROR
};
AnswerKind ClassifyAnswer(const DeviceMessageFields& m);

enum class Unmatched : uint8_t { kLate = 0, kDuplicate, kUnsolicited };
inline constexpr int kUnmatchedCount = 3;
const char* UnmatchedName(Unmatched u);

class Correlator {
 public:
  // A device keeps at most this many request slots (pending + recent
  // outcomes); a request needing more while all are pending is refused and
  // counted in refused() (tracking_dropped_total{table="pending"}).
  static constexpr size_t kMaxSlotsPerDevice = 64;  // SlotRef::slot has 6 bits
  static constexpr size_t kSlotGrowth = 4;
  // Distinct symbols per device counted with per_device_metrics.
  static constexpr size_t kMaxPerDeviceSymbols = 64;

  Correlator(const Config& config, SymbolTable* symbols, DeviceRegistry* devices,
             BackendLedger* backends);

  // A request of device `device_id` for `symbol` ("" for none) at now_ns.
  void OnRequest(uint32_t device_id, std::string_view symbol, int64_t now_ns);

  // An answer-shaped message (kind != kNotAnswer) on the topic of a tracked
  // device. `device_id` kNone: the device is not tracked.
  void OnAnswer(uint32_t device_id, AnswerKind kind, const DeviceMessageFields& m, int64_t now_ns);

  // Times out every pending request whose deadline is <= now_ns.
  void Sweep(int64_t now_ns);

  // Settles a device's pending requests as timeouts before it is removed.
  void ForgetDevice(uint32_t device_id, int64_t now_ns);

  uint64_t unmatched(Unmatched u) const { return unmatched_[static_cast<int>(u)]; }
  uint64_t refused() const { return refused_; }
  // Requests in the deadline queue: always the number of pending requests.
  size_t queued_deadlines() const { return queue_size_; }
  const RecentTimeouts& recent_timeouts() const { return recent_timeouts_; }

 private:
  // Index of the slot in `d` in `state` that answer (kind, m) resolves by the
  // §5 rules, considering only slots resolved at or after min_resolved_ns
  // (pending slots: any). -1 if none.
  int Match(const Device& d, RequestSlot::State state, AnswerKind kind,
            const DeviceMessageFields& m, int64_t min_resolved_ns) const;
  int AllocateSlot(Device& d, int64_t now_ns);
  // Makes resolved slot `slot` of `d` a record in `state` resolved at
  // resolved_ns, or frees it when `d` already keeps a record in `state` for
  // the same symbol, which then takes the later resolved_ns.
  void KeepRecord(Device& d, uint32_t slot, RequestSlot::State state, int64_t resolved_ns);
  // Settles the pending request in slot `slot` of device `device_id` as a
  // timeout at at_ns and unlinks it from the deadline queue.
  void TimeOut(uint32_t device_id, uint32_t slot, int64_t at_ns);
  void Learn(Device& d, AnswerKind kind, const DeviceMessageFields& m);
  // The symbol name request slot `s` of `d` was counted under, as given to
  // SymbolTable::Intern() (see OnRequest()).
  static std::string_view RequestedName(const Device& d, const RequestSlot& s);
  DeviceSymbolCount* PerSymbol(Device& d, uint32_t label);

  // The deadline queue (see the file comment).
  RequestSlot& SlotAt(SlotRef r) { return devices_->Get(r.device).slots[r.slot]; }
  void Enqueue(uint32_t device_id, uint32_t slot);
  void Dequeue(uint32_t device_id, uint32_t slot);

  int64_t timeout_ns_;
  bool per_device_;
  SymbolTable* symbols_;
  DeviceRegistry* devices_;
  BackendLedger* backends_;
  uint64_t next_seq_ = 1;
  uint64_t unmatched_[kUnmatchedCount] = {};
  uint64_t refused_ = 0;
  RecentTimeouts recent_timeouts_;
  // The deadline queue: oldest request first; no allocation of its own.
  SlotRef queue_head_;
  SlotRef queue_tail_;
  size_t queue_size_ = 0;
};

static_assert(Correlator::kMaxSlotsPerDevice <= 64, "a SlotRef names a slot in 6 bits");

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_CORRELATOR_H_
