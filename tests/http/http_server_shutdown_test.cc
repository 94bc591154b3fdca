// Stopping the HttpServer while scrapes are in flight: the engine thread
// keeps publishing snapshots and preparing renders, HTTP threads render and
// send, and the owner stops (or destroys) the server in the middle. Nothing
// may crash, hang, race or leak, and a restarted server on the same socket
// serves complete bodies. Meant to run under ThreadSanitizer and
// AddressSanitizer too (scripts/test-hardening).
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "src/exposition/text_writer.h"
#include "src/http/http_server.h"
#include "tests/http/http_test_client.h"

namespace tkmprom {
namespace {

// Large enough (about 1 MB of text) that sending one body takes a while and
// fills the socket buffers of a client that does not read.
std::shared_ptr<const Snapshot> BigSnapshot(uint64_t generation) {
  auto s = std::make_shared<Snapshot>();
  s->generation = generation;
  MetricFamily requests;
  requests.name = "tickrmeter_stock_update_requests";
  requests.help = "Requests seen on STOCKPRICEUPDATE.";
  requests.type = MetricType::kCounter;
  for (int i = 0; i < 20000; ++i) {
    requests.samples.push_back(
        {"_total", {{"symbol", "SYMBOL" + std::to_string(i)}}, static_cast<double>(generation)});
  }
  s->families.push_back(std::move(requests));
  return s;
}

std::string Render(const Snapshot& snapshot) {
  std::string out;
  WriteExposition(snapshot.families, ExpositionFormat::kText004, &out);
  return out;
}

// Sends a /metrics request on a raw connection and never reads the answer.
int SendAndNeverRead(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // A small receive buffer, so the server's send blocks soon.
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  static constexpr char kRequest[] = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";
  if (write(fd, kRequest, sizeof(kRequest) - 1) != static_cast<ssize_t>(sizeof(kRequest) - 1)) {
    close(fd);
    return -1;
  }
  return fd;
}

class HttpServerShutdownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listen_fd_ = ListenOnLoopback(&port_);
    ASSERT_GE(listen_fd_, 0);
    server_ = std::make_unique<HttpServer>(config_, &holder_);
    ASSERT_EQ(server_->Start(listen_fd_), "");
  }

  void TearDown() override {
    server_.reset();
    if (listen_fd_ >= 0) close(listen_fd_);
  }

  // What the companion's engine thread does once per snapshot.
  void Publish(uint64_t generation) {
    std::shared_ptr<const Snapshot> snapshot = BigSnapshot(generation);
    holder_.Publish(snapshot);
    server_->PrepareRenders(snapshot);
  }

  Config config_;
  SnapshotHolder holder_;
  std::unique_ptr<HttpServer> server_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
};

TEST_F(HttpServerShutdownTest, StopDuringScrapesThenRestartServesCompleteBodies) {
  Publish(1);
  std::atomic<bool> stop_engine{false};
  std::atomic<uint64_t> published{1};
  std::thread engine([&] {
    for (uint64_t g = 2; !stop_engine.load(std::memory_order_relaxed); ++g) {
      Publish(g);
      published.store(g, std::memory_order_relaxed);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });

  std::atomic<int> completed{0};
  std::atomic<int> scrapers_done{0};
  std::atomic<bool> stop_scrapers{false};
  std::vector<std::thread> scrapers;
  for (int t = 0; t < 4; ++t) {
    scrapers.emplace_back([&, t] {
      while (!stop_scrapers.load(std::memory_order_relaxed)) {
        TestHttpClient client(port_);
        std::vector<std::string> headers;
        if (t % 2 == 1) headers.push_back("Accept-Encoding: gzip");
        // Fails (status 0) once the server has stopped; that is expected.
        if (client.Request("GET", "/metrics", headers).status == 200) {
          completed.fetch_add(1, std::memory_order_relaxed);
        }
      }
      scrapers_done.fetch_add(1, std::memory_order_relaxed);
    });
  }
  while (completed.load(std::memory_order_relaxed) < 8) std::this_thread::yield();
  const auto stop_started = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, std::chrono::seconds(15));
  stop_scrapers.store(true, std::memory_order_relaxed);
  // The caller's socket keeps listening after Stop() (a restarted server
  // serves on it), so a scrape that connected after Stop() waits in its
  // backlog: close those connections until every scraper has given up.
  while (scrapers_done.load(std::memory_order_relaxed) < static_cast<int>(scrapers.size())) {
    pollfd pending{listen_fd_, POLLIN, 0};
    if (poll(&pending, 1, 20) == 1) {
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd >= 0) close(fd);
    }
  }
  for (std::thread& t : scrapers) t.join();

  // The engine thread keeps preparing renders while the server is stopped.
  const uint64_t before = published.load(std::memory_order_relaxed);
  while (published.load(std::memory_order_relaxed) < before + 2) std::this_thread::yield();
  stop_engine.store(true, std::memory_order_relaxed);
  engine.join();

  ASSERT_EQ(server_->Start(listen_fd_), "");
  TestHttpClient client(port_);
  TestHttpResponse r = client.Request("GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, Render(*holder_.Get()));
}

TEST_F(HttpServerShutdownTest, DestroyWithResponsesStuckOnClientsThatDoNotRead) {
  Publish(1);
  std::vector<int> stuck;
  for (int i = 0; i < 4; ++i) {
    int fd = SendAndNeverRead(port_);
    ASSERT_GE(fd, 0);
    stuck.push_back(fd);
  }
  // Give the server time to start sending into the full buffers.
  TestHttpClient probe(port_);
  EXPECT_EQ(probe.Request("GET", "/healthz").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Publish(2);  // the cached body those responses point into is replaced

  const auto stop_started = std::chrono::steady_clock::now();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, std::chrono::seconds(15));
  for (int fd : stuck) close(fd);
}

}  // namespace
}  // namespace tkmprom
