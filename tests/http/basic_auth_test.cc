#include "src/http/basic_auth.h"

#include <crypt.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "src/http/htpasswd.h"

namespace tkmprom {
namespace {

// Test-only users and passwords (`htpasswd -nbB -C 4` and `-C 5`).
const HtpasswdEntry kAlice{"alice", "$2y$04$eQdr3Ft3vsobCQGS3RA4DeUXPWwbb0BKyYTdPUJdjsh3p/GisoPoy"};
const HtpasswdEntry kBob{"bob", "$2y$05$8Q/Mbh2VYAG87OamU.suM.lIVqhZl7mPaPFCsFp0/tGdGumJTz9ty"};
constexpr char kAlicePassword[] = "alice-test-only-pw";
constexpr char kBobPassword[] = "bob-test-only-pw";

constexpr int64_t kSecond = 1000000000;

const ClientAddress kHere = ClientAddress::FromText("192.0.2.1");
const ClientAddress kThere = ClientAddress::FromText("192.0.2.2");
const ClientAddress kElsewhere = ClientAddress::FromText("2001:db8::1");

TEST(BcryptVerifyTest, AcceptsTheRightPasswordOnly) {
  EXPECT_TRUE(BcryptVerify(kAlicePassword, kAlice.hash));
  EXPECT_FALSE(BcryptVerify("alice-test-only-pX", kAlice.hash));
  EXPECT_FALSE(BcryptVerify("", kAlice.hash));
  EXPECT_TRUE(BcryptVerify(kBobPassword, kBob.hash));
  EXPECT_FALSE(BcryptVerify(kAlicePassword, kBob.hash));
}

TEST(BcryptVerifyTest, TheSameHashUnderEveryPrefixVerifies) {
  // $2y$ (htpasswd) and $2b$ are the same algorithm.
  std::string b = kAlice.hash;
  b[2] = 'b';
  EXPECT_TRUE(BcryptVerify(kAlicePassword, b));
}

TEST(BcryptVerifyTest, GarbageHashNeverVerifies) {
  EXPECT_FALSE(BcryptVerify("x", ""));
  EXPECT_FALSE(BcryptVerify("x", "*0"));
  EXPECT_FALSE(BcryptVerify("x", "$2y$04$short"));
}

TEST(ConstantTimeEqualsTest, ComparesBytes) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(BasicAuthTest, RealBcryptAllowsRightCredentialsOnly) {
  BasicAuth auth({kAlice, kBob});
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.Check(kHere, "bob", kBobPassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.Check(kHere, "alice", kBobPassword), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check(kHere, "bob", kAlicePassword), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check(kHere, "mallory", kAlicePassword), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check(kHere, "", ""), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check(kHere, "Alice", kAlicePassword), BasicAuth::Result::kDenied);
}

// A verifier that records what it was asked and answers from a table.
struct FakeVerifier {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> calls;  // (password, hash)

  BasicAuthOptions Options(int64_t* now) {
    BasicAuthOptions o;
    o.cache_ttl_ns = 60 * kSecond;
    o.verifier = [this](const std::string& password, const std::string& hash) {
      std::lock_guard<std::mutex> lock(mu);
      calls.emplace_back(password, hash);
      return (hash == kAlice.hash && password == kAlicePassword) ||
             (hash == kBob.hash && password == kBobPassword);
    };
    o.clock_ns = [now] { return *now; };
    return o;
  }
};

TEST(BasicAuthTest, SuccessIsCachedAndFailureIsNot) {
  int64_t now = 1000 * kSecond;
  FakeVerifier fake;
  BasicAuth auth({kAlice, kBob}, fake.Options(&now));
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.bcrypt_checks(), 1u);
  // A cached success is no shortcut for another password or another user.
  EXPECT_EQ(auth.Check(kHere, "alice", "guess"), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check(kHere, "alice", "guess"), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check(kHere, "bob", kAlicePassword), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.bcrypt_checks(), 4u);
  EXPECT_EQ(auth.Check(kHere, "bob", kBobPassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.Check(kHere, "bob", kBobPassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.bcrypt_checks(), 5u);
}

TEST(BasicAuthTest, CachedSuccessExpiresAfterTheTtlWithoutUse) {
  int64_t now = 1000 * kSecond;
  FakeVerifier fake;
  BasicAuth auth({kAlice}, fake.Options(&now));
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);
  // Used every 50 s (inside the 60 s TTL): stays cached.
  for (int i = 0; i < 5; ++i) {
    now += 50 * kSecond;
    EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);
  }
  EXPECT_EQ(auth.bcrypt_checks(), 1u);
  now += 61 * kSecond;
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.bcrypt_checks(), 2u);
}

