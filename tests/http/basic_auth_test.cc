#include "src/http/basic_auth.h"

#include <crypt.h>

#include <gtest/gtest.h>

#include <atomic>
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
  EXPECT_EQ(auth.Check("alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.Check("bob", kBobPassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.Check("alice", kBobPassword), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check("bob", kAlicePassword), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check("mallory", kAlicePassword), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check("", ""), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check("Alice", kAlicePassword), BasicAuth::Result::kDenied);
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
  EXPECT_EQ(auth.Check("alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.Check("alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.Check("alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.bcrypt_checks(), 1u);
  // A cached success is no shortcut for another password or another user.
  EXPECT_EQ(auth.Check("alice", "guess"), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check("alice", "guess"), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check("bob", kAlicePassword), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.bcrypt_checks(), 4u);
  EXPECT_EQ(auth.Check("bob", kBobPassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.Check("bob", kBobPassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.bcrypt_checks(), 5u);
}

TEST(BasicAuthTest, CachedSuccessExpiresAfterTheTtlWithoutUse) {
  int64_t now = 1000 * kSecond;
  FakeVerifier fake;
  BasicAuth auth({kAlice}, fake.Options(&now));
  EXPECT_EQ(auth.Check("alice", kAlicePassword), BasicAuth::Result::kAllowed);
  // Used every 50 s (inside the 60 s TTL): stays cached.
  for (int i = 0; i < 5; ++i) {
    now += 50 * kSecond;
    EXPECT_EQ(auth.Check("alice", kAlicePassword), BasicAuth::Result::kAllowed);
  }
  EXPECT_EQ(auth.bcrypt_checks(), 1u);
  now += 61 * kSecond;
  EXPECT_EQ(auth.Check("alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.bcrypt_checks(), 2u);
}

TEST(BasicAuthTest, CacheIsBoundedAndEvictsTheLeastRecentlyUsed) {
  int64_t now = 1000 * kSecond;
  FakeVerifier fake;
  BasicAuthOptions options = fake.Options(&now);
  options.cache_capacity = 1;
  BasicAuth auth({kAlice, kBob}, options);
  EXPECT_EQ(auth.Check("alice", kAlicePassword), BasicAuth::Result::kAllowed);
  now += kSecond;
  EXPECT_EQ(auth.Check("bob", kBobPassword), BasicAuth::Result::kAllowed);  // evicts alice
  now += kSecond;
  EXPECT_EQ(auth.Check("bob", kBobPassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.bcrypt_checks(), 2u);
  EXPECT_EQ(auth.Check("alice", kAlicePassword), BasicAuth::Result::kAllowed);
  EXPECT_EQ(auth.bcrypt_checks(), 3u);
}

TEST(BasicAuthTest, UnknownUserPaysForADummyHashOfTheUsualCost) {
  int64_t now = 1000 * kSecond;
  FakeVerifier fake;
  const HtpasswdEntry carol{"carol", "$2y$05$" + kBob.hash.substr(7)};
  BasicAuth auth({kAlice, kBob, carol}, fake.Options(&now));
  EXPECT_EQ(auth.Check("mallory", kAlicePassword), BasicAuth::Result::kDenied);
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
  EXPECT_EQ(auth.Check("mallory", "anything"), BasicAuth::Result::kDenied);
  EXPECT_EQ(auth.Check("alice", "anything"), BasicAuth::Result::kAllowed);
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

TEST(BasicAuthTest, SecondBcryptCheckIsBusyWhileCachedCredentialsPass) {
  int64_t now = 1000 * kSecond;
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false;
  bool release = false;
  std::atomic<bool> block{false};
  BasicAuthOptions options;
  options.clock_ns = [&now] { return now; };
  options.verifier = [&](const std::string& password, const std::string& hash) {
    if (block.load()) {
      std::unique_lock<std::mutex> lock(mu);
      entered = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    }
    return hash == kAlice.hash && password == kAlicePassword;
  };
  BasicAuth auth({kAlice}, options);
  ASSERT_EQ(auth.Check("alice", kAlicePassword), BasicAuth::Result::kAllowed);  // cached now

  block = true;
  std::thread slow([&] { EXPECT_EQ(auth.Check("alice", "guess-1"), BasicAuth::Result::kDenied); });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  EXPECT_EQ(auth.Check("alice", "guess-2"), BasicAuth::Result::kBusy);
  EXPECT_EQ(auth.Check("mallory", "guess-3"), BasicAuth::Result::kBusy);
  EXPECT_EQ(auth.Check("alice", kAlicePassword), BasicAuth::Result::kAllowed);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  slow.join();
  block = false;
  EXPECT_EQ(auth.Check("alice", "guess-2"), BasicAuth::Result::kDenied);
}

}  // namespace
}  // namespace tkmprom
