// The ground truth of a simulation run: what an ideal observer at the broker
// should report, computed by applying the plugin contract's correlation rules
// (plugin-contract.md §5, §6) to the publishes the simulator's clients got
// accepted, in the order and at the times the simulator saw them.
//
// The simulator's clock is not the broker's: where an outcome depends on the
// order of two events closer than `ambiguity_margin` (a reply near the
// request timeout, a reply racing a newer request for the same device and
// symbol, a label learned just before a request), the request is counted as
// usual and additionally as `ambiguous`, so a comparison can allow exactly
// that much disagreement per symbol.
//
// Besides the contract's view it records the backend's intent per request
// (no reply injected, late reply injected, duplicates sent, replies cancelled
// at shutdown) and the injected latency of the copy that answered.
//
// Matching ignores ASCII case (contract §7.4); labels are the requested
// symbols as sent. Quote backends (contract §7.5): every label remembers the
// backend named by the last answer that resolved one of its requests (`page`
// for page replies, the symbolType's name for quotes; error replies name
// none), and each request is counted under its label's backend at the time it
// was counted, `unknown` before; the `unknown` label itself (no symbol known
// yet) never learns one. Which backend the broker saw can differ from the
// simulator's order when a request and an answer that changed its label's
// backend are closer than `ambiguity_margin`: such a request counts in
// `ambiguous` of every backend it may belong to (ToJson).
//
// Quantiles are nearest rank (contract §7.3): the value of rank ceil(q*n) in
// ascending order.
//
// Thread safety: owned by the simulation thread.
#ifndef FLEETSIM_GROUND_TRUTH_H_
#define FLEETSIM_GROUND_TRUTH_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "device_model.h"
#include "publish_kind.h"
#include "symbol_pool.h"

namespace fleetsim {

inline constexpr uint32_t kNoRequest = 0xFFFFFFFFu;

// How a publish on a device topic counts (protocol §2.5).
enum class ReplyCategory : uint8_t {
  kNoSymbolAnswer,  // single-mode UPDATE: resolves the no-symbol request
  kNewAnswer,       // NEW: resolves the no-symbol request, else unsolicited
  kPageAnswer,      // page reply without error
  kPageError,       // page reply with error: error answer for the no-symbol request
  kPlaylistUpdate,  // playlist UPDATE: resolved through symbols[symbolIndex]
  kError,           // NO_CONFIG, DEVICE_ASSIGNED success:false
  kLifecycle,       // DEVICE_REG and the like: not an answer
};

struct ReplyInfo {
  ReplyCategory category = ReplyCategory::kLifecycle;
  std::string symbol;                        // the reply's `symbol` field (quotes only)
  int symbol_type = 0;                       // its `symbolType` (quotes only; 0: none)
  std::shared_ptr<const Playlist> playlist;  // kPlaylistUpdate
  int symbol_index = -1;
  uint32_t for_request = kNoRequest;  // the request the backend answered
  double injected_latency = 0;
};

// The value of rank ceil(q*n) of `sorted` (ascending, n > 0), the slowest
// for q*n > n-1; q*n is taken 1e-9 lower so that 0.95*20 is rank 19 whatever
// its rounding.
double NearestRank(const std::vector<double>& sorted, double q);

// The backend name of contract §7.5 for symbolType `symbol_type`: `stock` ..
// `fxon` for 1..12, else `unknown`.
const char* BackendName(int symbol_type);

class GroundTruth {
 public:
  // `quantile_window`: the window of the summary's windowed per-symbol
  // figures, ending at the last time the ledger was advanced to.
  GroundTruth(const SymbolPool& pool, const std::vector<Device>& fleet, double request_timeout,
              double ambiguity_margin, double quantile_window);

  // Every accepted publish, by kind.
  void CountPublish(Kind kind) { ++totals_[static_cast<int>(kind)]; }

  // Expires requests whose timeout passed by `now`. Call before each event.
  void AdvanceTo(double now);

  // An accepted STOCKPRICEUPDATE of `device`; `key` is the requested symbol or
  // empty. Returns the request id.
  uint32_t OnRequest(int device, const std::string& key, double now);

  // An accepted publish on `device`'s topic.
  void OnDeviceMessage(int device, const ReplyInfo& reply, double now);

  // Backend intent for request `id`.
  void OnNoReplyInjected(uint32_t id);
  void OnLateInjected(uint32_t id);
  void OnDuplicateSent(uint32_t id);
  void OnReplyCancelled(uint32_t id);

  // Boots: a real boot (not a resend), every accepted TICKRMETERBOOT, and
  // every accepted heartbeat (for the contract's uptime rule).
  void OnRealBoot(int device);
  void OnBootAnnouncement(int device, bool resend, double now);
  void OnHeartbeat(int device, uint32_t uptime, double now);

  // Requests still pending (not yet answered or timed out).
  size_t pending() const { return pending_count_; }
  uint64_t total(Kind kind) const { return totals_[static_cast<int>(kind)]; }
  uint64_t requests() const { return requests_.size(); }
  uint64_t responses() const { return responses_; }

