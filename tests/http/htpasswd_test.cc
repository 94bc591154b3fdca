#include "src/http/htpasswd.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tkmprom {
namespace {

// Test-only users, written by `htpasswd -nbB -C 4` and `-C 5`.
constexpr char kAlice[] = "alice:$2y$04$eQdr3Ft3vsobCQGS3RA4DeUXPWwbb0BKyYTdPUJdjsh3p/GisoPoy";
constexpr char kBob[] = "bob:$2y$05$8Q/Mbh2VYAG87OamU.suM.lIVqhZl7mPaPFCsFp0/tGdGumJTz9ty";

TEST(HtpasswdTest, ParsesUsersSkippingCommentsBlankLinesAndCarriageReturns) {
  std::vector<HtpasswdEntry> entries;
  std::string error;
  const std::string text =
      std::string("# scrapers\n\n") + kAlice + "\r\n" + kBob;  // no final newline
  ASSERT_TRUE(ParseHtpasswd(text, &entries, &error)) << error;
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].user, "alice");
  EXPECT_EQ(entries[0].hash, "$2y$04$eQdr3Ft3vsobCQGS3RA4DeUXPWwbb0BKyYTdPUJdjsh3p/GisoPoy");
  EXPECT_EQ(entries[1].user, "bob");
  EXPECT_EQ(BcryptCost(entries[1].hash), 5);
}

TEST(HtpasswdTest, AcceptsEveryBcryptPrefix) {
  for (const char* prefix : {"$2y$", "$2b$", "$2a$"}) {
    std::string hash = std::string(prefix) + "10$" + std::string(53, 'A');
    EXPECT_TRUE(IsBcryptHash(hash)) << hash;
  }
}

TEST(HtpasswdTest, RefusesWhatIsNotBcrypt) {
  const std::string tail(53, 'A');
  EXPECT_FALSE(IsBcryptHash(""));
  EXPECT_FALSE(IsBcryptHash("$apr1$TSzx50AL$ZKsCFo4SYNYNN5DAYpXTL/"));  // htpasswd -m
  EXPECT_FALSE(IsBcryptHash("{SHA}EfatjsUqKYSrqv18O1FlA3hcIHI="));      // htpasswd -s
  EXPECT_FALSE(IsBcryptHash("$2x$10$" + tail));                         // broken variant
  EXPECT_FALSE(IsBcryptHash("$2y$03$" + tail));                         // cost too low
  EXPECT_FALSE(IsBcryptHash("$2y$32$" + tail));                         // cost too high
  EXPECT_FALSE(IsBcryptHash("$2y$1a$" + tail));
  EXPECT_FALSE(IsBcryptHash("$2y$10$" + tail.substr(1)));  // too short
  EXPECT_FALSE(IsBcryptHash("$2y$10$" + tail + "A"));      // too long
  EXPECT_FALSE(IsBcryptHash("$2y$10$" + tail.substr(1) + "!"));
}

struct BadFile {
  std::string text;
  std::string expected;  // a part of the error
};

class HtpasswdBadFileTest : public ::testing::TestWithParam<BadFile> {};

TEST_P(HtpasswdBadFileTest, IsRefusedNamingTheLine) {
  std::vector<HtpasswdEntry> entries = {{"kept", "unchanged"}};
  std::string error;
  EXPECT_FALSE(ParseHtpasswd(GetParam().text, &entries, &error));
  EXPECT_NE(error.find(GetParam().expected), std::string::npos) << error;
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].user, "kept");
  // The hash is never repeated in the message.
  EXPECT_EQ(error.find("eQdr3Ft3"), std::string::npos) << error;
  EXPECT_EQ(error.find("TSzx50AL"), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Files, HtpasswdBadFileTest,
    ::testing::Values(
        BadFile{"", "no user:bcrypt-hash line"},
        BadFile{"# only a comment\n\n", "no user:bcrypt-hash line"},
        BadFile{std::string(kAlice) + "\ncarol:$apr1$TSzx50AL$ZKsCFo4SYNYNN5DAYpXTL/\n",
                "line 2: the hash of user 'carol' is not a bcrypt hash"},
        BadFile{"\n\njust-a-name\n", "line 3: not of the form user:bcrypt-hash"},
        BadFile{":$2y$04$eQdr3Ft3vsobCQGS3RA4DeUXPWwbb0BKyYTdPUJdjsh3p/GisoPoy\n",
                "line 1: the user name is empty"},
        BadFile{std::string(kAlice) + "\n" + kAlice + "\n", "line 2: user 'alice' appears twice"},
        BadFile{std::string(kAlice) + " \n", "line 1: the hash of user 'alice'"}));

}  // namespace
}  // namespace tkmprom
