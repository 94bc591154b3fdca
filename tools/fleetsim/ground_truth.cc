// Ground truth ledger: the contract's correlation rules on the simulator's
// timeline, plus the backend's intent.
#include "ground_truth.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace fleetsim {
namespace {

// Why a request was marked ambiguous (first reason wins).
const char* const kAmbiguityReasons[] = {"near_timeout", "label_race", "supersede_near_timeout",
                                         "same_key_race", "late_near_deadline"};

// The plugin's default latency_buckets (plugin-contract.md §2).
const double kContractBuckets[] = {0.1, 0.5, 1, 2, 5, 10, 30, 60};

// Contract §7.5, symbolType 1..12.
const char* const kBackendNames[] = {"unknown",    "stock",     "crypto", "forex",       "index",
                                     "etf",        "commodity", "top10",  "electricity", "option",
                                     "custom_api", "music",     "fxon"};

// ASCII case-blind comparisons of contract §7.4.
bool SameLetter(char a, char b) {
  return std::toupper(static_cast<unsigned char>(a)) == std::toupper(static_cast<unsigned char>(b));
}

bool StartsWithIgnoreCase(const std::string& key, const std::string& prefix) {
  if (prefix.size() > key.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (!SameLetter(key[i], prefix[i])) return false;
  }
  return true;
}

bool EqualsIgnoreCase(const std::string& key, const std::string& symbol) {
  return key.size() == symbol.size() && StartsWithIgnoreCase(key, symbol);
}

// `key` with any `/suffix` stripped equals `symbol`, ignoring case.
bool EqualsStrippedIgnoreCase(const std::string& key, const std::string& symbol) {
  return std::min(key.find('/'), key.size()) == symbol.size() && StartsWithIgnoreCase(key, symbol);
}

// With `with_values`, also every value, ascending, in "values" (for accuracy
// tests that need their own quantile definition).
nlohmann::json Distribution(std::vector<double> values, bool contract_buckets,
                            bool with_values = false) {
  std::sort(values.begin(), values.end());
  nlohmann::json j;
  double sum = 0;
  for (double v : values) sum += v;
  j["count"] = values.size();
  j["sum"] = sum;
  if (values.empty()) {
    for (const char* k : {"p50", "p90", "p95", "p99", "max"}) j[k] = nullptr;
  } else {
    j["p50"] = NearestRank(values, 0.5);
    j["p90"] = NearestRank(values, 0.9);
    j["p95"] = NearestRank(values, 0.95);
    j["p99"] = NearestRank(values, 0.99);
    j["max"] = values.back();
  }
  if (contract_buckets) {
    // Cumulative counts, as a Prometheus histogram's `le` buckets.
    nlohmann::json b = nlohmann::json::object();
    for (double bound : kContractBuckets) {
      auto n = std::upper_bound(values.begin(), values.end(), bound) - values.begin();
      char name[16];
      std::snprintf(name, sizeof name, "%g", bound);
      b[name] = n;
    }
    b["+Inf"] = values.size();
    j["buckets"] = b;
  }
  if (with_values) j["values"] = values;
  return j;
}

// A fine log-spaced histogram: 20 buckets per decade from 1 ms to 100 s.
nlohmann::json FineHistogram(const std::vector<double>& values) {
  std::vector<double> bounds;
  for (int k = -60; k <= 40; ++k) bounds.push_back(std::pow(10.0, k / 20.0));
  std::vector<uint64_t> counts(bounds.size() + 1, 0);
  for (double v : values) {
    counts[std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin()]++;
  }
  nlohmann::json j;
  j["upper_bounds"] = bounds;
  j["counts"] = counts;  // non-cumulative; the last one is above 100 s
  return j;
}

// Names of the ledger's backend ids: symbolTypes, then `page`.
const char* BackendIdName(int id) { return id == kMaxSymbolType + 1 ? "page" : BackendName(id); }

}  // namespace

double NearestRank(const std::vector<double>& sorted, double q) {
  const double n = static_cast<double>(sorted.size());
  double rank = std::ceil(q * n - 1e-9);
  rank = std::clamp(rank, 1.0, n);
  return sorted[static_cast<size_t>(rank) - 1];
}