TEST(BasicAuthTest, CacheIsBoundedAndEvictsTheLeastRecentlyUsed) {
  int64_t now = 1000 * kSecond;
  FakeVerifier fake;
  BasicAuthOptions options = fake.Options(&now);
  options.cache_capacity = 1;
  BasicAuth auth({kAlice, kBob}, options);
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);
  now += kSecond;
  EXPECT_EQ(auth.Check(kHere, "bob", kBobPassword), BasicAuth::Result::kAllowed);  // evicts alice
  now += kSecond;
  EXPECT_EQ(auth.Check(kHere, "bob", kBobPassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.bcrypt_checks(), 2u);
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.bcrypt_checks(), 3u);
}

TEST(BasicAuthTest, UnknownUserPaysForADummyHashOfTheUsualCost) {
  int64_t now = 1000 * kSecond;
  FakeVerifier fake;
  const HtpasswdEntry carol{"carol", "$2y$05$" + kBob.hash.substr(7)};
  BasicAuth auth({kAlice, kBob, carol}, fake.Options(&now));
  EXPECT_EQ(auth.Check(kHere, "mallory", kAlicePassword), BasicAuth::Result::kDenied);
  ASSERT_EQ(fake.calls.size(), 1u);
  EXPECT_EQ(fake.calls[0].first, kAlicePassword);
  EXPECT_EQ(fake.calls[0].second, auth.dummy_hash());
  EXPECT_TRUE(IsBcryptHash(auth.dummy_hash()));
  EXPECT_EQ(BcryptCost(auth.dummy_hash()), 5);  // two users of three have cost 5
}

TEST(BasicAuthTest, UnknownUserIsDeniedEvenIfTheDummyHashMatched) {
  int64_t now = 0;
  BasicAuthOptions options;
  options.verifier = [](const std::string&, const std::string&) { return true; };
  options.clock_ns = [&now] { return now; };
  BasicAuth auth({kAlice}, options);
  EXPECT_EQ(auth.Check(kHere, "mallory", "anything"), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check(kHere, "alice", "anything"), BasicAuth::Result::kAllowed);
}

TEST(BasicAuthTest, DummyHashIsRealBcryptWork) {
  BasicAuth auth({kAlice});
  // crypt_rn computes it (a malformed setting would fail at once instead).
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn("x", auth.dummy_hash().c_str(), data.get(), sizeof(crypt_data));
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(std::string(out).substr(0, 29), auth.dummy_hash().substr(0, 29));  // same settings
  EXPECT_EQ(BcryptCost(auth.dummy_hash()), 4);
}

// A verifier that holds every check of a password starting with "slow"
// until Release(), as a slow bcrypt would, and otherwise answers like
// FakeVerifier.
class GatedVerifier {
 public:
  BasicAuthOptions Options(int64_t* now) {
    BasicAuthOptions o;
    o.cache_ttl_ns = 60 * kSecond;
    o.clock_ns = [now] { return *now; };
    o.verifier = [this](const std::string& password, const std::string& hash) {
      if (password.rfind("slow", 0) == 0) {
        std::unique_lock<std::mutex> lock(mu_);
        ++held_;
        cv_.notify_all();
        // Bounded, so a failing test cannot hang.
        cv_.wait_for(lock, std::chrono::seconds(10), [this] { return released_; });
      }
      return (hash == kAlice.hash && password == kAlicePassword) ||
             (hash == kBob.hash && password == kBobPassword);
    };
    return o;
  }

  // Until `n` checks are held; false if that did not happen within 5 s.
  bool WaitHeld(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [this, n] { return held_ >= n; });
  }

  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int held_ = 0;
  bool released_ = false;
};

TEST(BasicAuthTest, ASecondCheckFromTheSameAddressIsThrottledWhileOtherAddressesAreChecked) {
  int64_t now = 1000 * kSecond;
  GatedVerifier gate;
  BasicAuth auth({kAlice, kBob}, gate.Options(&now));
  std::thread slow(
      [&] { EXPECT_EQ(auth.Check(kHere, "alice", "slow-guess"), BasicAuth::Result::kDenied); });
  EXPECT_TRUE(gate.WaitHeld(1));

  int retry_after_s = 0;
  EXPECT_EQ(auth.Check(kHere, "alice", "guess-2", &retry_after_s), BasicAuth::Result::kThrottled);
  EXPECT_EQ(retry_after_s, 1);
  // The other slot is free for another address, however long kHere's runs.
  EXPECT_EQ(auth.Check(kThere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.Check(kElsewhere, "bob", kBobPassword), BasicAuth::Result::kAllowed);
  // Cached now: served to kHere too while its check still runs.
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);

  gate.Release();
  slow.join();
  EXPECT_EQ(auth.bcrypt_checks(), 3u);
}