  // The summary's "totals", "symbols", "backends", "latency", "unmatched"
  // and "boots".
  void ToJson(nlohmann::json* out) const;

 private:
  // Backend ids: 0 `unknown`, 1..12 the symbolTypes, kPageBackend `page`.
  static constexpr int kPageBackend = kMaxSymbolType + 1;
  static constexpr int kBackendCount = kPageBackend + 1;
  // An answer that resolved a request of a label and named a backend.
  struct BackendEvent {
    double time;
    uint32_t request;  // the request it resolved
    int backend;
  };
  struct LabelStats {
    std::string name;
    uint64_t requests = 0, responses = 0, errors = 0, timeouts = 0, superseded = 0, pending = 0;
    uint64_t ambiguous = 0, late = 0, late_replies = 0, duplicate_replies = 0;
    uint64_t no_reply_injected = 0, late_injected = 0, duplicates_sent = 0, cancelled = 0;
    std::vector<double> latency;               // observed on the simulator's clock
    std::vector<double> answered_at;           // when, parallel to `latency`
    std::vector<double> injected_latency;      // of the copy that answered
    int backend = 0;                           // named by the last resolving answer
    std::vector<BackendEvent> backend_events;  // in time order
  };
  enum class State : uint8_t { kPending, kAnswered, kErrored, kTimedOut, kSuperseded };
  struct Request {
    int device;
    int label;
    int backend;         // of `label` when counted
    int alt_label = -1;  // label_race: the label the broker may have counted it under
    double time;
    double answered_at = -1;
    double superseded_at = -1;  // when this request replaced an older one
    uint32_t replaced = kNoRequest;
    State state = State::kPending;
    bool ambiguous = false;
    bool late = false;
    std::string key;
  };
  struct Recent {
    uint32_t request;
    double time;  // answer time or deadline
    bool timed_out;
  };
  struct DeviceLedger {
    std::vector<uint32_t> pending;  // request ids, oldest first
    std::deque<Recent> recent;      // resolved within the last timeout
    int learned_label = -1;
    int label_before_learning = -1;  // learned_label before the last learning
    double learned_at = -1e18;
    double last_boot_announce = -1e18;
    bool heard_since_announce = true;
    bool announced_since_heartbeat = false;
    bool has_uptime = false;
    uint32_t last_uptime = 0;
  };

  int Label(const std::string& name);
  // `reason` indexes kAmbiguityReasons (ground_truth.cc).
  void MarkAmbiguous(uint32_t id, int reason);
  void Resolve(uint32_t id, bool error, const ReplyInfo& reply, double now);
  // The pending (or recent, when `recent` is set) request a reply resolves by
  // the contract's rules; kNoRequest if none.
  uint32_t FindPending(const DeviceLedger& led, const ReplyInfo& reply) const;
  // The oldest request resolved (timed_out: timed out) within `horizon`
  // seconds before now whose key the reply matches; `horizon` < 0 means
  // request_timeout.
  uint32_t FindRecent(const DeviceLedger& led, const ReplyInfo& reply, bool timed_out, double now,
                      double horizon = -1) const;
  uint32_t MatchKeys(const std::vector<uint32_t>& ids, const ReplyInfo& reply) const;
  void Prune(DeviceLedger& led, double now);
  // Bit mask of the backends a request of `label` at `time` may have been
  // counted under in the broker's order (see the header comment); answers to
  // request `self` are left out (they follow it in any order).
  uint32_t PossibleBackends(int label, double time, uint32_t self) const;
  nlohmann::json BackendsJson() const;

  const SymbolPool& pool_;
  const std::vector<Device>& fleet_;
  const double timeout_;
  const double margin_;
  const double window_;
  double last_time_ = 0;
  uint64_t totals_[kKindCount] = {};
  std::vector<Request> requests_;
  std::vector<DeviceLedger> ledgers_;
  std::vector<LabelStats> labels_;
  std::unordered_map<std::string, int> label_index_;
  using Deadline = std::pair<double, uint32_t>;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<Deadline>> deadlines_;
  size_t pending_count_ = 0;
  uint64_t responses_ = 0;
  uint64_t unmatched_late_ = 0, unmatched_duplicate_ = 0, unmatched_unsolicited_ = 0;
  // Unmatched answers within the margin of the request_timeout horizon: the
  // broker may have classified them as the neighbouring reason.
  uint64_t unmatched_ambiguous_ = 0;
  uint64_t lifecycle_ = 0;
  uint64_t ambiguous_by_reason_[5] = {};
  uint64_t real_boots_ = 0, announcements_ = 0, resends_ = 0, contract_boots_ = 0;
  uint64_t heartbeat_rule_boots_ = 0, uptime_wraps_ = 0;
  std::map<std::string, uint64_t> boots_by_firmware_;
};

}  // namespace fleetsim

#endif  // FLEETSIM_GROUND_TRUTH_H_
