// Talks real HTTP, over loopback, to an HttpServer serving a hand-built
// Snapshot.
#include "src/http/http_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "src/exposition/text_writer.h"
#include "tests/http/http_test_client.h"

namespace tkmprom {
namespace {

using Json = nlohmann::json;

constexpr char kAcceptOpenMetrics[] =
    "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";

std::vector<MetricFamily> Families(double scale) {
  MetricFamily requests;
  requests.name = "tickrmeter_stock_update_requests";
  requests.help = "Requests seen on STOCKPRICEUPDATE.";
  requests.type = MetricType::kCounter;
  requests.samples = {{"_total", {{"symbol", "AAPL"}}, 12 * scale},
                      {"_total", {{"symbol", "BTC/USD"}}, 3 * scale}};
  MetricFamily avg;
  avg.name = "tickrmeter_symbol_avg_latency_seconds";
  avg.help = "Mean latency of answers in the last quantile_window.";
  avg.type = MetricType::kGauge;
  avg.samples = {{"", {{"symbol", "AAPL"}}, 0.25 * scale},
                 {"", {{"symbol", "BTC/USD"}}, std::numeric_limits<double>::quiet_NaN()}};
  MetricFamily info;
  info.name = "tickrmeter_build_info";
  info.help = "Always 1.";
  info.samples = {{"", {{"version", "test"}, {"mosquitto_version", "2.0.11"}}, 1}};
  return {requests, avg, info};
}

std::shared_ptr<const Snapshot> MakeSnapshot(uint64_t generation, double scale) {
  auto s = std::make_shared<Snapshot>();
  s->generation = generation;
  s->families = Families(scale);
  SymbolWindow slow{"SLOW", 2.0, 3.0, 0.0, 20, {}};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  SymbolWindow timeouts{"TMO", nan, nan, 0.5, 12, {}};
  SymbolWindow fast{"FAST", 0.1, 0.2, 0.0, 100, {}};
  SymbolWindow rare{"RARE", 9.0, 9.0, 0.0, 2, {}};
  s->symbols = {fast, slow, rare, timeouts};
  DeviceState d;
  d.device_id = "A1B2C3D4E5F6";
  d.online = true;
  d.battery = 55;
  s->devices.push_back(d);
  return s;
}

std::string Render(const std::vector<MetricFamily>& families, ExpositionFormat format) {
  std::string out;
  WriteExposition(families, format, &out);
  return out;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listen_fd_ = ListenOnLoopback(&port_);
    ASSERT_GE(listen_fd_, 0);
    config_.ranking_min_requests = 10;
    server_ = std::make_unique<HttpServer>(config_, &holder_);
    ASSERT_EQ(server_->Start(listen_fd_), "");
  }

  void TearDown() override {
    server_.reset();
    if (listen_fd_ >= 0) close(listen_fd_);
  }

  void Publish(std::shared_ptr<const Snapshot> snapshot) {
    holder_.Publish(snapshot);
    server_->PrepareRenders(snapshot);
  }

  TestHttpResponse Get(const std::string& target, const std::vector<std::string>& headers = {}) {
    TestHttpClient client(port_);
    return client.Request("GET", target, headers);
  }

