// Command-line options of fleetsim: the knobs of the traffic model (protocol
// reference §6) and of the run itself.
//
// Thread safety: plain value type; ParseOptions is not reentrant (getopt).
#ifndef FLEETSIM_OPTIONS_H_
#define FLEETSIM_OPTIONS_H_

#include <cstdint>
#include <string>

namespace fleetsim {

struct Options {
  // Connection.
  std::string host = "127.0.0.1";
  int port = 1883;
  double connect_rate = 800;  // new device connections per second at start
  int backend_connections = 8;
  bool subscribe = true;  // devices subscribe to their topics (broker fan-out load)

  // Population and traffic.
  int devices = 8000;
  int symbols = 2000;
  double rate_scale = 1;  // divides every update interval
  uint64_t seed = 1;
  double boot_mean_days = 7;          // Poisson boots per device
  double error_device_share = 0.006;  // removed (NO_CONFIG) 5/6, unknown 1/6
  double unclaimed_share = 0.005;     // DEVICE_REG, reboot every 15 min
  double playlist_change_per_hour = 0.001;
  double mixed_case_share = 0.05;  // of playlist entries, typed like `btc/usd` or `Aapl`

  // Simulated backend.
  int duplicates = 1;  // K: copies of every reply, DEVICE_BOOTED and ALERT
  double latency_median = 0.3;
  double latency_p95 = 2;
  double latency_cap = 30;
  double latency_min = 0.02;    // floor, keeps a reply from overtaking its request
  double slow_share = 0.02;     // of symbols, latency x5
  double fail_share = 0.01;     // of symbols, never answered
  double noreply_share = 0.01;  // of other text requests, no reply
  double late_share = 0.005;    // of requests, answered only after late_after
  double late_after = 40;
  double boot_drop_share = 0.05;  // boot announcements left unanswered (resends)

  // Run.
  double request_timeout = 30;   // only to classify the ground truth
  double ambiguity_margin = 1;   // |event - deadline| below this is "ambiguous"
  double quantile_window = 300;  // the plugin's, for the windowed figures of the summary
  double duration = 60;
  double drain = -1;         // after stop; <0: request_timeout + 3
  std::string summary_path;  // empty: stdout
  std::string dump_path;     // non-empty: record instead of connecting
  bool progress = false;
  bool progress_line = false;  // one line rewritten in place (a terminal)
};

// Parses argv into `options`. Returns 0 to go on, otherwise the process exit
// code (0 after --help, 2 after a bad option; a message went to stderr).
int ParseOptions(int argc, char** argv, Options* options, bool* exit_now);

}  // namespace fleetsim

#endif  // FLEETSIM_OPTIONS_H_
