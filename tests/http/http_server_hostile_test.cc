// Hostile HTTP clients over loopback (issue 13): connections that hold a
// place without asking for anything (at the connection limit, or sharing
// the scraper's address), headers that trickle in a byte at a time, and
// password guessers whose bcrypt checks must not keep another address out.
// Deadlines are injected short (HttpLimits) so that no test waits long.
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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
// base64("prometheus:guess-1") and base64("prometheus:guess-2")
constexpr char kGuess1[] = "Authorization: Basic cHJvbWV0aGV1czpndWVzcy0x";
constexpr char kGuess2[] = "Authorization: Basic cHJvbWV0aGV1czpndWVzcy0y";

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

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

bool IsOk(const std::string& answer) { return answer.rfind("HTTP/1.1 200", 0) == 0; }

// The value of `name` in a raw answer's head, "" when absent.
std::string HeaderOf(const std::string& answer, const std::string& name) {
  const std::string key = "\r\n" + name + ": ";
  const size_t at = answer.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  return answer.substr(start, answer.find("\r\n", start) - start);
}

// Holds every check of a password starting with "guess" until Release() (a
// slow bcrypt that the test controls); real bcrypt for the others.
class GatedVerifier {
 public:
  BasicAuthOptions Options() {
    BasicAuthOptions o;
    o.verifier = [this](const std::string& password, const std::string& hash) {
      if (password.rfind("guess", 0) == 0) {
        std::unique_lock<std::mutex> lock(mu_);
        ++held_;
        cv_.notify_all();
        // Bounded, so a failing test cannot hang.
        cv_.wait_for(lock, std::chrono::seconds(10), [this] { return released_; });
        return false;
      }
      return BcryptVerify(password, hash);
    };
    return o;
  }

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

class HttpServerHostileTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (int fd : hogs_) close(fd);
    server_.reset();
    if (listen_fd_ >= 0) close(listen_fd_);
  }

  void AddUser() {
    std::string line;
    ASSERT_TRUE(MakeHtpasswdLine(kUser, kPassword, &line)) << "htpasswd (apache2-utils) missing?";
    std::string error;
    ASSERT_TRUE(ParseHtpasswd(line + "\n", &security_.users, &error)) << error;
  }

  void Start(const HttpLimits& limits, const BasicAuthOptions& auth_options = BasicAuthOptions()) {
    listen_fd_ = ListenOnLoopback(&port_);
    ASSERT_GE(listen_fd_, 0);
    server_ = std::make_unique<HttpServer>(Config(), &holder_, security_, limits, auth_options);
    ASSERT_EQ(server_->Start(listen_fd_), "");
    holder_.Publish(MakeSnapshot());
  }

  // Opens `n` silent connections from `source` and waits until the server
  // has seen every connection it is going to keep.
  void OpenHogs(const char* source, int n) {
    for (int i = 0; i < n; ++i) {
      const int fd = ConnectFrom(source, port_);
      ASSERT_GE(fd, 0);
      hogs_.push_back(fd);
    }
    WaitUntilSettled(n);
  }

  // Until the server has accepted `accepted` connections in all, or two
  // seconds passed.
  void WaitUntilSettled(uint64_t accepted) {
    const auto deadline = Clock::now() + std::chrono::seconds(2);
    while (server_->connection_counts().opened < accepted && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // Which of the hogs the server closed, waiting up to `timeout_ms` for each.
  std::vector<bool> HogsClosed(int timeout_ms) {
    std::vector<bool> closed;
    for (int fd : hogs_) {
      bool c = false;
      ReadUntilClosed(fd, timeout_ms, &c);
      closed.push_back(c);
    }
    return closed;
  }

  HttpSecurity security_;
  SnapshotHolder holder_;
  std::unique_ptr<HttpServer> server_;
  std::vector<int> hogs_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
};

TEST_F(HttpServerHostileTest, AtTheConnectionLimitAScrapeClosesTheOldestIdleConnection) {
  HttpLimits limits;
  limits.connection_limit = 8;
  limits.per_ip_connection_limit = 0;
  Start(limits);
  OpenHogs("127.0.0.1", 8);
  ASSERT_EQ(server_->connection_counts().live, 8u);
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    const std::string answer = RawGet("127.0.0.3", port_, "/metrics");
    EXPECT_TRUE(IsOk(answer)) << i << ": " << answer;
    EXPECT_NE(answer.find("tickrmeter_build_info"), std::string::npos);
    EXPECT_LT(SecondsSince(start), 1.0);
  }
  // The first scrape closed the oldest silent connection; the later ones
  // found the room the finished scrapes left (or, when they came before
  // libmicrohttpd reported the previous one closed, closed another).
  const std::vector<bool> closed = HogsClosed(300);
  EXPECT_TRUE(closed[0]);
  EXPECT_GE(std::count(closed.begin(), closed.end(), true), 1);
  EXPECT_EQ(server_->connection_counts().evicted,
            static_cast<uint64_t>(std::count(closed.begin(), closed.end(), true)));
  EXPECT_EQ(server_->connection_counts().refused, 0u);
}