  Config config_;
  SnapshotHolder holder_;
  std::unique_ptr<HttpServer> server_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
};

TEST_F(HttpServerTest, MetricsIsServiceUnavailableBeforeFirstSnapshot) {
  TestHttpResponse r = Get("/metrics");
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(r.body.empty());
  EXPECT_EQ(r.Header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(Get("/api/v1/symbols/slowest").status, 503);
  EXPECT_EQ(Get("/healthz").status, 200);
}

TEST_F(HttpServerTest, MetricsServesTextExposition) {
  Publish(MakeSnapshot(1, 1));
  TestHttpResponse r = Get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Render(Families(1), ExpositionFormat::kText004));
  EXPECT_EQ(r.Header("content-type"), ContentType(ExpositionFormat::kText004));
  EXPECT_EQ(r.Header("content-encoding"), "");
  EXPECT_EQ(r.Header("vary"), "Accept, Accept-Encoding");
  EXPECT_EQ(r.Header("content-length"), std::to_string(r.body.size()));
}

TEST_F(HttpServerTest, MetricsGzipInflatesToTheSameText) {
  Publish(MakeSnapshot(1, 1));
  TestHttpResponse r = Get("/metrics", {"Accept-Encoding: gzip, deflate"});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-encoding"), "gzip");
  EXPECT_EQ(r.Header("vary"), "Accept, Accept-Encoding");
  EXPECT_EQ(r.Header("content-type"), ContentType(ExpositionFormat::kText004));
  std::string inflated;
  ASSERT_TRUE(GunzipForTest(r.body, &inflated));
  EXPECT_EQ(inflated, Render(Families(1), ExpositionFormat::kText004));
}

TEST_F(HttpServerTest, MetricsServesOpenMetricsWhenAccepted) {
  Publish(MakeSnapshot(1, 1));
  std::string expected = Render(Families(1), ExpositionFormat::kOpenMetrics100);
  TestHttpResponse r = Get("/metrics", {kAcceptOpenMetrics});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), ContentType(ExpositionFormat::kOpenMetrics100));
  EXPECT_EQ(r.body, expected);

  TestHttpResponse gz = Get("/metrics", {kAcceptOpenMetrics, "Accept-Encoding: gzip"});
  ASSERT_EQ(gz.status, 200);
  EXPECT_EQ(gz.Header("content-encoding"), "gzip");
  std::string inflated;
  ASSERT_TRUE(GunzipForTest(gz.body, &inflated));
  EXPECT_EQ(inflated, expected);
}

TEST_F(HttpServerTest, HeadAnswersHeadersOnlyWithTheBodysLength) {
  Publish(MakeSnapshot(1, 1));
  for (bool gzip : {false, true}) {
    std::vector<std::string> headers;
    if (gzip) headers.push_back("Accept-Encoding: gzip");
    TestHttpResponse get = Get("/metrics", headers);
    ASSERT_EQ(get.status, 200);

    // HEAD then GET on one kept-alive connection: a body sent after the HEAD
    // headers would be read as the GET's status line.
    TestHttpClient client(port_);
    TestHttpResponse head = client.Request("HEAD", "/metrics", headers, /*keep_alive=*/true);
    ASSERT_EQ(head.status, 200);
    EXPECT_EQ(head.Header("content-length"), std::to_string(get.body.size()));
    EXPECT_EQ(head.Header("content-type"), get.Header("content-type"));
    EXPECT_EQ(head.Header("content-encoding"), get.Header("content-encoding"));
    TestHttpResponse again = client.Request("GET", "/metrics", headers, /*keep_alive=*/true);
    ASSERT_EQ(again.status, 200);
    EXPECT_EQ(again.body, get.body);
  }
}

TEST_F(HttpServerTest, ServesNewerSnapshotAfterPublish) {
  Publish(MakeSnapshot(1, 1));
  EXPECT_EQ(Get("/metrics").body, Render(Families(1), ExpositionFormat::kText004));
  EXPECT_EQ(Get("/metrics", {kAcceptOpenMetrics}).body,
            Render(Families(1), ExpositionFormat::kOpenMetrics100));

  Publish(MakeSnapshot(2, 7));
  EXPECT_EQ(Get("/metrics").body, Render(Families(7), ExpositionFormat::kText004));
  EXPECT_EQ(Get("/metrics", {kAcceptOpenMetrics}).body,
            Render(Families(7), ExpositionFormat::kOpenMetrics100));
  std::string inflated;
  ASSERT_TRUE(GunzipForTest(Get("/metrics", {"Accept-Encoding: gzip"}).body, &inflated));
  EXPECT_EQ(inflated, Render(Families(7), ExpositionFormat::kText004));
}

TEST_F(HttpServerTest, ServesPublishedSnapshotEvenWithoutPrepare) {
  holder_.Publish(MakeSnapshot(5, 3));
  EXPECT_EQ(Get("/metrics").body, Render(Families(3), ExpositionFormat::kText004));
}