TEST(BasicAuthTest, EverySlotTakenAnswersBusyWhileCachedCredentialsPass) {
  int64_t now = 1000 * kSecond;
  GatedVerifier gate;
  BasicAuth auth({kAlice}, gate.Options(&now));
  ASSERT_EQ(auth.Check(kElsewhere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);

  std::thread a(
      [&] { EXPECT_EQ(auth.Check(kHere, "alice", "slow-1"), BasicAuth::Result::kDenied); });
  std::thread b(
      [&] { EXPECT_EQ(auth.Check(kThere, "mallory", "slow-2"), BasicAuth::Result::kDenied); });
  EXPECT_TRUE(gate.WaitHeld(2));

  int retry_after_s = 0;
  EXPECT_EQ(auth.Check(kElsewhere, "alice", "guess", &retry_after_s), BasicAuth::Result::kBusy);
  EXPECT_EQ(retry_after_s, 1);
  EXPECT_EQ(auth.Check(kElsewhere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);

  gate.Release();
  a.join();
  b.join();
  // Being refused for want of a slot is no failure of kElsewhere's.
  EXPECT_EQ(auth.Check(kElsewhere, "alice", "guess"), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.throttle().addresses(), 3u);
}

TEST(BasicAuthTest, RepeatedFailuresLockAnAddressOutUntilTheWindowEnds) {
  int64_t now = 1000 * kSecond;
  FakeVerifier fake;
  BasicAuthOptions options = fake.Options(&now);
  options.throttle.failure_limit = 3;
  options.throttle.failure_window_ns = 60 * kSecond;
  BasicAuth auth({kAlice}, options);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(auth.Check(kHere, "alice", "guess-" + std::to_string(i)), BasicAuth::Result::kDenied);
    now += kSecond;
  }
  int retry_after_s = 0;
  // Locked out: not even the right password is checked (or looked up).
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword, &retry_after_s),
            BasicAuth::Result::kThrottled);
  EXPECT_EQ(retry_after_s, 57);
  EXPECT_EQ(auth.bcrypt_checks(), 3u);
  // Another address is served, and its success cached...
  EXPECT_EQ(auth.Check(kThere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);
  // ...which a locked-out address cannot probe.
  now += 56 * kSecond;
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword, &retry_after_s),
            BasicAuth::Result::kThrottled);
  EXPECT_EQ(retry_after_s, 1);
  now += kSecond;
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.Check(kHere, "alice", "guess-again"), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.bcrypt_checks(), 5u);
}

TEST(BasicAuthTest, ParallelGuessesFromOneAddressCountTowardsItsLockout) {
  int64_t now = 1000 * kSecond;
  GatedVerifier gate;
  BasicAuthOptions options = gate.Options(&now);
  options.throttle.failure_limit = 3;
  BasicAuth auth({kAlice}, options);
  std::thread slow(
      [&] { EXPECT_EQ(auth.Check(kHere, "alice", "slow"), BasicAuth::Result::kDenied); });
  EXPECT_TRUE(gate.WaitHeld(1));
  // Each parallel try is refused unchecked and counts as a failure.
  int retry_after_s = 0;
  EXPECT_EQ(auth.Check(kHere, "alice", "guess-1", &retry_after_s), BasicAuth::Result::kThrottled);
  EXPECT_EQ(retry_after_s, 1);
  EXPECT_EQ(auth.Check(kHere, "alice", "guess-2", &retry_after_s), BasicAuth::Result::kThrottled);
  EXPECT_EQ(retry_after_s, 1);
  EXPECT_EQ(auth.Check(kHere, "alice", "guess-3", &retry_after_s), BasicAuth::Result::kThrottled);
  EXPECT_EQ(retry_after_s, 60);  // the third failure: locked out
  gate.Release();
  slow.join();
  EXPECT_EQ(auth.Check(kHere, "alice", kAlicePassword), BasicAuth::Result::kThrottled);
  EXPECT_EQ(auth.bcrypt_checks(), 1u);
}

}  // namespace
}  // namespace tkmprom
