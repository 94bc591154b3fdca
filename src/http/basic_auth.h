// BasicAuth: decides whether HTTP basic credentials match the users of
// plugin_opt_http_auth_file, cheaply enough to sit in front of every scrape.
//
// bcrypt is slow by design (50-100 ms per check at cost 10), so:
// - A successful check is cached, keyed by SHA-256 of a per-process random
//   salt, the user and the password (the password itself is not kept), for
//   at most `capacity` credentials, each forgotten `ttl` after its last use.
//   Only successes are cached: a wrong password always pays for bcrypt.
// - At most one bcrypt check runs at a time. A check that would start a
//   second one answers kBusy at once (the server answers 503 with
//   Retry-After), so a flood of guesses occupies at most one of
//   libmicrohttpd's threads and cached credentials keep being served.
// - An unknown user is checked against a dummy bcrypt hash of the file's
//   usual cost, so the time taken does not tell which users exist. Hashes
//   and cache digests are compared in constant time.
//
// Thread safety: Check() may be called from any number of threads at once.
// The cache is guarded by a mutex held only to look up or insert, never
// during bcrypt; a second mutex admits one bcrypt check at a time.
#ifndef TKMPROM_SRC_HTTP_BASIC_AUTH_H_
#define TKMPROM_SRC_HTTP_BASIC_AUTH_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "src/common/mutex.h"
#include "src/common/thread_annotations.h"
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
  // Replaceable in tests. Defaults: BcryptVerify, std::chrono::steady_clock.
  std::function<bool(const std::string& password, const std::string& hash)> verifier;
  std::function<int64_t()> clock_ns;
};

class BasicAuth {
 public:
  enum class Result { kAllowed, kDenied, kBusy };

  // `users` as ParseHtpasswd returns them (non-empty, bcrypt hashes).
  explicit BasicAuth(const std::vector<HtpasswdEntry>& users,
                     BasicAuthOptions options = BasicAuthOptions());

  BasicAuth(const BasicAuth&) = delete;
  BasicAuth& operator=(const BasicAuth&) = delete;

  Result Check(std::string_view user, std::string_view password);

  // bcrypt checks run so far, cached answers excluded. Any thread.
  uint64_t bcrypt_checks() const { return bcrypt_checks_.load(std::memory_order_relaxed); }

  // The hash unknown users are checked against (tests).
  const std::string& dummy_hash() const { return dummy_hash_; }

 private:
  using Digest = std::array<unsigned char, 32>;

  struct CacheEntry {
    Digest digest;
    int64_t expires_ns;
  };

  Digest CacheKey(std::string_view user, std::string_view password) const;
  bool CacheHit(const Digest& key, int64_t now_ns);
  void CacheInsert(const Digest& key, int64_t now_ns);

  const std::map<std::string, std::string, std::less<>> hashes_;  // user -> bcrypt hash
  const std::string dummy_hash_;
  const BasicAuthOptions options_;
  std::array<unsigned char, 16> salt_;

  Mutex cache_mu_;
  std::vector<CacheEntry> cache_ GUARDED_BY(cache_mu_);  // at most cache_capacity

  // A gate, guarding no data: held (try_lock) while one bcrypt check runs.
  std::mutex bcrypt_mu_;
  std::atomic<uint64_t> bcrypt_checks_{0};
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_BASIC_AUTH_H_