TEST_F(HttpServerTest, Healthz) {
  TestHttpResponse r = Get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
}

// The engine thread stores its loop time; /healthz tells a stalled engine
// (plugin-contract.md §7.1) from a live one.
TEST_F(HttpServerTest, HealthzAnswers503WhileTheEngineIsStalled) {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  std::atomic<int64_t> last_loop_ns{now};
  server_->set_liveness(&last_loop_ns);
  EXPECT_EQ(Get("/healthz").status, 200);
  last_loop_ns.store(now - int64_t{12} * 1000000000);
  TestHttpResponse r = Get("/healthz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "engine stalled 12 s\n");
  last_loop_ns.store(now - int64_t{9} * 1000000000);
  EXPECT_EQ(Get("/healthz").status, 200);
  server_->set_liveness(nullptr);
}

// SIGHUP's reload restarts the daemon on the same socket with new users.
TEST_F(HttpServerTest, ReloadServesWithTheNewUsersOnTheSameSocket) {
  Publish(MakeSnapshot(1, 1));
  ASSERT_EQ(Get("/metrics").status, 200);
  HttpSecurity security;
  // bcrypt of "pw" at cost 4 (htpasswd -nbB -C 4 u pw).
  security.users = {{"u", "$2y$04$YyUqldVBF3bEPegVk.tvROnVv4wLtznqpFFgiOdkw3RmNEZUeyL.O"}};
  ASSERT_EQ(server_->Reload(security), "");
  EXPECT_EQ(Get("/metrics").status, 401);
  EXPECT_EQ(Get("/metrics", {"Authorization: Basic dTpwdw=="}).status, 200);
  EXPECT_EQ(Get("/healthz").status, 200);
  ASSERT_EQ(server_->Reload(HttpSecurity()), "");
  EXPECT_EQ(Get("/metrics").status, 200);
}

TEST_F(HttpServerTest, LandingPage) {
  TestHttpResponse r = Get("/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  EXPECT_NE(r.Header("content-security-policy").find("default-src 'none'"), std::string::npos);
  for (const char* link : {"href=\"/metrics\"", "href=\"/healthz\"",
                           "href=\"/api/v1/symbols/slowest\"", "/api/v1/devices/"}) {
    EXPECT_NE(r.body.find(link), std::string::npos) << link;
  }
}

TEST_F(HttpServerTest, UnknownPathsAreNotFound) {
  Publish(MakeSnapshot(1, 1));
  for (const char* path : {"/nope", "/metrics/", "/metricsx", "/api/v1/symbols", "/api/v1/devices",
                           "/healthz/x", "//"}) {
    EXPECT_EQ(Get(path).status, 404) << path;
  }
}

// A scraper reuses its connection: the answer must not close it, also for a
// GET that carries a body (dropped).
TEST_F(HttpServerTest, ConnectionStaysOpenForTheNextScrape) {
  Publish(MakeSnapshot(1, 1));
  TestHttpClient client(port_);
  for (int i = 0; i < 3; ++i) {
    TestHttpResponse r =
        client.Request("GET", "/metrics", {}, /*keep_alive=*/true, i == 1 ? "ignored body" : "");
    ASSERT_EQ(r.status, 200) << i;
    EXPECT_EQ(r.body, Render(Families(1), ExpositionFormat::kText004)) << i;
    EXPECT_NE(r.Header("connection"), "close") << i;
  }
}

int64_t MonotonicNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<const Snapshot> Published(uint64_t generation, double scale, int64_t at_ns) {
  auto s = std::make_shared<Snapshot>(*MakeSnapshot(generation, scale));
  s->published_ns = at_ns;
  return s;
}

// The engine's part: waits for a request, then publishes snapshot
// `generation` (MakeSnapshot(generation, generation)), published now.
std::thread AnswerOneRequest(SnapshotHolder* holder, uint64_t generation) {
  return std::thread([holder, generation] {
    while (!holder->Requested()) holder->WaitForRequest(1'000'000'000);
    holder->Publish(Published(generation, static_cast<double>(generation), MonotonicNow()));
  });
}

// With an engine serving requests, a snapshot older than snapshot_max_age
// (1 s) is not served: the request asks for a new one and gets it; one
// within the bound is served as it is.
TEST_F(HttpServerTest, AnOldSnapshotIsReplacedOnDemand) {
  holder_.ServeRequests();
  Publish(Published(1, 1, MonotonicNow()));
  EXPECT_EQ(Get("/metrics").body, Render(Families(1), ExpositionFormat::kText004));
  EXPECT_FALSE(holder_.Requested());

  Publish(Published(2, 2, MonotonicNow() - 5'000'000'000));
  std::thread engine = AnswerOneRequest(&holder_, 3);
  TestHttpResponse r = Get("/metrics");
  engine.join();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Render(Families(3), ExpositionFormat::kText004));
}

TEST_F(HttpServerTest, ARenderedSnapshotIsLetGoAndItsBodiesServeTheBound) {
  holder_.ServeRequests();
  Publish(Published(1, 1, MonotonicNow()));
  EXPECT_EQ(holder_.Get(), nullptr) << "rendered: the holder let go of it";
  EXPECT_EQ(Get("/metrics").body, Render(Families(1), ExpositionFormat::kText004));
  EXPECT_FALSE(holder_.Requested()) << "served from the bodies, within the bound";

  // The JSON API reads the snapshot itself: it asks the engine for one.
  std::thread engine = AnswerOneRequest(&holder_, 2);
  TestHttpResponse r = Get("/api/v1/symbols/slowest");
  engine.join();
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json::parse(r.body)[0]["symbol"], "TMO");
  EXPECT_EQ(holder_.Get()->generation, 2u) << "not rendered: kept";
}

TEST_F(HttpServerTest, WhenNoSnapshotComesTheLastRenderIsServed) {
  holder_.ServeRequests();
  // Rendered and let go; older than the bound, and no engine answers.
  Publish(Published(1, 1, MonotonicNow() - 5'000'000'000));
  ASSERT_EQ(holder_.Get(), nullptr);
  TestHttpResponse r = Get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Render(Families(1), ExpositionFormat::kText004));
}

TEST_F(HttpServerTest, OtherMethodsAreNotAllowed) {
  Publish(MakeSnapshot(1, 1));
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
    TestHttpClient client(port_);
    TestHttpResponse r = client.Request(method, "/metrics", {}, false, "{\"x\":1}");
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.Header("allow"), "GET, HEAD") << method;
  }
}

TEST_F(HttpServerTest, SlowestSymbolsJson) {
  Publish(MakeSnapshot(1, 1));
  TestHttpResponse r = Get("/api/v1/symbols/slowest");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  Json all = Json::parse(r.body);
  // TMO scores 0 + 10 * 0.5 = 5; RARE has fewer than ranking_min_requests.
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]["symbol"], "TMO");
  EXPECT_TRUE(all[0]["avg_latency_seconds"].is_null());
  EXPECT_EQ(all[1]["symbol"], "SLOW");
  EXPECT_EQ(all[2]["symbol"], "FAST");

  Json one = Json::parse(Get("/api/v1/symbols/slowest?limit=1").body);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["symbol"], "TMO");
  EXPECT_EQ(Json::parse(Get("/api/v1/symbols/slowest?limit=0").body).size(), 1u);
  EXPECT_EQ(Json::parse(Get("/api/v1/symbols/slowest?limit=100000").body).size(), 3u);

  TestHttpResponse bad = Get("/api/v1/symbols/slowest?limit=ten");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Header("content-type"), "application/json");
  EXPECT_TRUE(Json::parse(bad.body).contains("error"));
  EXPECT_EQ(Get("/api/v1/symbols/slowest?limit=").status, 400);
}

