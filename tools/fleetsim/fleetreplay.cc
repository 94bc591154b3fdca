// fleetreplay: a benchmark client. Reads a publish stream recorded by
// `fleetsim --dump` (JSON lines) and publishes it as fast as the broker takes
// it, at QoS 0 and without retain, over C connections (round robin; the
// recorded client ids are not used), then reports publishes sent and the
// rate achieved.
//
// One thread, one epoll loop, libmosquitto's external-loop API. A connection
// gets a new publish only while nothing is queued on it, so memory stays
// bounded and the rate measured is the rate the broker absorbed.
#include <getopt.h>
#include <mosquitto.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void HandleStop(int) { g_stop = 1; }

struct Message {
  std::string topic;
  std::string payload;
};

struct Connection {
  mosquitto* mosq = nullptr;
  int fd = -1;
  bool connected = false;
  bool failed = false;
  uint32_t events = 0;
  uint64_t sent = 0;
};

uint64_t g_sent = 0;

const char kUsage[] =
    "Usage: fleetreplay [OPTION]... FILE\n"
    "Publishes the stream recorded by 'fleetsim --dump FILE' as fast as possible\n"
    "(QoS 0, no retain) and reports publishes sent and the rate achieved.\n"
    "\n"
    "  --host H          broker address (127.0.0.1)\n"
    "  --port P          broker port (1883)\n"
    "  --connections C   connections to publish over, round robin (8)\n"
    "  --repeat N        publish the file N times (1)\n"
    "  --help            this text\n";

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void OnConnect(mosquitto*, void* obj, int rc) {
  auto* c = static_cast<Connection*>(obj);
  if (rc == 0) {
    c->connected = true;
  } else {
    c->failed = true;
  }
}

void OnDisconnect(mosquitto*, void* obj, int) {
  auto* c = static_cast<Connection*>(obj);
  c->connected = false;
  c->fd = -1;
  c->failed = true;
}

void OnPublish(mosquitto*, void* obj, int) {
  static_cast<Connection*>(obj)->sent++;
  ++g_sent;
}

void UpdateEvents(int epfd, Connection& c) {
  if (c.fd < 0 || mosquitto_socket(c.mosq) != c.fd) return;
  uint32_t want = EPOLLIN | (mosquitto_want_write(c.mosq) ? uint32_t{EPOLLOUT} : 0u);
  if (want == c.events) return;
  epoll_event ev{};
  ev.events = want;
  ev.data.ptr = &c;
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev) == 0) c.events = want;
}

