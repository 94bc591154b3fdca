#include "src/http/auth_throttle.h"

#include <algorithm>

namespace tkmprom {
namespace {

constexpr int64_t kSecond = 1000000000;

AuthThrottleOptions Clamped(AuthThrottleOptions o) {
  o.slots = std::max(o.slots, 1u);
  o.failure_limit = std::max(o.failure_limit, 1u);
  // A record holding a slot is never replaced, so there must always be
  // room for one more than the slots.
  o.capacity = std::max(o.capacity, static_cast<size_t>(o.slots) + 1);
  return o;
}

}  // namespace

AuthThrottle::AuthThrottle(const AuthThrottleOptions& options) : options_(Clamped(options)) {
  MutexLock lock(&mu_);
  records_.reserve(options_.capacity);
}

void AuthThrottle::Expire(Record* r, int64_t now_ns) const {
  if (r->failures > 0 && now_ns - r->window_start_ns >= options_.failure_window_ns) {
    r->failures = 0;
  }
}

bool AuthThrottle::IsLockedOut(const Record& r, int64_t now_ns, int* retry_after_s) const {
  if (r.failures < options_.failure_limit) return false;
  const int64_t left_ns = r.window_start_ns + options_.failure_window_ns - now_ns;
  if (left_ns <= 0) return false;
  if (retry_after_s != nullptr) {
    *retry_after_s = static_cast<int>(std::max<int64_t>(1, (left_ns + kSecond - 1) / kSecond));
  }
  return true;
}

void AuthThrottle::CountFailure(Record* r, int64_t now_ns) const {
  Expire(r, now_ns);
  if (r->failures == 0) r->window_start_ns = now_ns;
  ++r->failures;
}

AuthThrottle::Record* AuthThrottle::FindOrInsert(const ClientAddress& client, int64_t now_ns) {
  auto it = records_.find(client);
  if (it != records_.end()) return &it->second;
  if (records_.size() >= options_.capacity) {
    auto victim = records_.end();
    bool victim_locked = true;
    for (auto r = records_.begin(); r != records_.end(); ++r) {
      if (r->second.running) continue;
      Expire(&r->second, now_ns);
      const bool locked = IsLockedOut(r->second, now_ns, nullptr);
      // Unlocked before locked, then the least recently seen.
      if (victim == records_.end() || (victim_locked && !locked) ||
          (victim_locked == locked && r->second.last_seen_ns < victim->second.last_seen_ns)) {
        victim = r;
        victim_locked = locked;
      }
    }
    // Capacity exceeds the slots (Clamped), so some record holds none.
    if (victim->second.failures > 0) dropped_.fetch_add(1, std::memory_order_relaxed);
    records_.erase(victim);
  }
  return &records_.emplace(client, Record{}).first->second;
}

void AuthThrottle::EraseIfIdle(const ClientAddress& client) {
  auto it = records_.find(client);
  if (it != records_.end() && !it->second.running && it->second.failures == 0) {
    records_.erase(it);
  }
}

bool AuthThrottle::LockedOut(const ClientAddress& client, int64_t now_ns, int* retry_after_s) {
  MutexLock lock(&mu_);
  auto it = records_.find(client);
  if (it == records_.end()) return false;
  Record& r = it->second;
  r.last_seen_ns = now_ns;
  Expire(&r, now_ns);
  if (IsLockedOut(r, now_ns, retry_after_s)) return true;
  EraseIfIdle(client);
  return false;
}

AuthThrottle::Admission AuthThrottle::Begin(const ClientAddress& client, int64_t now_ns,
                                            int* retry_after_s) {
  MutexLock lock(&mu_);
  Record* r = FindOrInsert(client, now_ns);
  r->last_seen_ns = now_ns;
  Expire(r, now_ns);
  if (IsLockedOut(*r, now_ns, retry_after_s)) return Admission::kLockedOut;
  if (r->running) {
    CountFailure(r, now_ns);
    if (IsLockedOut(*r, now_ns, retry_after_s)) return Admission::kLockedOut;
    if (retry_after_s != nullptr) *retry_after_s = 1;
    return Admission::kAddressBusy;
  }
  if (running_ >= options_.slots) {
    EraseIfIdle(client);
    if (retry_after_s != nullptr) *retry_after_s = 1;
    return Admission::kAllBusy;
  }
  r->running = true;
  ++running_;
  return Admission::kAdmitted;
}

void AuthThrottle::End(const ClientAddress& client, bool failed, int64_t now_ns) {
  MutexLock lock(&mu_);
  if (running_ > 0) --running_;
  auto it = records_.find(client);
  if (it == records_.end()) return;  // cannot happen: a running record is never replaced
  Record& r = it->second;
  r.running = false;
  r.last_seen_ns = now_ns;
  if (failed) CountFailure(&r, now_ns);
  EraseIfIdle(client);
}

size_t AuthThrottle::addresses() const {
  MutexLock lock(&mu_);
  return records_.size();
}

}  // namespace tkmprom