const char* BackendName(int symbol_type) {
  return symbol_type >= 1 && symbol_type <= kMaxSymbolType ? kBackendNames[symbol_type]
                                                           : kBackendNames[0];
}

GroundTruth::GroundTruth(const SymbolPool& pool, const std::vector<Device>& fleet,
                         double request_timeout, double ambiguity_margin, double quantile_window)
    : pool_(pool),
      fleet_(fleet),
      timeout_(request_timeout),
      margin_(ambiguity_margin),
      window_(quantile_window),
      ledgers_(fleet.size()) {}

int GroundTruth::Label(const std::string& name) {
  auto it = label_index_.find(name);
  if (it != label_index_.end()) return it->second;
  int id = static_cast<int>(labels_.size());
  labels_.emplace_back();
  labels_.back().name = name;
  // `_page` stands for "this device gets page replies" (contract §6): its
  // backend is `page` from its first request on, as tkmprom counts it.
  if (name == "_page") labels_.back().backend = kPageBackend;
  label_index_.emplace(name, id);
  return id;
}

void GroundTruth::MarkAmbiguous(uint32_t id, int reason) {
  if (id == kNoRequest) return;
  Request& r = requests_[id];
  if (r.ambiguous) return;
  r.ambiguous = true;
  ambiguous_by_reason_[reason]++;
  labels_[r.label].ambiguous++;
}

void GroundTruth::Prune(DeviceLedger& led, double now) {
  while (!led.recent.empty() && led.recent.front().time < now - 2 * timeout_) {
    led.recent.pop_front();
  }
}

void GroundTruth::AdvanceTo(double now) {
  last_time_ = std::max(last_time_, now);
  while (!deadlines_.empty() && deadlines_.top().first < now) {
    auto [deadline, id] = deadlines_.top();
    deadlines_.pop();
    Request& r = requests_[id];
    if (r.state != State::kPending) continue;
    r.state = State::kTimedOut;
    labels_[r.label].timeouts++;
    DeviceLedger& led = ledgers_[r.device];
    led.pending.erase(std::find(led.pending.begin(), led.pending.end(), id));
    led.recent.push_back({id, deadline, true});
    --pending_count_;
  }
}

uint32_t GroundTruth::OnRequest(int device, const std::string& key, double now) {
  AdvanceTo(now);
  DeviceLedger& led = ledgers_[device];
  Prune(led, now);
  std::string name = key;
  if (name.empty()) name = led.learned_label >= 0 ? labels_[led.learned_label].name : "unknown";
  uint32_t id = static_cast<uint32_t>(requests_.size());
  Request req;
  req.device = device;
  req.label = Label(name);
  req.backend = labels_[req.label].backend;
  req.time = now;
  req.key = key;
  // The broker may have seen this request before the answer that taught the
  // device its label: it would count under the label before.
  const bool label_race = key.empty() && led.learned_at > now - margin_;
  if (label_race) {
    int before = led.label_before_learning >= 0 ? led.label_before_learning : Label("unknown");
    if (before != req.label) req.alt_label = before;
  }
  requests_.push_back(std::move(req));
  labels_[requests_[id].label].requests++;
  if (label_race) MarkAmbiguous(id, 1);

  for (auto it = led.pending.begin(); it != led.pending.end(); ++it) {
    Request& old = requests_[*it];
    if (old.key != key) continue;
    old.state = State::kSuperseded;
    labels_[old.label].superseded++;
    requests_[id].superseded_at = now;
    requests_[id].replaced = *it;
    if (now - old.time > timeout_ - margin_) {
      MarkAmbiguous(*it, 2);
      MarkAmbiguous(id, 2);
    }
    led.pending.erase(it);
    --pending_count_;
    break;
  }
  // An answer or a timeout of the same key just before this request could
  // have been seen after it by the broker.
  for (const Recent& r : led.recent) {
    if (r.time > now - margin_ && requests_[r.request].key == key) {
      MarkAmbiguous(r.request, 3);
      MarkAmbiguous(id, 3);
    }
  }
  led.pending.push_back(id);
  ++pending_count_;
  deadlines_.push({now + timeout_, id});
  return id;
}

