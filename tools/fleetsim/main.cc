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

// Each libmosquitto client holds a socket plus an internal socket pair.
bool RaiseFileLimit(rlim_t needed) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur >= needed) return true;
  rlimit want = rl;
  want.rlim_cur = needed;
  if (want.rlim_max < needed) want.rlim_max = needed;
  if (setrlimit(RLIMIT_NOFILE, &want) == 0) return true;
  // Not allowed to raise the hard limit: take what we may.
  want = rl;
  want.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &want);
  std::fprintf(stderr, "fleetsim: RLIMIT_NOFILE is %llu, %llu wanted; raise it (ulimit -n)\n",
               static_cast<unsigned long long>(rl.rlim_max),
               static_cast<unsigned long long>(needed));
  return false;
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
    if (!RaiseFileLimit(needed)) return 1;
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
