#include "src/http/auth_throttle.h"

#include <gtest/gtest.h>

#include "src/http/client_address.h"

namespace tkmprom {
namespace {

constexpr int64_t kSecond = 1000000000;
using Admission = AuthThrottle::Admission;

ClientAddress Address(int i) {
  return ClientAddress::FromText(("198.51.100." + std::to_string(i)).c_str());
}

AuthThrottleOptions Options() {
  AuthThrottleOptions o;
  o.slots = 2;
  o.failure_limit = 2;
  o.failure_window_ns = 60 * kSecond;
  o.capacity = 3;
  return o;
}

TEST(AuthThrottleTest, AtMostOneCheckPerAddressAndSlotsInAll) {
  AuthThrottle throttle(Options());
  int retry = 0;
  EXPECT_EQ(throttle.Begin(Address(1), 0, &retry), Admission::kAdmitted);
  EXPECT_EQ(throttle.Begin(Address(1), 0, &retry), Admission::kAddressBusy);
  EXPECT_EQ(retry, 1);
  EXPECT_EQ(throttle.Begin(Address(2), 0, &retry), Admission::kAdmitted);
  retry = 0;
  EXPECT_EQ(throttle.Begin(Address(3), 0, &retry), Admission::kAllBusy);
  EXPECT_EQ(retry, 1);
  throttle.End(Address(2), /*failed=*/false, 0);
  EXPECT_EQ(throttle.Begin(Address(3), 0, &retry), Admission::kAdmitted);
  throttle.End(Address(3), false, 0);
  throttle.End(Address(1), false, 0);
}

TEST(AuthThrottleTest, FailuresLockOutUntilTheWindowFromTheFirstOneEnds) {
  AuthThrottle throttle(Options());
  int retry = 0;
  ASSERT_EQ(throttle.Begin(Address(1), 10 * kSecond, &retry), Admission::kAdmitted);
  throttle.End(Address(1), /*failed=*/true, 10 * kSecond);
  EXPECT_FALSE(throttle.LockedOut(Address(1), 11 * kSecond, &retry));
  ASSERT_EQ(throttle.Begin(Address(1), 20 * kSecond, &retry), Admission::kAdmitted);
  throttle.End(Address(1), true, 20 * kSecond);
  ASSERT_TRUE(throttle.LockedOut(Address(1), 20 * kSecond, &retry));
  EXPECT_EQ(retry, 50);
  EXPECT_EQ(throttle.Begin(Address(1), 30 * kSecond, &retry), Admission::kLockedOut);
  EXPECT_EQ(retry, 40);
  EXPECT_TRUE(throttle.LockedOut(Address(1), 70 * kSecond - 1, &retry));
  EXPECT_EQ(retry, 1);
  EXPECT_FALSE(throttle.LockedOut(Address(1), 70 * kSecond, &retry));
  EXPECT_FALSE(throttle.LockedOut(Address(2), 20 * kSecond, &retry));
}

TEST(AuthThrottleTest, TableKeepsOnlyAddressesWithSomethingToRemember) {
  AuthThrottle throttle(Options());
  int retry = 0;
  ASSERT_EQ(throttle.Begin(Address(1), 0, &retry), Admission::kAdmitted);
  EXPECT_EQ(throttle.addresses(), 1u);
  throttle.End(Address(1), /*failed=*/false, 0);
  EXPECT_EQ(throttle.addresses(), 0u);
  ASSERT_EQ(throttle.Begin(Address(2), 0, &retry), Admission::kAdmitted);
  throttle.End(Address(2), /*failed=*/true, 0);
  EXPECT_EQ(throttle.addresses(), 1u);
  // Its window over, the failure is forgotten with the address.
  EXPECT_FALSE(throttle.LockedOut(Address(2), 60 * kSecond, &retry));
  EXPECT_EQ(throttle.addresses(), 0u);
}

TEST(AuthThrottleTest, FullTableReplacesTheLeastRecentlySeenAddressNotLockedOut) {
  AuthThrottle throttle(Options());  // three addresses at most
  int retry = 0;
  auto fail = [&](int i, int64_t t) {
    ASSERT_EQ(throttle.Begin(Address(i), t, &retry), Admission::kAdmitted);
    throttle.End(Address(i), /*failed=*/true, t);
  };
  fail(1, 1 * kSecond);
  fail(1, 2 * kSecond);  // locked out
  fail(2, 3 * kSecond);
  fail(3, 4 * kSecond);
  EXPECT_EQ(throttle.addresses(), 3u);
  fail(4, 5 * kSecond);  // replaces 2: seen before 3, and not locked out
  EXPECT_EQ(throttle.addresses(), 3u);
  EXPECT_EQ(throttle.addresses_dropped(), 1u);
  EXPECT_TRUE(throttle.LockedOut(Address(1), 6 * kSecond, &retry));
  fail(3, 6 * kSecond);  // 3 was kept: its second failure locks it out
  EXPECT_TRUE(throttle.LockedOut(Address(3), 6 * kSecond, &retry));
  fail(2, 7 * kSecond);  // 2 starts over: replaces 4, the only one not locked out
  EXPECT_FALSE(throttle.LockedOut(Address(2), 7 * kSecond, &retry));
  EXPECT_EQ(throttle.addresses_dropped(), 2u);
}

TEST(AuthThrottleTest, WhenEveryAddressIsLockedOutTheLeastRecentlySeenIsReplaced) {
  AuthThrottle throttle(Options());
  int retry = 0;
  for (int i = 1; i <= 3; ++i) {
    for (int n = 0; n < 2; ++n) {
      ASSERT_EQ(throttle.Begin(Address(i), i * kSecond, &retry), Admission::kAdmitted);
      throttle.End(Address(i), /*failed=*/true, i * kSecond);
    }
  }
  ASSERT_EQ(throttle.Begin(Address(4), 4 * kSecond, &retry), Admission::kAdmitted);
  EXPECT_EQ(throttle.addresses_dropped(), 1u);
  EXPECT_FALSE(throttle.LockedOut(Address(1), 4 * kSecond, &retry));
  EXPECT_TRUE(throttle.LockedOut(Address(2), 4 * kSecond, &retry));
  throttle.End(Address(4), false, 4 * kSecond);
}

TEST(AuthThrottleTest, AnAddressHoldingASlotIsNeverReplaced) {
  AuthThrottle throttle(Options());
  int retry = 0;
  ASSERT_EQ(throttle.Begin(Address(3), 0, &retry), Admission::kAdmitted);
  throttle.End(Address(3), /*failed=*/true, 0);
  ASSERT_EQ(throttle.Begin(Address(1), 1, &retry), Admission::kAdmitted);
  ASSERT_EQ(throttle.Begin(Address(2), 2, &retry), Admission::kAdmitted);
  // Full, and 3 is the only address not holding a slot: it makes room.
  EXPECT_EQ(throttle.Begin(Address(4), 3, &retry), Admission::kAllBusy);
  EXPECT_EQ(throttle.addresses_dropped(), 1u);
  EXPECT_EQ(throttle.addresses(), 2u);
  throttle.End(Address(1), /*failed=*/true, 4);
  throttle.End(Address(2), /*failed=*/true, 4);
  EXPECT_EQ(throttle.addresses(), 2u);
  // Both were remembered: one more failure each locks them out.
  EXPECT_EQ(throttle.Begin(Address(1), 5, &retry), Admission::kAdmitted);
  throttle.End(Address(1), true, 5);
  EXPECT_TRUE(throttle.LockedOut(Address(1), 5, &retry));
}

}  // namespace
}  // namespace tkmprom
