#include "src/companion/companion_config.h"

#include <gtest/gtest.h>

#include <string>

#include "src/companion/child_process.h"
#include "src/companion/supervisor.h"

namespace tkmprom {
namespace {

TEST(CompanionConfigTest, AppliesEveryOptionAndWarnsOfUnknownOnes) {
  CompanionConfig cc;
  const std::string error = LoadCompanionConfig(
      {{"request_timeout", "5"}, {"colour", "blue"}, {"device_id_pattern", "^dev-[0-9]+$"}}, &cc);
  EXPECT_EQ(error, "");
  EXPECT_EQ(cc.config.request_timeout_s, 5);
  EXPECT_EQ(cc.config.device_id_pattern, "^dev-[0-9]+$");
  ASSERT_EQ(cc.warnings.size(), 1u);
  EXPECT_NE(cc.warnings[0].find("plugin_opt_colour"), std::string::npos);
}

TEST(CompanionConfigTest, ABadValueIsTheOneLineThatFailsTheStart) {
  CompanionConfig cc;
  const std::string error =
      LoadCompanionConfig({{"request_timeout", "5"}, {"max_devices", "0"}}, &cc);
  EXPECT_EQ(error,
            "tkmprom: invalid value '0' for plugin_opt_max_devices; accepted: an integer from 1 "
            "to 10000000");
}

TEST(CompanionConfigTest, APatternRe2CannotCompileFailsTheStart) {
  CompanionConfig cc;
  const std::string error = LoadCompanionConfig({{"device_id_pattern", "^(a)\\1$"}}, &cc);
  EXPECT_NE(error.find("plugin_opt_device_id_pattern"), std::string::npos) << error;
  EXPECT_NE(error.find("backreference"), std::string::npos) << error;
}

TEST(CompanionConfigTest, AnUnreadableAuthFileFailsTheStart) {
  CompanionConfig cc;
  const std::string error =
      LoadCompanionConfig({{"http_auth_file", "/nonexistent/tkmprom.htpasswd"}}, &cc);
  EXPECT_NE(error.find("plugin_opt_http_auth_file"), std::string::npos) << error;
}

TEST(CompanionConfigTest, TlsNeedsBothFiles) {
  CompanionConfig cc;
  const std::string error = LoadCompanionConfig({{"http_tls_cert", "/etc/hostname"}}, &cc);
  EXPECT_NE(error.find("must be given together"), std::string::npos) << error;
}

TEST(ChildArgsTest, RoundTripsThroughTheCommandLine) {
  ChildArgs args;
  args.role = ChildArgs::Role::kSupervisor;
  args.parent = 4242;
  args.ring_bytes = 1 << 20;
  args.mosquitto_version = "2.1.2";
  args.ready = true;
  std::vector<std::string> argv_strings = ChildArgv(args);
  argv_strings.insert(argv_strings.begin(), "tkmprom-companion");
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  ChildArgs parsed;
  std::string error;
  ASSERT_TRUE(ParseChildArgs(static_cast<int>(argv.size()), argv.data(), &parsed, &error)) << error;
  EXPECT_EQ(parsed.role, ChildArgs::Role::kSupervisor);
  EXPECT_EQ(parsed.parent, 4242);
  EXPECT_EQ(parsed.ring_bytes, uint64_t{1} << 20);
  EXPECT_EQ(parsed.mosquitto_version, "2.1.2");
  EXPECT_TRUE(parsed.ready);
}

TEST(ChildArgsTest, TheSupervisorIsToldWhichCompanionToStartAndDoesNotPassItOn) {
  char name[] = "tkmprom-supervisor";
  char role[] = "--supervise";
  char parent[] = "--parent=4242";
  char ring[] = "--ring-bytes=1024";
  char companion[] = "--companion=/opt/tkmprom/tkmprom-companion";
  char* argv[] = {name, role, parent, ring, companion};
  ChildArgs parsed;
  std::string error;
  ASSERT_TRUE(ParseChildArgs(5, argv, &parsed, &error)) << error;
  EXPECT_EQ(parsed.companion_path, "/opt/tkmprom/tkmprom-companion");
  parsed.role = ChildArgs::Role::kCompanion;
  for (const std::string& a : ChildArgv(parsed)) {
    EXPECT_EQ(a.find("--companion"), std::string::npos) << a;
    EXPECT_EQ(a.find("/opt/tkmprom"), std::string::npos) << a;
  }
  ChildArgs plain;
  char* without[] = {name, role, parent, ring};
  ASSERT_TRUE(ParseChildArgs(4, without, &plain, &error)) << error;
  EXPECT_EQ(plain.companion_path, "");
}

TEST(ChildArgsTest, OwnExecutableIsThisTestBinary) {
  const std::string self = OwnExecutable();
  ASSERT_FALSE(self.empty());
  EXPECT_EQ(self.front(), '/') << self;
  EXPECT_EQ(self.substr(self.rfind('/') + 1), "companion_config_test") << self;
}

TEST(ChildArgsTest, TheCompanionPathMustBeAbsolute) {
  char name[] = "tkmprom-supervisor";
  char role[] = "--supervise";
  char parent[] = "--parent=4242";
  char ring[] = "--ring-bytes=1024";
  for (const char* bad : {"--companion=", "--companion=tkmprom-companion"}) {
    std::string arg = bad;
    char* argv[] = {name, role, parent, ring, arg.data()};
    ChildArgs parsed;
    std::string error;
    EXPECT_FALSE(ParseChildArgs(5, argv, &parsed, &error)) << bad;
    EXPECT_NE(error.find("unknown argument"), std::string::npos) << error;
  }
}

TEST(ChildArgsTest, StartedByHandItSaysWhoStartsIt) {
  char name[] = "tkmprom-companion";
  char* argv[] = {name};
  ChildArgs parsed;
  std::string error;
  EXPECT_FALSE(ParseChildArgs(1, argv, &parsed, &error));
  EXPECT_NE(error.find("started by the tkmprom plugin"), std::string::npos) << error;
}

TEST(SupervisorTest, BackoffDoublesUpToThirtySeconds) {
  EXPECT_EQ(RestartBackoffMillis(1), 1000);
  EXPECT_EQ(RestartBackoffMillis(2), 2000);
  EXPECT_EQ(RestartBackoffMillis(4), 8000);
  EXPECT_EQ(RestartBackoffMillis(6), 30000);
  EXPECT_EQ(RestartBackoffMillis(60), 30000);
}

}  // namespace
}  // namespace tkmprom