TEST_F(HttpServerTest, DeviceJson) {
  Publish(MakeSnapshot(1, 1));
  TestHttpResponse r = Get("/api/v1/devices/A1B2C3D4E5F6");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  Json device = Json::parse(r.body);
  EXPECT_EQ(device["device_id"], "A1B2C3D4E5F6");
  EXPECT_EQ(device["battery"], 55);
  EXPECT_TRUE(device["vin"].is_null());

  for (const char* path : {"/api/v1/devices/FFFFFFFFFFFF", "/api/v1/devices/"}) {
    TestHttpResponse missing = Get(path);
    EXPECT_EQ(missing.status, 404) << path;
    EXPECT_EQ(missing.Header("content-type"), "application/json");
    EXPECT_TRUE(Json::parse(missing.body).contains("error"));
  }
}

TEST_F(HttpServerTest, StopLeavesTheCallersSocketListening) {
  Publish(MakeSnapshot(1, 1));
  ASSERT_EQ(Get("/healthz").status, 200);
  server_->Stop();
  server_->Stop();  // idempotent

  int flags = fcntl(listen_fd_, F_GETFL);
  ASSERT_GE(flags, 0) << "descriptor closed";
  EXPECT_EQ(flags & O_NONBLOCK, 0) << "blocking mode not restored";

  // The kernel still queues connections on it, and accept() takes them.
  int client = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  int accepted = accept(listen_fd_, nullptr, nullptr);
  EXPECT_GE(accepted, 0);
  if (accepted >= 0) close(accepted);
  close(client);

  // A new server (a restarted companion) serves on the same socket.
  HttpServer again(config_, &holder_);
  ASSERT_EQ(again.Start(listen_fd_), "");
  EXPECT_EQ(Get("/metrics").body, Render(Families(1), ExpositionFormat::kText004));
}