uint32_t GroundTruth::MatchKeys(const std::vector<uint32_t>& ids, const ReplyInfo& reply) const {
  auto find = [&](auto pred) -> uint32_t {
    for (uint32_t id : ids) {
      if (pred(requests_[id].key)) return id;
    }
    return kNoRequest;
  };
  switch (reply.category) {
    case ReplyCategory::kNoSymbolAnswer:
    case ReplyCategory::kNewAnswer:
    case ReplyCategory::kPageAnswer:
    case ReplyCategory::kPageError:
      return find([](const std::string& k) { return k.empty(); });
    case ReplyCategory::kError: {
      uint32_t id = find([](const std::string& k) { return k.empty(); });
      return id != kNoRequest || ids.empty() ? id : ids.front();
    }
    case ReplyCategory::kPlaylistUpdate: {
      // Contract §5; "equal", "equal once stripped" and "starts with" blind
      // to ASCII case (§7.4). The entry at symbolIndex names the request by
      // position (the device requested exactly that entry), so it is
      // compared as sent: a device can have `AMZN` and `amzn` pending.
      if (reply.playlist && reply.symbol_index >= 0 &&
          reply.symbol_index < static_cast<int>(reply.playlist->size())) {
        const std::string& name = (*reply.playlist)[reply.symbol_index].name;
        uint32_t id = find([&](const std::string& k) { return k == name; });
        if (id != kNoRequest) return id;
      }
      const std::string& s = reply.symbol;
      if (s.empty()) return kNoRequest;
      uint32_t id =
          find([&](const std::string& k) { return !k.empty() && EqualsIgnoreCase(k, s); });
      if (id == kNoRequest) {
        id = find(
            [&](const std::string& k) { return !k.empty() && EqualsStrippedIgnoreCase(k, s); });
      }
      if (id == kNoRequest) {
        id = find([&](const std::string& k) { return !k.empty() && StartsWithIgnoreCase(k, s); });
      }
      return id;
    }
    case ReplyCategory::kLifecycle:
      break;
  }
  return kNoRequest;
}

uint32_t GroundTruth::FindPending(const DeviceLedger& led, const ReplyInfo& reply) const {
  return MatchKeys(led.pending, reply);
}

uint32_t GroundTruth::FindRecent(const DeviceLedger& led, const ReplyInfo& reply, bool timed_out,
                                 double now, double horizon) const {
  if (horizon < 0) horizon = timeout_;
  std::vector<uint32_t> ids;
  for (const Recent& r : led.recent) {
    if (r.timed_out == timed_out && r.time >= now - horizon) ids.push_back(r.request);
  }
  std::sort(ids.begin(), ids.end());  // oldest request first
  return MatchKeys(ids, reply);
}

void GroundTruth::Resolve(uint32_t id, bool error, const ReplyInfo& reply, double now) {
  Request& r = requests_[id];
  DeviceLedger& led = ledgers_[r.device];
  LabelStats& st = labels_[r.label];
  r.state = error ? State::kErrored : State::kAnswered;
  led.pending.erase(std::find(led.pending.begin(), led.pending.end(), id));
  --pending_count_;
  if (error) {
    st.errors++;
  } else {
    st.responses++;
    ++responses_;
    r.answered_at = now;
    st.latency.push_back(now - r.time);
    st.answered_at.push_back(now);
    st.injected_latency.push_back(reply.injected_latency);
  }
  // The backend the answer names, if any (contract §7.5): its label
  // remembers it for the requests counted from now on. The `unknown` label
  // stands for "no symbol known yet" (§5), not for a symbol: it has no
  // backend to remember, or it would take on whichever backend answered some
  // device's first request last.
  int named = -1;
  if (reply.category == ReplyCategory::kPageAnswer || reply.category == ReplyCategory::kPageError) {
    named = kPageBackend;
  } else if (reply.symbol_type != 0) {
    named = reply.symbol_type >= 1 && reply.symbol_type <= kMaxSymbolType ? reply.symbol_type : 0;
  }
  if (named >= 0 && st.name != "unknown") {
    st.backend = named;
    st.backend_events.push_back({now, id, named});
  }
  if (now - r.time > timeout_ - margin_) MarkAmbiguous(id, 0);
  if (r.superseded_at >= 0 && now - r.superseded_at < margin_) {
    MarkAmbiguous(id, 3);
    MarkAmbiguous(r.replaced, 3);
  }
  led.recent.push_back({id, now, false});
  if (!error && r.key.empty()) {
    // Contract §5: the page label, a playlist device's entry 0 (not the
    // display symbol of the answer, which best/worst cycle modes and crypto
    // pairs change), else the answer's symbol.
    bool page = reply.category == ReplyCategory::kPageAnswer;
    std::string learned = page ? "_page" : reply.symbol;
    if (!page && reply.playlist && !reply.playlist->empty()) {
      learned = (*reply.playlist)[0].name;
    }
    if (!learned.empty()) {
      led.label_before_learning = led.learned_label;
      led.learned_label = Label(learned);
      led.learned_at = now;
    }
  }
}

