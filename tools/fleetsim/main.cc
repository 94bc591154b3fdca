// fleetsim: a TickrMeter fleet and its backend against an MQTT broker, or
// recorded to a file (--dump); writes the ground truth summary as JSON.
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>

#include "dump_transport.h"
#include "fleet_simulation.h"
#include "mqtt_transport.h"
#include "options.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

void HandleStop(int) { g_stop = 1; }

// Each connected libmosquitto client holds a socket plus an internal socket
// pair. Asks for room for every client at once; if the hard limit is lower,
// takes the hard limit and warns (only connected clients hold descriptors,
// so 8,000 devices with 30 % sleeping battery devices fit in 20,000).
void RaiseFileLimit(rlim_t wanted) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur >= wanted) return;
  rlimit want = rl;
  want.rlim_cur = wanted;
  if (want.rlim_max < wanted) want.rlim_max = wanted;
  if (setrlimit(RLIMIT_NOFILE, &want) == 0) return;
  want = rl;
  want.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &want);
  std::fprintf(stderr,
               "fleetsim: note: descriptor limit %llu (hard), %llu would cover every client "
               "connected at once\n",
               static_cast<unsigned long long>(rl.rlim_max),
               static_cast<unsigned long long>(wanted));
}

}  // namespace

int main(int argc, char** argv) {
  fleetsim::Options options;
  bool exit_now = false;
  int rc = fleetsim::ParseOptions(argc, argv, &options, &exit_now);
  if (exit_now) return rc;

  struct sigaction sa {};
  sa.sa_handler = HandleStop;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  fleetsim::FleetSimulation sim(options, &g_stop);
  std::unique_ptr<fleetsim::Transport> transport;
  std::FILE* dump = nullptr;
  if (!options.dump_path.empty()) {
    dump = std::fopen(options.dump_path.c_str(), "w");
    if (!dump) {
      std::fprintf(stderr, "fleetsim: cannot write %s: %s\n", options.dump_path.c_str(),
                   std::strerror(errno));
      return 1;
    }
    transport = std::make_unique<fleetsim::DumpTransport>(dump, &sim);
  } else {
    rlim_t needed = static_cast<rlim_t>(options.devices + options.backend_connections + 2) * 3 + 64;
    RaiseFileLimit(needed);
    auto mqtt = std::make_unique<fleetsim::MqttTransport>(options.host, options.port,
                                                          options.subscribe, &sim, &g_stop);
    if (!mqtt->ok()) {
      std::fprintf(stderr, "fleetsim: epoll_create1: %s\n", std::strerror(errno));
      return 1;
    }
    transport = std::move(mqtt);
  }
  sim.set_transport(transport.get());
  if (!sim.Run()) return 1;
  if (dump && std::fclose(dump) != 0) {
    std::fprintf(stderr, "fleetsim: writing %s failed\n", options.dump_path.c_str());
    return 1;
  }
  std::string text = sim.Summary().dump(1) + "\n";
  if (options.summary_path.empty()) {
    std::fputs(text.c_str(), stdout);
  } else {
    std::FILE* f = std::fopen(options.summary_path.c_str(), "w");
    if (!f || std::fputs(text.c_str(), f) < 0 || std::fclose(f) != 0) {
      std::fprintf(stderr, "fleetsim: cannot write %s\n", options.summary_path.c_str());
      return 1;
    }
  }
  return 0;
}