TEST_F(HttpServerHostileTest, HogsSharingTheScrapersAddressDoNotKeepItOut) {
  HttpLimits limits;
  limits.per_ip_connection_limit = 4;
  Start(limits);
  OpenHogs("127.0.0.1", 12);
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    const std::string answer = RawGet("127.0.0.1", port_, "/metrics");
    EXPECT_TRUE(IsOk(answer)) << i << ": " << answer;
    EXPECT_LT(SecondsSince(start), 1.0);
  }
  // 8 hogs closed as the others came, and at least one more for the scrapes.
  const std::vector<bool> closed = HogsClosed(300);
  EXPECT_GE(std::count(closed.begin(), closed.end(), true), 9);
  EXPECT_TRUE(closed[0]);
}

TEST_F(HttpServerHostileTest, TricklingHeadersAreClosedAtTheTotalDeadline) {
  HttpLimits limits;
  limits.connection_timeout_s = 10;  // never reached: a byte comes every 100 ms
  limits.header_deadline_ms = 1000;
  Start(limits);
  const int fd = ConnectFrom("127.0.0.1", port_);
  ASSERT_GE(fd, 0);
  const auto start = Clock::now();
  const std::string head = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
  size_t sent = 0;
  bool closed = false;
  while (!closed && SecondsSince(start) < 5.0) {
    const char byte = sent < head.size() ? head[sent] : 'a';
    if (send(fd, &byte, 1, MSG_NOSIGNAL) != 1) break;
    ++sent;
    const std::string answer = ReadUntilClosed(fd, 100, &closed);
    EXPECT_EQ(answer, "");
  }
  const double waited = SecondsSince(start);
  close(fd);
  EXPECT_GE(sent, 8u);  // bytes kept coming until the end
  EXPECT_GE(waited, 0.9);
  EXPECT_LT(waited, 2.5);
  EXPECT_EQ(server_->connection_counts().overdue, 1u);
  // A request whose headers come at once is served as ever.
  EXPECT_TRUE(IsOk(RawGet("127.0.0.1", port_, "/healthz")));
}

TEST_F(HttpServerHostileTest, TheDeadlinesSurviveAReload) {
  HttpLimits limits;
  limits.connection_limit = 4;
  limits.per_ip_connection_limit = 0;
  limits.header_deadline_ms = 500;
  Start(limits);
  ASSERT_EQ(server_->Reload(security_), "");
  OpenHogs("127.0.0.1", 4);
  EXPECT_TRUE(IsOk(RawGet("127.0.0.2", port_, "/healthz")));
  const std::vector<bool> closed = HogsClosed(1500);
  EXPECT_EQ(std::count(closed.begin(), closed.end(), true), 4);  // one evicted, three overdue
}

TEST_F(HttpServerHostileTest, AGuessingAddressHoldsOneBcryptSlotAndAnotherAddressIsServed) {
  AddUser();
  GatedVerifier gate;
  Start(HttpLimits(), gate.Options());
  std::string first_guess;
  std::thread guesser([&] { first_guess = RawGet("127.0.0.1", port_, "/metrics", {kGuess1}); });
  ASSERT_TRUE(gate.WaitHeld(1));

  // The guesser's address may not start a second check meanwhile...
  const std::string second_guess = RawGet("127.0.0.1", port_, "/metrics", {kGuess2});
  EXPECT_EQ(second_guess.rfind("HTTP/1.1 429", 0), 0u) << second_guess;
  EXPECT_EQ(HeaderOf(second_guess, "Retry-After"), "1");
  // ...and another address is checked at once, uncached.
  const auto start = Clock::now();
  const std::string scrape = RawGet("127.0.0.2", port_, "/metrics", {kGoodAuth});
  EXPECT_TRUE(IsOk(scrape)) << scrape;
  EXPECT_LT(SecondsSince(start), 1.0);

  gate.Release();
  guesser.join();
  EXPECT_EQ(first_guess.rfind("HTTP/1.1 401", 0), 0u) << first_guess;
}

TEST_F(HttpServerHostileTest, RepeatedFailuresFromOneAddressAre429WhileAnotherGets200) {
  AddUser();
  Start(HttpLimits());  // real bcrypt; five failures a minute per address
  for (int i = 0; i < 5; ++i) {
    const std::string answer = RawGet("127.0.0.1", port_, "/metrics", {kGuess1});
    EXPECT_EQ(answer.rfind("HTTP/1.1 401", 0), 0u) << i << ": " << answer;
  }
  const std::string locked = RawGet("127.0.0.1", port_, "/metrics", {kGuess2});
  EXPECT_EQ(locked.rfind("HTTP/1.1 429", 0), 0u) << locked;
  const int retry_after = std::atoi(HeaderOf(locked, "Retry-After").c_str());
  EXPECT_GE(retry_after, 55);
  EXPECT_LE(retry_after, 60);
  EXPECT_EQ(HeaderOf(locked, "WWW-Authenticate"), "");
  // Locked out: not even the right password, while another address is served.
  EXPECT_EQ(RawGet("127.0.0.1", port_, "/metrics", {kGoodAuth}).rfind("HTTP/1.1 429", 0), 0u);
  EXPECT_TRUE(IsOk(RawGet("127.0.0.2", port_, "/metrics", {kGoodAuth})));
  // /healthz needs no credentials, so it is no one's to lock.
  EXPECT_TRUE(IsOk(RawGet("127.0.0.1", port_, "/healthz")));
}

}  // namespace
}  // namespace tkmprom
