// BasicAuth: decides whether HTTP basic credentials match the users of
// plugin_opt_http_auth_file, cheaply enough to sit in front of every scrape,
// and fairly enough that a flood of guesses from one address does not keep
// the right password from another address out.
//
// bcrypt is slow by design (50-100 ms per check at cost 10), so:
// - A successful check is cached, keyed by SHA-256 of a per-process random
//   salt, the user and the password (the password itself is not kept), for
//   at most `capacity` credentials, each forgotten `ttl` after its last use.
//   Only successes are cached: a wrong password always pays for bcrypt.
// - bcrypt work is shared between client addresses by an AuthThrottle
//   (auth_throttle.h): a few checks at once, at most one per address, and an
//   address whose checks keep failing is locked out for a while (kThrottled,
//   which the server answers 429 with Retry-After). A check that finds every
//   slot taken by other addresses answers kBusy at once (503 with
//   Retry-After), so guesses never hold more of libmicrohttpd's threads
//   than there are slots, and cached credentials keep being served.
// - A locked-out address is refused before the cache is consulted, so it
//   cannot probe the cache for free either.
// - An unknown user is checked against a dummy bcrypt hash of the file's
//   usual cost, so the time taken does not tell which users exist. Hashes
//   and cache digests are compared in constant time.
//
// Thread safety: Check() may be called from any number of threads at once.
// The cache is guarded by a mutex held only to look up or insert, never
// during bcrypt; the throttle has its own, never held during bcrypt either.
#ifndef TKMPROM_SRC_HTTP_BASIC_AUTH_H_
#define TKMPROM_SRC_HTTP_BASIC_AUTH_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/mutex.h"
#include "src/common/thread_annotations.h"
#include "src/http/auth_throttle.h"
#include "src/http/client_address.h"
#include "src/http/htpasswd.h"

namespace tkmprom {

// True when `password` hashes to `hash` (bcrypt, via libcrypt's crypt_rn);
// the result is compared in constant time.
bool BcryptVerify(const std::string& password, const std::string& hash);

// Compares two byte strings in time that depends on their length only.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

struct BasicAuthOptions {
  int64_t cache_ttl_ns = int64_t{300} * 1000000000;
  size_t cache_capacity = 64;
  // Concurrent checks, per-address lockout, the table of addresses.
  AuthThrottleOptions throttle;
  // Replaceable in tests. Defaults: BcryptVerify, std::chrono::steady_clock.
  std::function<bool(const std::string& password, const std::string& hash)> verifier;
  std::function<int64_t()> clock_ns;
};

class BasicAuth {
 public:
  // kBusy: every bcrypt slot is taken by other addresses; kThrottled: this
  // address is locked out, or already has a check running.
  enum class Result { kAllowed, kDenied, kBusy, kThrottled };

  // `users` as ParseHtpasswd returns them (non-empty, bcrypt hashes).
  explicit BasicAuth(const std::vector<HtpasswdEntry>& users,
                     BasicAuthOptions options = BasicAuthOptions());

  BasicAuth(const BasicAuth&) = delete;
  BasicAuth& operator=(const BasicAuth&) = delete;

  // The verdict on credentials sent from `client`. With kBusy and
  // kThrottled, *retry_after_s (if given) is set to the seconds to wait.
  Result Check(const ClientAddress& client, std::string_view user, std::string_view password,
               int* retry_after_s = nullptr);

  // bcrypt checks run so far, cached answers excluded. Any thread.
  uint64_t bcrypt_checks() const { return bcrypt_checks_.load(std::memory_order_relaxed); }

  // The hash unknown users are checked against (tests).
  const std::string& dummy_hash() const { return dummy_hash_; }

  // The per-address bookkeeping, for its counters. Any thread.
  const AuthThrottle& throttle() const { return throttle_; }

 private:
  using Digest = std::array<unsigned char, 32>;

  struct CacheEntry {
    Digest digest;
    int64_t expires_ns;
  };

  int64_t Now() const;
  Digest CacheKey(std::string_view user, std::string_view password) const;
  bool CacheHit(const Digest& key, int64_t now_ns);
  void CacheInsert(const Digest& key, int64_t now_ns);

  const std::map<std::string, std::string, std::less<>> hashes_;  // user -> bcrypt hash
  const std::string dummy_hash_;
  const BasicAuthOptions options_;
  std::array<unsigned char, 16> salt_;

  Mutex cache_mu_;
  std::vector<CacheEntry> cache_ GUARDED_BY(cache_mu_);  // at most cache_capacity

  AuthThrottle throttle_;
  std::atomic<uint64_t> bcrypt_checks_{0};
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_BASIC_AUTH_H_
