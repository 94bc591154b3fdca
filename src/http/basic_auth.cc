#include "src/http/basic_auth.h"

#include <crypt.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

namespace tkmprom {
namespace {

// Salt and hash of a throw-away password; only the cost in front changes.
constexpr char kDummyTail[] = "hsQR4914vXLenCrrAgRTru3fyo.m/cQ.HXg6AvnKxde9APtm8p/62";

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::map<std::string, std::string, std::less<>> ByUser(const std::vector<HtpasswdEntry>& users) {
  std::map<std::string, std::string, std::less<>> m;
  for (const HtpasswdEntry& e : users) m.emplace(e.user, e.hash);
  return m;
}

// A hash of the cost most users have (the higher one on a tie), so that an
// unknown user costs what a typical known one does.
std::string DummyHash(const std::vector<HtpasswdEntry>& users) {
  std::map<int, int> counts;
  for (const HtpasswdEntry& e : users) ++counts[BcryptCost(e.hash)];
  int cost = 10;
  int best = 0;
  for (const auto& [c, n] : counts) {
    if (n >= best && c >= 4 && c <= 31) {
      cost = c;
      best = n;
    }
  }
  std::string hash = "$2y$";
  hash += static_cast<char>('0' + cost / 10);
  hash += static_cast<char>('0' + cost % 10);
  hash += '$';
  hash += kDummyTail;
  return hash;
}

}  // namespace

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  }
  // Keeps the compiler from turning the loop into an early-exit memcmp.
  volatile unsigned char result = diff;
  return result == 0;
}

bool BcryptVerify(const std::string& password, const std::string& hash) {
  // crypt_data is 32 KiB in libxcrypt: too big for libmicrohttpd's stacks.
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  const bool ok = out != nullptr && ConstantTimeEquals(out, hash);
  explicit_bzero(data.get(), sizeof(crypt_data));
  return ok;
}

BasicAuth::BasicAuth(const std::vector<HtpasswdEntry>& users, BasicAuthOptions options)
    : hashes_(ByUser(users)),
      dummy_hash_(DummyHash(users)),
      options_(std::move(options)),
      throttle_(options_.throttle) {
  if (gnutls_rnd(GNUTLS_RND_NONCE, salt_.data(), salt_.size()) != 0) {
    // Unpredictability only hardens the digests kept in memory; a fixed salt
    // would still be correct.
    salt_.fill(0x5a);
  }
}

BasicAuth::Digest BasicAuth::CacheKey(std::string_view user, std::string_view password) const {
  // The user cannot contain ':' or NUL, so salt | user | NUL | password is
  // unambiguous.
  std::string material(reinterpret_cast<const char*>(salt_.data()), salt_.size());
  material.append(user).push_back('\0');
  material.append(password);
  Digest digest{};
  gnutls_hash_fast(GNUTLS_DIG_SHA256, material.data(), material.size(), digest.data());
  explicit_bzero(material.data(), material.size());
  return digest;
}

bool BasicAuth::CacheHit(const Digest& key, int64_t now_ns) {
  const std::string_view wanted(reinterpret_cast<const char*>(key.data()), key.size());
  MutexLock lock(&cache_mu_);
  CacheEntry* found = nullptr;
  // Every entry is compared, hit or not, each in constant time.
  for (CacheEntry& e : cache_) {
    const bool live = e.expires_ns > now_ns;
    const bool same = ConstantTimeEquals(
        wanted, std::string_view(reinterpret_cast<const char*>(e.digest.data()), e.digest.size()));
    if (live && same) found = &e;
  }
  if (found == nullptr) return false;
  found->expires_ns = now_ns + options_.cache_ttl_ns;
  return true;
}

void BasicAuth::CacheInsert(const Digest& key, int64_t now_ns) {
  if (options_.cache_capacity == 0) return;
  MutexLock lock(&cache_mu_);
  const CacheEntry entry{key, now_ns + options_.cache_ttl_ns};
  for (CacheEntry& e : cache_) {
    if (e.digest == key) {
      e = entry;
      return;
    }
  }
  if (cache_.size() < options_.cache_capacity) {
    cache_.push_back(entry);
    return;
  }
  // Full: the entry closest to expiry is the least recently used one.
  auto victim = std::min_element(
      cache_.begin(), cache_.end(),
      [](const CacheEntry& a, const CacheEntry& b) { return a.expires_ns < b.expires_ns; });
  *victim = entry;
}

int64_t BasicAuth::Now() const { return options_.clock_ns ? options_.clock_ns() : SteadyNanos(); }

BasicAuth::Result BasicAuth::Check(const ClientAddress& client, std::string_view user,
                                   std::string_view password, int* retry_after_s) {
  const int64_t now = Now();
  if (throttle_.LockedOut(client, now, retry_after_s)) return Result::kThrottled;
  const Digest key = CacheKey(user, password);
  if (CacheHit(key, now)) return Result::kAllowed;

  switch (throttle_.Begin(client, now, retry_after_s)) {
    case AuthThrottle::Admission::kAdmitted:
      break;
    case AuthThrottle::Admission::kAllBusy:
      return Result::kBusy;
    case AuthThrottle::Admission::kLockedOut:
    case AuthThrottle::Admission::kAddressBusy:
      return Result::kThrottled;
  }
  auto it = hashes_.find(user);
  const bool known = it != hashes_.end();
  std::string secret(password);
  const std::string& hash = known ? it->second : dummy_hash_;
  bool matches = false;
  try {
    matches = options_.verifier ? options_.verifier(secret, hash) : BcryptVerify(secret, hash);
  } catch (...) {
    // The slot must be given back whatever happens.
    explicit_bzero(secret.data(), secret.size());
    throttle_.End(client, /*failed=*/true, Now());
    throw;
  }
  explicit_bzero(secret.data(), secret.size());
  bcrypt_checks_.fetch_add(1, std::memory_order_relaxed);
  const bool allowed = known && matches;
  throttle_.End(client, /*failed=*/!allowed, Now());

  if (!allowed) return Result::kDenied;
  CacheInsert(key, Now());
  return Result::kAllowed;
}

}  // namespace tkmprom