TEST_F(HttpServerTest, StartTwiceFails) { EXPECT_NE(server_->Start(listen_fd_), ""); }

TEST_F(HttpServerTest, StartRejectsWhatIsNotAListeningTcpSocket) {
  HttpServer other(config_, &holder_);
  EXPECT_NE(other.Start(-1), "");

  int unbound = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_EQ(other.Start(unbound), "HTTP listening socket is not listening");
  EXPECT_GE(fcntl(unbound, F_GETFD), 0);
  close(unbound);

  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  EXPECT_EQ(other.Start(udp), "HTTP listening socket is not a TCP socket");
  close(udp);

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  EXPECT_NE(other.Start(pipe_fds[0]), "");
  close(pipe_fds[0]);
  close(pipe_fds[1]);
}

TEST_F(HttpServerTest, ConcurrentScrapesWhileSnapshotsChange) {
  Publish(MakeSnapshot(1, 1));
  std::vector<std::string> valid;
  for (int g = 1; g <= 20; ++g) valid.push_back(Render(Families(g), ExpositionFormat::kText004));
  std::atomic<int> failures{0};
  std::atomic<int> scrapes{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 4; ++t) {
    scrapers.emplace_back([&, t] {
      TestHttpClient client(port_);
      while (!done.load(std::memory_order_relaxed)) {
        std::vector<std::string> headers;
        if (t % 2 == 1) headers.push_back("Accept-Encoding: gzip");
        TestHttpResponse r = client.Request("GET", "/metrics", headers, /*keep_alive=*/true);
        std::string body = r.body;
        if (t % 2 == 1 && !GunzipForTest(r.body, &body)) body.clear();
        if (r.status != 200 || std::find(valid.begin(), valid.end(), body) == valid.end()) {
          failures.fetch_add(1, std::memory_order_relaxed);
        }
        scrapes.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (int g = 2; g <= 20; ++g) {
    Publish(MakeSnapshot(g, g));
    // Let every generation be scraped a few times before the next one.
    int target = scrapes.load(std::memory_order_relaxed) + 8;
    while (scrapes.load(std::memory_order_relaxed) < target) std::this_thread::yield();
  }
  done.store(true, std::memory_order_relaxed);
  for (std::thread& t : scrapers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Get("/metrics").body, valid.back());
}

}  // namespace
}  // namespace tkmprom
