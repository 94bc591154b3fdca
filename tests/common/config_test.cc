#include "tkmprom/config.h"

#include <gtest/gtest.h>

namespace tkmprom {
namespace {

OptionResult Apply(Config* c, const char* name, const char* value, std::string* msg = nullptr) {
  std::string m;
  OptionResult r = ApplyOption(name, value, c, &m);
  if (msg != nullptr) *msg = m;
  return r;
}

TEST(ConfigTest, DefaultsMatchTheContract) {
  Config c;
  EXPECT_EQ(c.http_host, "127.0.0.1");
  EXPECT_EQ(c.http_port, 10883);
  EXPECT_EQ(c.request_timeout_s, 30);
  EXPECT_EQ(c.device_timeout_s, 2100);
  EXPECT_EQ(c.symbol_expiry_s, 86400);
  EXPECT_EQ(c.latency_buckets, (std::vector<double>{0.1, 0.5, 1, 2, 5, 10, 30, 60}));
  EXPECT_EQ(c.quantile_window_s, 300);
  EXPECT_EQ(c.ranking_min_requests, 10u);
  EXPECT_EQ(c.max_devices, 100000u);
  EXPECT_EQ(c.max_symbols, 10000u);
  EXPECT_FALSE(c.per_device_metrics);
  EXPECT_TRUE(c.DefaultDevicePattern());
}

TEST(ConfigTest, AcceptsEveryOptionWithAGoodValue) {
  Config c;
  EXPECT_EQ(Apply(&c, "http_listen", "0.0.0.0:9999"), OptionResult::kOk);
  EXPECT_EQ(c.http_host, "0.0.0.0");
  EXPECT_EQ(c.http_port, 9999);
  EXPECT_FALSE(c.http_ipv6);
  EXPECT_EQ(Apply(&c, "http_listen", "[::1]:10883"), OptionResult::kOk);
  EXPECT_EQ(c.http_host, "::1");
  EXPECT_TRUE(c.http_ipv6);
  EXPECT_EQ(Apply(&c, "request_timeout", "2.5"), OptionResult::kOk);
  EXPECT_EQ(c.request_timeout_s, 2.5);
  EXPECT_EQ(Apply(&c, "device_timeout", "600"), OptionResult::kOk);
  EXPECT_EQ(c.device_timeout_s, 600);
  EXPECT_EQ(Apply(&c, "symbol_expiry", "3600"), OptionResult::kOk);
  EXPECT_EQ(c.symbol_expiry_s, 3600);
  EXPECT_EQ(Apply(&c, "latency_buckets", "0.05,0.25,1"), OptionResult::kOk);
  EXPECT_EQ(c.latency_buckets, (std::vector<double>{0.05, 0.25, 1}));
  EXPECT_EQ(Apply(&c, "quantile_window", "60"), OptionResult::kOk);
  EXPECT_EQ(c.quantile_window_s, 60);
  EXPECT_EQ(Apply(&c, "ranking_min_requests", "0"), OptionResult::kOk);
  EXPECT_EQ(c.ranking_min_requests, 0u);
  EXPECT_EQ(Apply(&c, "max_devices", "5"), OptionResult::kOk);
  EXPECT_EQ(c.max_devices, 5u);
  EXPECT_EQ(Apply(&c, "max_symbols", "7"), OptionResult::kOk);
  EXPECT_EQ(c.max_symbols, 7u);
  EXPECT_EQ(Apply(&c, "per_device_metrics", "true"), OptionResult::kOk);
  EXPECT_TRUE(c.per_device_metrics);
  EXPECT_EQ(Apply(&c, "device_id_pattern", "^dev-[0-9]+$"), OptionResult::kOk);
  EXPECT_EQ(c.device_id_pattern, "^dev-[0-9]+$");
  EXPECT_FALSE(c.DefaultDevicePattern());
  // Only the path's shape is checked here; the files are read at init.
  EXPECT_EQ(Apply(&c, "http_auth_file", "/etc/tkmprom/htpasswd"), OptionResult::kOk);
  EXPECT_EQ(c.http_auth_file, "/etc/tkmprom/htpasswd");
  EXPECT_EQ(Apply(&c, "http_tls_cert", "/etc/tkmprom/cert.pem"), OptionResult::kOk);
  EXPECT_EQ(c.http_tls_cert, "/etc/tkmprom/cert.pem");
  EXPECT_EQ(Apply(&c, "http_tls_key", "/etc/tkmprom/key.pem"), OptionResult::kOk);
  EXPECT_EQ(c.http_tls_key, "/etc/tkmprom/key.pem");
  EXPECT_EQ(c.given.size(), 14u);
}

struct BadCase {
  const char* name;
  const char* value;
};

const std::string kLongPatternText(kMaxDevicePatternBytes + 1, 'a');
const char* const kLongPattern = kLongPatternText.c_str();

class BadValueTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadValueTest, IsRefusedWithALineNamingOptionValueAndAccepted) {
  Config c;
  std::string msg;
  EXPECT_EQ(Apply(&c, GetParam().name, GetParam().value, &msg), OptionResult::kBad);
  EXPECT_NE(msg.find(std::string("plugin_opt_") + GetParam().name), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::string("'") + GetParam().value + "'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("accepted: "), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  EXPECT_TRUE(c.given.empty());
}

INSTANTIATE_TEST_SUITE_P(
    AllOptions, BadValueTest,
    ::testing::Values(BadCase{"http_listen", "localhost:10883"}, BadCase{"http_listen", "10883"},
                      BadCase{"http_listen", "127.0.0.1:0"},
                      BadCase{"http_listen", "127.0.0.1:65536"},
                      BadCase{"http_listen", "::1:10883"}, BadCase{"http_listen", "[::1]10883"},
                      BadCase{"http_listen", "1.2.3:80"}, BadCase{"request_timeout", "0"},
                      BadCase{"request_timeout", "-1"}, BadCase{"request_timeout", "30s"},
                      BadCase{"request_timeout", " 30"}, BadCase{"request_timeout", "inf"},
                      BadCase{"request_timeout", "0x10"}, BadCase{"device_timeout", ""},
                      BadCase{"symbol_expiry", "abc"}, BadCase{"latency_buckets", "1,0.5"},
                      BadCase{"latency_buckets", "0.1,,1"}, BadCase{"latency_buckets", "0,1"},
                      BadCase{"latency_buckets", ""}, BadCase{"latency_buckets", "1,1"},
                      BadCase{"quantile_window", "0"}, BadCase{"ranking_min_requests", "-3"},
                      BadCase{"ranking_min_requests", "1.5"}, BadCase{"max_devices", "0"},
                      BadCase{"max_devices", "99999999999"}, BadCase{"max_symbols", "many"},
                      BadCase{"per_device_metrics", "maybe"}, BadCase{"device_id_pattern", ""},
                      BadCase{"device_id_pattern", kLongPattern}, BadCase{"ring_size", "0"},
                      BadCase{"ring_size", "257"}, BadCase{"ring_size", "8M"},
                      BadCase{"companion_path", "tkmprom-companion"}, BadCase{"companion_path", ""},
                      BadCase{"http_auth_file", ""}, BadCase{"http_auth_file", "htpasswd"},
                      BadCase{"http_auth_file", "/"}, BadCase{"http_auth_file", "/etc/tkmprom/"},
                      BadCase{"http_tls_cert", ""}, BadCase{"http_tls_cert", "certs/cert.pem"},
                      BadCase{"http_tls_key", ""}, BadCase{"http_tls_key", "./key.pem"},
                      BadCase{"bridge_clients", ""}, BadCase{"bridge_clients", "*"},
                      BadCase{"bridge_clients", "a,,b"}, BadCase{"bridge_clients", "bridge-*-in"},
                      BadCase{"bridge_clients", "a, *"}, BadCase{"bridged_publishes", "some"},
                      BadCase{"bridged_publishes", ""}));

TEST(ConfigTest, BridgeClientsAreIdsOrPrefixes) {
  Config c;
  EXPECT_TRUE(c.bridge_clients.empty());
  EXPECT_FALSE(c.bridge_clients.Matches(""));
  EXPECT_EQ(c.bridged_publishes, BridgedPublishes::kAnswers);
  ASSERT_EQ(Apply(&c, "bridge_clients", "core-link, bridge-*"), OptionResult::kOk);
  EXPECT_FALSE(c.bridge_clients.empty());
  EXPECT_TRUE(c.bridge_clients.Matches("core-link"));
  EXPECT_FALSE(c.bridge_clients.Matches("core-link2"));
  EXPECT_FALSE(c.bridge_clients.Matches("core-lin"));
  EXPECT_TRUE(c.bridge_clients.Matches("bridge-edge1"));
  EXPECT_TRUE(c.bridge_clients.Matches("bridge-"));
  EXPECT_FALSE(c.bridge_clients.Matches("bridge"));
  EXPECT_FALSE(c.bridge_clients.Matches("A1B2C3D4E5F6"));
  EXPECT_FALSE(c.bridge_clients.Matches(""));
  std::string many;
  for (size_t i = 0; i <= ClientIdSet::kMaxEntries; ++i) many += (i ? "," : "") + std::to_string(i);
  std::string message;
  EXPECT_EQ(Apply(&c, "bridge_clients", many.c_str(), &message), OptionResult::kBad);
  EXPECT_NE(message.find("plugin_opt_bridge_clients"), std::string::npos) << message;
  EXPECT_TRUE(c.bridge_clients.Matches("core-link"));  // a refused value changes nothing
  EXPECT_EQ(Apply(&c, "bridged_publishes", "all"), OptionResult::kOk);
  EXPECT_EQ(c.bridged_publishes, BridgedPublishes::kAll);
  EXPECT_EQ(Apply(&c, "bridged_publishes", "none"), OptionResult::kOk);
  EXPECT_EQ(c.bridged_publishes, BridgedPublishes::kNone);
  EXPECT_EQ(Apply(&c, "bridged_publishes", "answers"), OptionResult::kOk);
  EXPECT_EQ(c.bridged_publishes, BridgedPublishes::kAnswers);
}

TEST(ConfigTest, UnknownOptionIsReportedNotApplied) {
  Config c;
  std::string msg;
  EXPECT_EQ(Apply(&c, "http_listn", "1.2.3.4:5", &msg), OptionResult::kUnknown);
  EXPECT_NE(msg.find("plugin_opt_http_listn"), std::string::npos);
  EXPECT_EQ(c.http_host, "127.0.0.1");
}

TEST(ConfigTest, TlsNeedsBothCertificateAndKey) {
  Config c;
  EXPECT_EQ(ValidateConfig(c), "");
  Apply(&c, "http_tls_cert", "/etc/tkmprom/cert.pem");
  std::string problem = ValidateConfig(c);
  EXPECT_NE(problem.find("plugin_opt_http_tls_key"), std::string::npos) << problem;
  Apply(&c, "http_tls_key", "/etc/tkmprom/key.pem");
  EXPECT_EQ(ValidateConfig(c), "");
  Config key_only;
  Apply(&key_only, "http_tls_key", "/etc/tkmprom/key.pem");
  EXPECT_NE(ValidateConfig(key_only), "");
  Config auth_only;
  Apply(&auth_only, "http_auth_file", "/etc/tkmprom/htpasswd");
  EXPECT_EQ(ValidateConfig(auth_only), "");
}

TEST(ConfigTest, DifferingOptionsNamesChangedAndMissingOnes) {
  Config a, b;
  Apply(&a, "request_timeout", "10");
  Apply(&b, "request_timeout", "10");
  EXPECT_TRUE(DifferingOptions(a, b).empty());
  Apply(&b, "request_timeout", "11");
  Apply(&a, "max_symbols", "5");
  EXPECT_EQ(DifferingOptions(a, b), (std::vector<std::string>{"request_timeout", "max_symbols"}));
}

// The pattern is compiled by the companion (DeviceIdMatcher::Check, with
// RE2), so the broker links no regular expression library: here only its
// length is checked.
TEST(ConfigTest, DevicePatternIsOnlyShapeCheckedHere) {
  Config c;
  std::string message;
  EXPECT_EQ(ApplyOption("device_id_pattern", "([0-9", &c, &message), OptionResult::kOk);
  EXPECT_EQ(c.device_id_pattern, "([0-9");
  EXPECT_EQ(ApplyOption("device_id_pattern", std::string(1024, 'a'), &c, &message),
            OptionResult::kOk);
}

TEST(ConfigTest, RingSizeIsRoundedUpToAPowerOfTwo) {
  Config c;
  EXPECT_EQ(c.RingBytes(), uint64_t{8} << 20);
  std::string message;
  ASSERT_EQ(ApplyOption("ring_size", "3", &c, &message), OptionResult::kOk);
  EXPECT_EQ(c.RingBytes(), uint64_t{4} << 20);
  ASSERT_EQ(ApplyOption("ring_size", "256", &c, &message), OptionResult::kOk);
  EXPECT_EQ(c.RingBytes(), uint64_t{256} << 20);
  ASSERT_EQ(ApplyOption("ring_size", "1", &c, &message), OptionResult::kOk);
  EXPECT_EQ(c.RingBytes(), uint64_t{1} << 20);
}

}  // namespace
}  // namespace tkmprom