void GroundTruth::OnDeviceMessage(int device, const ReplyInfo& reply, double now) {
  AdvanceTo(now);
  DeviceLedger& led = ledgers_[device];
  Prune(led, now);
  led.heard_since_announce = true;
  if (reply.category == ReplyCategory::kLifecycle) {
    ++lifecycle_;
    return;
  }
  bool error =
      reply.category == ReplyCategory::kError || reply.category == ReplyCategory::kPageError;
  uint32_t id = FindPending(led, reply);
  if (id != kNoRequest) {
    Resolve(id, error, reply, now);
    return;
  }
  // Within the margin of the request_timeout horizon the broker may have
  // seen the answer on the other side of it (late or duplicate vs the next
  // reason): counted as ambiguous.
  const double inner = timeout_ - margin_;
  const double outer = timeout_ + margin_;
  id = FindRecent(led, reply, true, now);
  if (id != kNoRequest) {
    Request& r = requests_[id];
    ++unmatched_late_;
    if (FindRecent(led, reply, true, now, inner) != id) ++unmatched_ambiguous_;
    labels_[r.label].late_replies++;
    if (!r.late) {
      r.late = true;
      labels_[r.label].late++;
    }
    if (now - (r.time + timeout_) < margin_) MarkAmbiguous(id, 4);
    return;
  }
  id = FindRecent(led, reply, false, now);
  if (id != kNoRequest) {
    ++unmatched_duplicate_;
    if (FindRecent(led, reply, false, now, inner) != id ||
        FindRecent(led, reply, true, now, outer) != kNoRequest) {
      ++unmatched_ambiguous_;
    }
    labels_[requests_[id].label].duplicate_replies++;
    return;
  }
  ++unmatched_unsolicited_;
  if (FindRecent(led, reply, true, now, outer) != kNoRequest ||
      FindRecent(led, reply, false, now, outer) != kNoRequest) {
    ++unmatched_ambiguous_;
  }
}

void GroundTruth::OnNoReplyInjected(uint32_t id) {
  labels_[requests_[id].label].no_reply_injected++;
}
void GroundTruth::OnLateInjected(uint32_t id) { labels_[requests_[id].label].late_injected++; }
void GroundTruth::OnDuplicateSent(uint32_t id) { labels_[requests_[id].label].duplicates_sent++; }
void GroundTruth::OnReplyCancelled(uint32_t id) { labels_[requests_[id].label].cancelled++; }

void GroundTruth::OnRealBoot(int device) {
  ++real_boots_;
  boots_by_firmware_[fleet_[device].firmware]++;
}

void GroundTruth::OnBootAnnouncement(int device, bool resend, double now) {
  DeviceLedger& led = ledgers_[device];
  ++announcements_;
  if (resend) ++resends_;
  if (!(now - led.last_boot_announce < 60 && !led.heard_since_announce)) ++contract_boots_;
  led.last_boot_announce = now;
  led.heard_since_announce = false;
  led.announced_since_heartbeat = true;
}