// Waits up to `timeout_ms` and services every connection that is ready.
void Poll(int epfd, int timeout_ms) {
  epoll_event events[64];
  int n = epoll_wait(epfd, events, 64, timeout_ms);
  for (int i = 0; i < n; ++i) {
    auto& c = *static_cast<Connection*>(events[i].data.ptr);
    if (c.fd < 0) continue;
    if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) mosquitto_loop_read(c.mosq, 1);
    if (c.fd >= 0 && (events[i].events & EPOLLOUT)) mosquitto_loop_write(c.mosq, 1);
    UpdateEvents(epfd, c);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 1883, connections = 8, repeat = 1;
  static const struct option kLong[] = {{"host", required_argument, nullptr, 'h'},
                                        {"port", required_argument, nullptr, 'p'},
                                        {"connections", required_argument, nullptr, 'c'},
                                        {"repeat", required_argument, nullptr, 'r'},
                                        {"help", no_argument, nullptr, 'H'},
                                        {nullptr, 0, nullptr, 0}};
  int opt;
  while ((opt = getopt_long(argc, argv, "", kLong, nullptr)) != -1) {
    switch (opt) {
      case 'h':
        host = optarg;
        break;
      case 'p':
        port = std::atoi(optarg);
        break;
      case 'c':
        connections = std::atoi(optarg);
        break;
      case 'r':
        repeat = std::atoi(optarg);
        break;
      case 'H':
        std::fputs(kUsage, stdout);
        return 0;
      default:
        std::fputs("Try 'fleetreplay --help'.\n", stderr);
        return 2;
    }
  }
  if (optind + 1 != argc || port < 1 || port > 65535 || connections < 1 || connections > 1000 ||
      repeat < 1) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::ifstream in(argv[optind]);
  if (!in) {
    std::fprintf(stderr, "fleetreplay: cannot read %s\n", argv[optind]);
    return 1;
  }
  std::vector<Message> messages;
  std::string line;
  size_t line_no = 0;
  uint64_t bytes = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("topic") || !j.contains("payload")) {
      std::fprintf(stderr, "fleetreplay: %s:%zu: not a fleetsim dump line\n", argv[optind],
                   line_no);
      return 1;
    }
    messages.push_back({j["topic"].get<std::string>(), j["payload"].get<std::string>()});
    bytes += messages.back().payload.size();
  }
  if (messages.empty()) {
    std::fprintf(stderr, "fleetreplay: %s holds no publishes\n", argv[optind]);
    return 1;
  }
  std::signal(SIGINT, HandleStop);
  std::signal(SIGTERM, HandleStop);
  std::signal(SIGPIPE, SIG_IGN);

  mosquitto_lib_init();
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  std::vector<Connection> conns(connections);
  for (int i = 0; i < connections; ++i) {
    Connection& c = conns[i];
    std::string id = "fleetreplay-" + std::to_string(getpid()) + "-" + std::to_string(i);
    c.mosq = mosquitto_new(id.c_str(), true, &c);
    mosquitto_int_option(c.mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(c.mosq, OnConnect);
    mosquitto_disconnect_callback_set(c.mosq, OnDisconnect);
    mosquitto_publish_callback_set(c.mosq, OnPublish);
    if (mosquitto_connect_async(c.mosq, host.c_str(), port, 60) != MOSQ_ERR_SUCCESS) {
      std::fprintf(stderr, "fleetreplay: cannot connect to %s:%d\n", host.c_str(), port);
      return 1;
    }
    c.fd = mosquitto_socket(c.mosq);
    c.events = EPOLLIN | EPOLLOUT;
    epoll_event ev{};
    ev.events = c.events;
    ev.data.ptr = &c;
    epoll_ctl(epfd, EPOLL_CTL_ADD, c.fd, &ev);
  }
  auto wait_start = std::chrono::steady_clock::now();
  for (;;) {
    int up = 0, failed = 0;
    for (const Connection& c : conns) {
      up += c.connected;
      failed += c.failed;
    }
    if (failed) {
      std::fprintf(stderr, "fleetreplay: a connection to %s:%d failed\n", host.c_str(), port);
      return 1;
    }
    if (up == connections) break;
    if (Seconds(wait_start) > 10 || g_stop) {
      std::fprintf(stderr, "fleetreplay: connections not up after 10 s\n");
      return 1;
    }
    Poll(epfd, 50);
  }

  const uint64_t total = static_cast<uint64_t>(messages.size()) * static_cast<uint64_t>(repeat);
  uint64_t next = 0;
  auto start = std::chrono::steady_clock::now();
  double last_report = 0;
  while (g_sent < total && !g_stop) {
    bool any = false;
    for (Connection& c : conns) {
      if (!c.connected) continue;
      // Up to a small batch while nothing is queued on this connection.
      for (int k = 0; k < 32 && next < total && !mosquitto_want_write(c.mosq); ++k) {
        const Message& m = messages[next % messages.size()];
        if (mosquitto_publish(c.mosq, nullptr, m.topic.c_str(), static_cast<int>(m.payload.size()),
                              m.payload.data(), 0, false) != MOSQ_ERR_SUCCESS) {
          break;
        }
        ++next;
        any = true;
      }
      UpdateEvents(epfd, c);
    }
    bool alive = false;
    for (const Connection& c : conns) alive |= c.connected;
    if (!alive) {
      std::fprintf(stderr, "fleetreplay: all connections lost\n");
      break;
    }
    Poll(epfd, any ? 0 : 10);
    double t = Seconds(start);
    if (t - last_report >= 1) {
      last_report = t;
      std::fprintf(stderr, "fleetreplay: %llu/%llu sent, %.0f msg/s\n",
                   static_cast<unsigned long long>(g_sent), static_cast<unsigned long long>(total),
                   static_cast<double>(g_sent) / t);
    }
  }
  double elapsed = Seconds(start);
  for (Connection& c : conns) {
    if (c.connected) mosquitto_disconnect(c.mosq);
  }
  for (int i = 0; i < 20; ++i) Poll(epfd, 10);
  for (Connection& c : conns) mosquitto_destroy(c.mosq);
  close(epfd);
  mosquitto_lib_cleanup();
  std::printf(
      "{\"publishes\":%llu,\"planned\":%llu,\"seconds\":%.6f,\"rate_per_second\":%.1f,"
      "\"payload_bytes\":%llu,\"connections\":%d}\n",
      static_cast<unsigned long long>(g_sent), static_cast<unsigned long long>(total), elapsed,
      static_cast<double>(g_sent) / elapsed,
      static_cast<unsigned long long>(bytes * static_cast<uint64_t>(repeat)), connections);
  return g_sent == total ? 0 : 1;
}
