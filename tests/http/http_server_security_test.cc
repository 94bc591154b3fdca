// The HttpServer's protections over loopback: basic auth (401 / 200,
// /healthz open), TLS (served with a self-signed certificate openssl makes
// at test time, checked with curl; plain HTTP refused), security headers,
// and the per-address limit and idle timeout. Hostile clients (connection
// hogs, password guessers) are in http_server_hostile_test.cc.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "src/http/basic_auth.h"
#include "src/http/htpasswd.h"
#include "src/http/http_security.h"
#include "src/http/http_server.h"
#include "tests/http/http_test_client.h"
#include "tests/http/tls_test_files.h"

namespace tkmprom {
namespace {

constexpr char kUser[] = "prometheus";
constexpr char kPassword[] = "scrape-test-only-pw";
// base64("prometheus:scrape-test-only-pw")
constexpr char kGoodAuth[] = "Authorization: Basic cHJvbWV0aGV1czpzY3JhcGUtdGVzdC1vbmx5LXB3";
// base64("prometheus:wrong")
constexpr char kWrongPassword[] = "Authorization: Basic cHJvbWV0aGV1czp3cm9uZw==";
// base64("mallory:scrape-test-only-pw")
constexpr char kUnknownUser[] = "Authorization: Basic bWFsbG9yeTpzY3JhcGUtdGVzdC1vbmx5LXB3";

std::shared_ptr<const Snapshot> MakeSnapshot() {
  auto s = std::make_shared<Snapshot>();
  s->generation = 1;
  MetricFamily info;
  info.name = "tickrmeter_build_info";
  info.help = "Always 1.";
  info.samples = {{"", {{"version", "test"}}, 1}};
  s->families = {info};
  return s;
}

class HttpServerSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }

  void TearDown() override {
    server_.reset();
    if (listen_fd_ >= 0) close(listen_fd_);
  }

  void AddUser() {
    std::string line;
    ASSERT_TRUE(MakeHtpasswdLine(kUser, kPassword, &line)) << "htpasswd (apache2-utils) missing?";
    std::string error;
    ASSERT_TRUE(ParseHtpasswd(line + "\n", &security_.users, &error)) << error;
  }

  void AddCertificate() {
    Config c;
    ASSERT_TRUE(MakeSelfSignedCertificate(dir_.path(), "server", &cert_path_, &c.http_tls_key))
        << "openssl missing?";
    c.http_tls_cert = cert_path_;
    HttpSecurity loaded;
    ASSERT_EQ(LoadHttpSecurity(c, &loaded), "");
    security_.tls_cert_pem = loaded.tls_cert_pem;
    security_.tls_key_pem = loaded.tls_key_pem;
  }

  void Start(const HttpLimits& limits = HttpLimits()) {
    listen_fd_ = ListenOnLoopback(&port_);
    ASSERT_GE(listen_fd_, 0);
    server_ = std::make_unique<HttpServer>(Config(), &holder_, security_, limits, auth_options_);
    ASSERT_EQ(server_->Start(listen_fd_), "");
    holder_.Publish(MakeSnapshot());
  }

  TestHttpResponse Get(const std::string& target, const std::vector<std::string>& headers = {}) {
    TestHttpClient client(port_);
    return client.Request("GET", target, headers);
  }

  // curl over TLS, trusting only the test certificate: "<status> <body>".
  std::string Curl(const std::string& path, const std::string& extra = "") {
    std::string out;
    const std::string port = std::to_string(port_);
    RunCommand("curl -sS --max-time 10 --cacert '" + cert_path_ + "' --resolve localhost:" + port +
                   ":127.0.0.1 -w ' %{http_code}' " + extra + " https://localhost:" + port + path +
                   " 2>&1",
               &out);
    return out;
  }

  TempDir dir_;
  HttpSecurity security_;
  BasicAuthOptions auth_options_;
  std::string cert_path_;
  SnapshotHolder holder_;
  std::unique_ptr<HttpServer> server_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
};

void ExpectUnauthorized(const TestHttpResponse& r, const std::string& what) {
  EXPECT_EQ(r.status, 401) << what;
  EXPECT_EQ(r.Header("www-authenticate"), "Basic realm=\"tkmprom\"") << what;
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff") << what;
  EXPECT_EQ(r.Header("cache-control"), "no-store") << what;
  EXPECT_EQ(r.body.find("tickrmeter"), std::string::npos) << what;
}

TEST_F(HttpServerSecurityTest, EveryPathButHealthzNeedsCredentials) {
  AddUser();
  // More failures from one address than the lockout allows: this test is
  // about the 401 (the lockout's 429 is http_server_hostile_test's).
  auth_options_.throttle.failure_limit = 1000;
  Start();
  for (const char* path :
       {"/metrics", "/", "/api/v1/symbols/slowest", "/api/v1/devices/X", "/nope", "/healthz/x"}) {
    ExpectUnauthorized(Get(path), path);
    ExpectUnauthorized(Get(path, {kWrongPassword}), std::string(path) + " wrong password");
    ExpectUnauthorized(Get(path, {kUnknownUser}), std::string(path) + " unknown user");
    ExpectUnauthorized(Get(path, {"Authorization: Basic !!!"}), std::string(path) + " garbage");
    ExpectUnauthorized(Get(path, {"Authorization: Bearer abc"}), std::string(path) + " bearer");
  }
  // Not even the allowed methods are told to a stranger.
  TestHttpClient client(port_);
  ExpectUnauthorized(client.Request("POST", "/metrics", {}, false, "x"), "POST");
  TestHttpResponse health = Get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
}

