// AuthThrottle: shares BasicAuth's bcrypt work fairly between client
// addresses (client_address.h), so that a flood of wrong passwords from one
// address cannot keep a right password from another address out.
//
// - At most `slots` bcrypt checks run at once (the machine's cores), and at
//   most one of them for any one address. A check that finds its address's
//   slot taken is refused (kAddressBusy); one that finds every slot taken by
//   other addresses is refused too (kAllBusy). Neither waits: waiting would
//   hold one of libmicrohttpd's few threads.
// - An address whose checks failed `failure_limit` times within
//   `failure_window_ns` of its first failure is locked out (kLockedOut) until
//   that window ends. Failures are wrong passwords, unknown users, and
//   checks refused because the address already had one running: a
//   well-behaved client sends one uncached check at a time, so parallel
//   tries are guesses too (and would otherwise probe BasicAuth's credential
//   cache for free while the first one runs).
// - The table of addresses is bounded: it keeps only addresses with a check
//   running or failures in their window, at most `capacity` of them. When
//   full, a new address replaces the least recently seen address that is
//   not locked out (a locked-out one only when every address is), and
//   `addresses_dropped()` counts every replaced address that still had
//   failures to remember.
//
// Thread safety: every method may be called from any thread; one mutex,
// never held during bcrypt, guards the table. Times are nanoseconds of one
// monotonic clock, passed in by the caller.
#ifndef TKMPROM_SRC_HTTP_AUTH_THROTTLE_H_
#define TKMPROM_SRC_HTTP_AUTH_THROTTLE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "src/common/mutex.h"
#include "src/common/thread_annotations.h"
#include "src/http/client_address.h"

namespace tkmprom {

struct AuthThrottleOptions {
  unsigned slots = 2;
  unsigned failure_limit = 5;
  int64_t failure_window_ns = int64_t{60} * 1000000000;
  size_t capacity = 1024;
};

class AuthThrottle {
 public:
  enum class Admission { kAdmitted, kLockedOut, kAddressBusy, kAllBusy };

  explicit AuthThrottle(const AuthThrottleOptions& options = AuthThrottleOptions());

  AuthThrottle(const AuthThrottle&) = delete;
  AuthThrottle& operator=(const AuthThrottle&) = delete;

  // Whether `client` is locked out now; if so, *retry_after_s is set to the
  // whole seconds (at least 1) until it no longer is.
  bool LockedOut(const ClientAddress& client, int64_t now_ns, int* retry_after_s) EXCLUDES(mu_);

  // Asks for a bcrypt check for `client`. kAdmitted: a slot is held, and
  // the caller must call End() once the check is done. Otherwise nothing is
  // held and *retry_after_s says when to try again.
  Admission Begin(const ClientAddress& client, int64_t now_ns, int* retry_after_s) EXCLUDES(mu_);

  // Frees the slot Begin() admitted; `failed`: the credentials were wrong.
  void End(const ClientAddress& client, bool failed, int64_t now_ns) EXCLUDES(mu_);

  // Addresses in the table now (tests).
  size_t addresses() const EXCLUDES(mu_);
  // Addresses with failures in their window replaced because the table was
  // full. Any thread.
  uint64_t addresses_dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct Record {
    unsigned failures = 0;
    int64_t window_start_ns = 0;  // of the first failure counted
    int64_t last_seen_ns = 0;
    bool running = false;  // a check of this address holds a slot
  };

  // The window ended: forget the failures.
  void Expire(Record* r, int64_t now_ns) const;
  bool IsLockedOut(const Record& r, int64_t now_ns, int* retry_after_s) const;
  void CountFailure(Record* r, int64_t now_ns) const;
  // The address's record, made (replacing another if full) when absent.
  Record* FindOrInsert(const ClientAddress& client, int64_t now_ns) REQUIRES(mu_);
  // Erases the record if it holds nothing worth remembering.
  void EraseIfIdle(const ClientAddress& client) REQUIRES(mu_);

  const AuthThrottleOptions options_;
  mutable Mutex mu_;
  std::unordered_map<ClientAddress, Record, ClientAddress::Hash> records_ GUARDED_BY(mu_);
  unsigned running_ GUARDED_BY(mu_) = 0;  // slots held
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_AUTH_THROTTLE_H_