void GroundTruth::OnHeartbeat(int device, uint32_t uptime, double now) {
  (void)now;
  DeviceLedger& led = ledgers_[device];
  if (led.has_uptime && uptime < led.last_uptime) {
    if (led.last_uptime > 4294000) {
      ++uptime_wraps_;
    } else if (!led.announced_since_heartbeat) {
      ++heartbeat_rule_boots_;
    }
  }
  led.has_uptime = true;
  led.last_uptime = uptime;
  led.announced_since_heartbeat = false;
}

void GroundTruth::ToJson(nlohmann::json* out) const {
  nlohmann::json& j = *out;
  nlohmann::json totals = nlohmann::json::object();
  uint64_t all = 0;
  for (int k = 0; k < kKindCount; ++k) {
    totals[KindName(static_cast<Kind>(k))] = totals_[k];
    all += totals_[k];
  }
  j["totals"] = totals;
  j["totals_all"] = all;

  std::vector<uint64_t> pending(labels_.size(), 0);
  for (const Request& r : requests_) {
    if (r.state == State::kPending) pending[r.label]++;
  }
  uint64_t sum[13] = {};
  std::vector<double> all_latency, all_injected;
  nlohmann::json symbols = nlohmann::json::object();
  std::vector<int> order(labels_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::sort(order.begin(), order.end(),
            [&](int a, int b) { return labels_[a].name < labels_[b].name; });
  for (int i : order) {
    const LabelStats& s = labels_[i];
    nlohmann::json e;
    e["requests"] = s.requests;
    e["responses"] = s.responses;
    e["errors"] = s.errors;
    e["timeouts"] = s.timeouts;
    e["unanswered"] = s.timeouts - s.late;
    e["late"] = s.late;
    e["superseded"] = s.superseded;
    e["pending"] = pending[i];
    e["ambiguous"] = s.ambiguous;
    e["late_replies"] = s.late_replies;
    e["duplicate_replies"] = s.duplicate_replies;
    e["injected"] = {{"no_reply", s.no_reply_injected},
                     {"late", s.late_injected},
                     {"duplicates_sent", s.duplicates_sent},
                     {"cancelled_replies", s.cancelled}};
    e["latency"] = Distribution(s.latency, true, /*with_values=*/true);
    std::vector<double> windowed;
    for (size_t k = 0; k < s.latency.size(); ++k) {
      if (s.answered_at[k] >= last_time_ - window_) windowed.push_back(s.latency[k]);
    }
    e["window"] = Distribution(std::move(windowed), false);
    e["injected_latency"] = Distribution(s.injected_latency, false);
    e["backend"] = BackendIdName(s.backend);
    symbols[s.name] = e;
    uint64_t v[13] = {s.requests,     s.responses,         s.errors,
                      s.timeouts,     s.timeouts - s.late, s.late,
                      s.superseded,   pending[i],          s.ambiguous,
                      s.late_replies, s.duplicate_replies, s.duplicates_sent,
                      s.cancelled};
    for (int k = 0; k < 13; ++k) sum[k] += v[k];
    all_latency.insert(all_latency.end(), s.latency.begin(), s.latency.end());
    all_injected.insert(all_injected.end(), s.injected_latency.begin(), s.injected_latency.end());
  }
  j["requests"] = {{"total", sum[0]},
                   {"responses", sum[1]},
                   {"errors", sum[2]},
                   {"timeouts", sum[3]},
                   {"unanswered", sum[4]},
                   {"late", sum[5]},
                   {"superseded", sum[6]},
                   {"pending", sum[7]},
                   {"ambiguous", sum[8]},
                   {"late_replies", sum[9]},
                   {"duplicate_replies", sum[10]},
                   {"duplicates_sent", sum[11]},
                   {"cancelled_replies", sum[12]},
                   {"labels", labels_.size()}};
  j["unmatched"] = {{"late", unmatched_late_},
                    {"duplicate", unmatched_duplicate_},
                    {"unsolicited", unmatched_unsolicited_}};
  j["unmatched_ambiguous"] = unmatched_ambiguous_;
  j["lifecycle_messages"] = lifecycle_;
  nlohmann::json reasons = nlohmann::json::object();
  for (int k = 0; k < 5; ++k) reasons[kAmbiguityReasons[k]] = ambiguous_by_reason_[k];
  j["ambiguous_by_reason"] = reasons;
  nlohmann::json lat = Distribution(all_latency, true);
  lat["histogram"] = FineHistogram(all_latency);
  nlohmann::json inj = Distribution(all_injected, false);
  inj["histogram"] = FineHistogram(all_injected);
  j["latency"] = lat;
  j["injected_latency"] = inj;
  j["symbols"] = symbols;
  j["quantile_window_seconds"] = window_;
  j["backends"] = BackendsJson();
  j["boots"] = {{"real", real_boots_},
                {"announcements", announcements_},
                {"resends", resends_},
                {"contract_announcement_rule", contract_boots_},
                {"contract_uptime_rule", heartbeat_rule_boots_},
                {"uptime_wraps", uptime_wraps_},
                {"by_firmware", boots_by_firmware_}};
}

uint32_t GroundTruth::PossibleBackends(int label, double time, uint32_t self) const {
  // An event and the request may be seen in either order when closer than
  // the margin. The broker's backend at the request is that of the last event
  // it saw before it: one certainly before (or, among those, any within the
  // margin of the last of them), or one in either order; `unknown` when no
  // event is certainly before.
  const std::vector<BackendEvent>& ev = labels_[label].backend_events;
  auto before = [](double t, const BackendEvent& e) { return t < e.time; };
  auto after = [](const BackendEvent& e, double t) { return e.time < t; };
  auto certain_end = std::upper_bound(ev.begin(), ev.end(), time - margin_, before);
  uint32_t mask = 0;
  auto lo = ev.begin();
  if (certain_end == ev.begin()) {
    mask |= 1u;  // unknown
  } else {
    lo = std::lower_bound(ev.begin(), certain_end, (certain_end - 1)->time - margin_, after);
  }
  auto hi = std::lower_bound(ev.begin(), ev.end(), time + margin_, after);
  for (auto it = lo; it < hi; ++it) {
    if (it->request != self) mask |= 1u << it->backend;
  }
  return mask;
}

nlohmann::json GroundTruth::BackendsJson() const {
  struct Ledger {
    uint64_t requests = 0, responses = 0, errors = 0, timeouts = 0, superseded = 0, pending = 0;
    uint64_t ambiguous = 0, backend_undecided = 0;
    std::vector<double> latency;
  };
  std::vector<Ledger> ledgers(kBackendCount);
  for (uint32_t id = 0; id < requests_.size(); ++id) {
    const Request& r = requests_[id];
    Ledger& l = ledgers[r.backend];
    l.requests++;
    switch (r.state) {
      case State::kPending:
        l.pending++;
        break;
      case State::kAnswered:
        l.responses++;
        l.latency.push_back(r.answered_at - r.time);
        break;
      case State::kErrored:
        l.errors++;
        break;
      case State::kTimedOut:
        l.timeouts++;
        break;
      case State::kSuperseded:
        l.superseded++;
        break;
    }
    const uint32_t own = 1u << r.backend;
    uint32_t possible = own | PossibleBackends(r.label, r.time, id);
    if (r.alt_label >= 0) possible |= PossibleBackends(r.alt_label, r.time, id);
    if (possible == own && !r.ambiguous) continue;
    for (int k = 0; k < kBackendCount; ++k) {
      if (!(possible >> k & 1)) continue;
      ledgers[k].ambiguous++;
      if (possible != own) ledgers[k].backend_undecided++;
    }
  }
  nlohmann::json out = nlohmann::json::object();
  for (int k = 0; k < kBackendCount; ++k) {
    Ledger& l = ledgers[k];
    if (l.requests == 0 && l.ambiguous == 0) continue;
    nlohmann::json e;
    e["requests"] = l.requests;
    e["responses"] = l.responses;
    e["errors"] = l.errors;
    e["timeouts"] = l.timeouts;
    e["superseded"] = l.superseded;
    e["pending"] = l.pending;
    e["ambiguous"] = l.ambiguous;
    e["backend_undecided"] = l.backend_undecided;
    e["latency"] = Distribution(std::move(l.latency), true);
    out[BackendIdName(k)] = e;
  }
  return out;
}

}  // namespace fleetsim
