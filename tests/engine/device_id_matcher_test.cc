#include "src/engine/device_id_matcher.h"

#include <gtest/gtest.h>

#include <string>

namespace tkmprom {
namespace {

Config WithPattern(const std::string& pattern) {
  Config c;
  c.device_id_pattern = pattern;
  return c;
}

TEST(DeviceIdMatcherTest, DefaultPatternUsesTheHandWrittenCheck) {
  DeviceIdMatcher m{Config()};
  EXPECT_TRUE(m.is_default());
  EXPECT_TRUE(m.Matches("A1B2C3D4E5F6"));
  EXPECT_FALSE(m.Matches("a1b2c3d4e5f6"));
  EXPECT_FALSE(m.Matches("A1B2C3D4E5F67"));
}

TEST(DeviceIdMatcherTest, OperatorPatternIsSearchedWithItsOwnAnchors) {
  DeviceIdMatcher m(WithPattern("^dev-[0-9]+$"));
  EXPECT_FALSE(m.is_default());
  EXPECT_TRUE(m.Matches("dev-42"));
  EXPECT_FALSE(m.Matches("xdev-42"));
  EXPECT_FALSE(m.Matches(""));
  DeviceIdMatcher unanchored(WithPattern("dev"));
  EXPECT_TRUE(unanchored.Matches("my-dev-1"));
}

// With libstdc++'s std::regex this pattern backtracks exponentially on a
// topic such as 28 'a's and a '!': one publish froze the engine. RE2 runs in
// linear time, so this returns (a test that hangs has failed).
TEST(DeviceIdMatcherTest, NestedRepetitionDoesNotBacktrack) {
  DeviceIdMatcher m(WithPattern("^([0-9A-Za-z]+-?)+$"));
  EXPECT_FALSE(m.Matches(std::string(28, 'a') + "!"));
  EXPECT_FALSE(m.Matches(std::string(1024, 'a') + "!"));
  EXPECT_TRUE(m.Matches("abc-def-123"));
}

TEST(DeviceIdMatcherTest, CheckAcceptsWhatRe2Compiles) {
  EXPECT_EQ(DeviceIdMatcher::Check("^dev-[0-9]+$"), "");
  EXPECT_EQ(DeviceIdMatcher::Check("^([0-9A-Za-z]+-?)+$"), "");
  EXPECT_EQ(DeviceIdMatcher::Check("^[0-9A-F]{12}$"), "");
}

TEST(DeviceIdMatcherTest, CheckRefusesWithOneLineNamingOptionValueAndReason) {
  for (const char* bad : {"([0-9", "^(a)\\1$", "^(?=A)[0-9A-F]{12}$", "^[0-9A-F]{12,99999}$", ""}) {
    const std::string line = DeviceIdMatcher::Check(bad);
    ASSERT_FALSE(line.empty()) << bad;
    EXPECT_NE(line.find("plugin_opt_device_id_pattern"), std::string::npos) << line;
    EXPECT_NE(line.find(std::string("'") + bad + "'"), std::string::npos) << line;
    EXPECT_NE(line.find("accepted: "), std::string::npos) << line;
    EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  }
  EXPECT_NE(DeviceIdMatcher::Check("^(a)\\1$").find("backreference"), std::string::npos)
      << DeviceIdMatcher::Check("^(a)\\1$");
}

TEST(DeviceIdMatcherTest, UncompilablePatternMatchesNothing) {
  DeviceIdMatcher m(WithPattern("([0-9"));
  EXPECT_FALSE(m.Matches("([0-9"));
  EXPECT_FALSE(m.Matches("123"));
}

}  // namespace
}  // namespace tkmprom