TEST_F(HttpServerSecurityTest, RightCredentialsAreServed) {
  AddUser();
  Start();
  TestHttpResponse metrics = Get("/metrics", {kGoodAuth});
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("tickrmeter_build_info"), std::string::npos);
  TestHttpResponse json = Get("/api/v1/symbols/slowest", {kGoodAuth});
  ASSERT_EQ(json.status, 200);
  EXPECT_EQ(json.Header("content-type"), "application/json");
  EXPECT_EQ(json.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(json.Header("cache-control"), "no-store");
  EXPECT_EQ(Get("/api/v1/devices/NOPE", {kGoodAuth}).status, 404);
  EXPECT_EQ(Get("/", {kGoodAuth}).status, 200);
  EXPECT_EQ(Get("/healthz", {kGoodAuth}).status, 200);
  // Keeps working after the first (cached) success, and a wrong one still fails.
  EXPECT_EQ(Get("/metrics", {kGoodAuth}).status, 200);
  EXPECT_EQ(Get("/metrics", {kWrongPassword}).status, 401);
}

TEST_F(HttpServerSecurityTest, WithoutUsersNothingAsksForCredentials) {
  Start();
  TestHttpResponse r = Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("www-authenticate"), "");
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  TestHttpResponse json = Get("/api/v1/devices/NOPE");
  EXPECT_EQ(json.status, 404);
  EXPECT_EQ(json.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(json.Header("cache-control"), "no-store");
}

TEST_F(HttpServerSecurityTest, TlsServesHttpsAndRefusesPlainHttp) {
  AddCertificate();
  Start();
  EXPECT_EQ(Curl("/healthz"), "ok\n 200");
  EXPECT_NE(Curl("/metrics").find("tickrmeter_build_info"), std::string::npos);
  // Plain HTTP on the TLS port: the handshake fails, no HTTP answer comes.
  TestHttpResponse plain = Get("/healthz");
  EXPECT_EQ(plain.status, 0);
  const std::string raw = RawGet("127.0.0.1", port_, "/healthz");
  EXPECT_EQ(raw.rfind("HTTP/", 0), std::string::npos) << raw;
  // A client that does not trust the certificate refuses it.
  std::string untrusted;
  EXPECT_FALSE(RunCommand(
      "curl -sS --max-time 10 https://127.0.0.1:" + std::to_string(port_) + "/healthz 2>/dev/null",
      &untrusted));
}

TEST_F(HttpServerSecurityTest, TlsWithBasicAuth) {
  AddUser();
  AddCertificate();
  Start();
  EXPECT_EQ(Curl("/healthz"), "ok\n 200");
  EXPECT_EQ(Curl("/metrics", "-o /dev/null"), " 401");
  EXPECT_EQ(Curl("/metrics", "-o /dev/null -u prometheus:wrong"), " 401");
  EXPECT_EQ(Curl("/metrics", std::string("-o /dev/null -u ") + kUser + ":" + kPassword), " 200");
}

TEST_F(HttpServerSecurityTest, IdleConnectionsBeyondThePerIpLimitDoNotStopAScrape) {
  HttpLimits limits;
  limits.per_ip_connection_limit = 4;
  limits.connection_timeout_s = 5;
  Start(limits);
  // Twice the per-address limit, connected and silent.
  std::vector<int> idle;
  for (int i = 0; i < 8; ++i) {
    const int fd = ConnectFrom("127.0.0.1", port_);
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  // Each one beyond the limit closes the oldest of the address's: four stay.
  int closed_count = 0;
  for (int fd : idle) {
    bool closed = false;
    ReadUntilClosed(fd, 300, &closed);
    closed_count += closed ? 1 : 0;
  }
  EXPECT_EQ(closed_count, 4);
  // A scraper at another address is served meanwhile.
  const std::string answer = RawGet("127.0.0.2", port_, "/metrics");
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("tickrmeter_build_info"), std::string::npos);
  for (int fd : idle) close(fd);
}

TEST_F(HttpServerSecurityTest, IdleConnectionIsClosedAfterTheTimeout) {
  HttpLimits limits;
  limits.connection_timeout_s = 1;
  Start(limits);
  const int fd = ConnectFrom("127.0.0.1", port_);
  ASSERT_GE(fd, 0);
  // Half a request, then silence: a slow client.
  ASSERT_EQ(send(fd, "GET /metrics HTTP/1.1\r\n", 23, MSG_NOSIGNAL), 23);
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  const std::string answer = ReadUntilClosed(fd, 5000, &closed);
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  close(fd);
  EXPECT_TRUE(closed);
  EXPECT_EQ(answer, "");
  EXPECT_GE(waited, 0.5);
  EXPECT_LT(waited, 4.0);
  // And the server still answers.
  EXPECT_EQ(Get("/healthz").status, 200);
}

}  // namespace
}  // namespace tkmprom
