// Command-line parsing of fleetsim (getopt_long).
#include "options.h"

#include <getopt.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fleetsim {
namespace {

enum OptionId {
  kHost = 1000,
  kPort,
  kConnectRate,
  kBackendConnections,
  kNoSubscribe,
  kDevices,
  kSymbols,
  kRateScale,
  kSeed,
  kBootMeanDays,
  kErrorDeviceShare,
  kUnclaimedShare,
  kPlaylistChange,
  kMixedCaseShare,
  kDuplicates,
  kLatencyMedian,
  kLatencyP95,
  kLatencyCap,
  kLatencyMin,
  kSlowShare,
  kFailShare,
  kNoReplyShare,
  kLateShare,
  kLateAfter,
  kBootDropShare,
  kRequestTimeout,
  kAmbiguityMargin,
  kQuantileWindow,
  kDuration,
  kDrain,
  kSummary,
  kDump,
  kProgress,
  kProgressLine,
  kHelp,
};

const struct option kLongOptions[] = {
    {"host", required_argument, nullptr, kHost},
    {"port", required_argument, nullptr, kPort},
    {"connect-rate", required_argument, nullptr, kConnectRate},
    {"backend-connections", required_argument, nullptr, kBackendConnections},
    {"no-subscribe", no_argument, nullptr, kNoSubscribe},
    {"devices", required_argument, nullptr, kDevices},
    {"symbols", required_argument, nullptr, kSymbols},
    {"rate-scale", required_argument, nullptr, kRateScale},
    {"seed", required_argument, nullptr, kSeed},
    {"boot-mean-days", required_argument, nullptr, kBootMeanDays},
    {"error-device-share", required_argument, nullptr, kErrorDeviceShare},
    {"unclaimed-share", required_argument, nullptr, kUnclaimedShare},
    {"playlist-change-per-hour", required_argument, nullptr, kPlaylistChange},
    {"mixed-case-share", required_argument, nullptr, kMixedCaseShare},
    {"duplicates", required_argument, nullptr, kDuplicates},
    {"latency-median", required_argument, nullptr, kLatencyMedian},
    {"latency-p95", required_argument, nullptr, kLatencyP95},
    {"latency-cap", required_argument, nullptr, kLatencyCap},
    {"latency-min", required_argument, nullptr, kLatencyMin},
    {"slow-share", required_argument, nullptr, kSlowShare},
    {"fail-share", required_argument, nullptr, kFailShare},
    {"noreply-share", required_argument, nullptr, kNoReplyShare},
    {"late-share", required_argument, nullptr, kLateShare},
    {"late-after", required_argument, nullptr, kLateAfter},
    {"boot-drop-share", required_argument, nullptr, kBootDropShare},
    {"request-timeout", required_argument, nullptr, kRequestTimeout},
    {"ambiguity-margin", required_argument, nullptr, kAmbiguityMargin},
    {"quantile-window", required_argument, nullptr, kQuantileWindow},
    {"duration", required_argument, nullptr, kDuration},
    {"drain", required_argument, nullptr, kDrain},
    {"summary", required_argument, nullptr, kSummary},
    {"dump", required_argument, nullptr, kDump},
    {"progress", no_argument, nullptr, kProgress},
    {"progress-line", no_argument, nullptr, kProgressLine},
    {"help", no_argument, nullptr, kHelp},
    {nullptr, 0, nullptr, 0},
};

const char kUsage[] =
    "Usage: fleetsim [OPTION]...\n"
    "Simulates a fleet of TickrMeter devices and their backend against an MQTT\n"
    "broker (protocol reference section 6) and writes the ground truth as JSON.\n"
    "\n"
    "Connection:\n"
    "  --host H                  broker address (127.0.0.1)\n"
    "  --port P                  broker port (1883)\n"
    "  --connect-rate R          device connections opened per second at start (800)\n"
    "  --backend-connections B   simulated backend connections, sim-backend-<n> (8)\n"
    "  --no-subscribe            devices do not subscribe (less broker fan-out)\n"
    "\n"
    "Fleet:\n"
    "  --devices N               devices, each one MQTT client (8000)\n"
    "  --symbols S               size of the symbol pool (2000)\n"
    "  --rate-scale X            devices tick X times as often (1)\n"
    "  --seed N                  seed of every random choice (1)\n"
    "  --boot-mean-days D        mean time between spontaneous boots per device (7)\n"
    "  --error-device-share F    devices answered by errors: 5/6 NO_CONFIG,\n"
    "                            1/6 DEVICE_ASSIGNED \"Device Not Found\" (0.006)\n"
    "  --unclaimed-share F       unclaimed devices, DEVICE_REG and reboot every 15 min (0.005)\n"
    "  --playlist-change-per-hour F  playlist devices pushed a new list per hour (0.001)\n"
    "  --mixed-case-share F      playlist entries typed in mixed case, `btc/usd`, `Aapl`;\n"
    "                            answered with symbolIndex -1 and the canonical symbol (0.05)\n"
    "\n"
    "Backend:\n"
    "  --duplicates K            copies of every reply, DEVICE_BOOTED and ALERT (1)\n"
    "  --latency-median S        median reply latency, seconds, lognormal (0.3); each\n"
    "                            quote backend scales median and spread (README)\n"
    "  --latency-p95 S           95th percentile of the reply latency (2)\n"
    "  --latency-cap S           latency cap; also kept 2 s below --request-timeout (30)\n"
    "  --latency-min S           latency floor (0.02)\n"
    "  --slow-share F            share of symbols answered 5x slower (0.02)\n"
    "  --fail-share F            share of symbols never answered (0.01)\n"
    "  --noreply-share F         share of other text requests not answered (0.01),\n"
    "                            plus the backend's own share\n"
    "  --late-share F            share of requests answered only after --late-after\n"
    "                            (0.005), plus the backend's own share\n"
    "  --late-after S            late replies come S..S+20 s after the request (40)\n"
    "  --boot-drop-share F       boot announcements left unanswered, causing resends (0.05)\n"
    "\n"
    "Run:\n"
    "  --request-timeout S       timeout used to classify the ground truth (30)\n"
    "  --ambiguity-margin S      events this close to a decision point count as\n"
    "                            ambiguous in the ground truth (1)\n"
    "  --quantile-window S       window of the summary's windowed figures, as the\n"
    "                            plugin's quantile_window (300)\n"
    "  --duration S              seconds of traffic (60)\n"
    "  --drain S                 after the traffic stops, keep the backend answering\n"
    "                            this long; later replies are cancelled and recorded\n"
    "                            (default request-timeout + 3)\n"
    "  --summary FILE            write the ground truth JSON here (default stdout)\n"
    "  --dump FILE               do not connect: write the publish stream of --duration\n"
    "                            seconds as JSON lines, simulating the clock\n"
    "  --progress                one progress line per second on stderr\n"
    "  --progress-line           the same, rewriting one line in place (a terminal)\n"
    "  --help                    this text\n"
    "\n"
    "SIGINT/SIGTERM stop the traffic early; the drain and the summary still happen.\n";

bool ParseDouble(const char* name, const char* text, double min, double* out) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(v >= min)) {
    std::fprintf(stderr, "fleetsim: --%s: bad value '%s' (a number >= %g)\n", name, text, min);
    return false;
  }
  *out = v;
  return true;
}

bool ParseShare(const char* name, const char* text, double* out) {
  if (!ParseDouble(name, text, 0, out)) return false;
  if (*out > 1) {
    std::fprintf(stderr, "fleetsim: --%s: bad value '%s' (a share 0..1)\n", name, text);
    return false;
  }
  return true;
}

bool ParseInt(const char* name, const char* text, long min, long max, long* out) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
    std::fprintf(stderr, "fleetsim: --%s: bad value '%s' (an integer %ld..%ld)\n", name, text, min,
                 max);
    return false;
  }
  *out = v;
  return true;
}

}  // namespace

int ParseOptions(int argc, char** argv, Options* o, bool* exit_now) {
  *exit_now = false;
  optind = 1;
  int c;
  long n = 0;
  bool ok = true;
  while (ok && (c = getopt_long(argc, argv, "", kLongOptions, nullptr)) != -1) {
    const char* name = c >= kHost && c <= kHelp ? kLongOptions[c - kHost].name : "";
    switch (c) {
      case kHost:
        o->host = optarg;
        break;
      case kPort:
        ok = ParseInt(name, optarg, 1, 65535, &n);
        o->port = static_cast<int>(n);
        break;
      case kConnectRate:
        ok = ParseDouble(name, optarg, 1, &o->connect_rate);
        break;
      case kBackendConnections:
        ok = ParseInt(name, optarg, 1, 64, &n);
        o->backend_connections = static_cast<int>(n);
        break;
      case kNoSubscribe:
        o->subscribe = false;
        break;
      case kDevices:
        ok = ParseInt(name, optarg, 0, 1000000, &n);
        o->devices = static_cast<int>(n);
        break;
      case kSymbols:
        ok = ParseInt(name, optarg, 20, 1000000, &n);
        o->symbols = static_cast<int>(n);
        break;
      case kRateScale:
        ok = ParseDouble(name, optarg, 0.001, &o->rate_scale);
        break;
      case kSeed:
        ok = ParseInt(name, optarg, 0, 0x7fffffffL, &n);
        o->seed = static_cast<uint64_t>(n);
        break;
      case kBootMeanDays:
        ok = ParseDouble(name, optarg, 0.0001, &o->boot_mean_days);
        break;
      case kErrorDeviceShare:
        ok = ParseShare(name, optarg, &o->error_device_share);
        break;
      case kUnclaimedShare:
        ok = ParseShare(name, optarg, &o->unclaimed_share);
        break;
      case kPlaylistChange:
        ok = ParseShare(name, optarg, &o->playlist_change_per_hour);
        break;
      case kMixedCaseShare:
        ok = ParseShare(name, optarg, &o->mixed_case_share);
        break;
      case kDuplicates:
        ok = ParseInt(name, optarg, 1, 16, &n);
        o->duplicates = static_cast<int>(n);
        break;
      case kLatencyMedian:
        ok = ParseDouble(name, optarg, 0.001, &o->latency_median);
        break;
      case kLatencyP95:
        ok = ParseDouble(name, optarg, 0.001, &o->latency_p95);
        break;
      case kLatencyCap:
        ok = ParseDouble(name, optarg, 0.001, &o->latency_cap);
        break;
      case kLatencyMin:
        ok = ParseDouble(name, optarg, 0, &o->latency_min);
        break;
      case kSlowShare:
        ok = ParseShare(name, optarg, &o->slow_share);
        break;
      case kFailShare:
        ok = ParseShare(name, optarg, &o->fail_share);
        break;
      case kNoReplyShare:
        ok = ParseShare(name, optarg, &o->noreply_share);
        break;
      case kLateShare:
        ok = ParseShare(name, optarg, &o->late_share);
        break;
      case kLateAfter:
        ok = ParseDouble(name, optarg, 0, &o->late_after);
        break;
      case kBootDropShare:
        ok = ParseShare(name, optarg, &o->boot_drop_share);
        break;
      case kRequestTimeout:
        ok = ParseDouble(name, optarg, 3, &o->request_timeout);
        break;
      case kAmbiguityMargin:
        ok = ParseDouble(name, optarg, 0, &o->ambiguity_margin);
        break;
      case kQuantileWindow:
        ok = ParseDouble(name, optarg, 1, &o->quantile_window);
        break;
      case kDuration:
        ok = ParseDouble(name, optarg, 0, &o->duration);
        break;
      case kDrain:
        ok = ParseDouble(name, optarg, 0, &o->drain);
        break;
      case kSummary:
        o->summary_path = optarg;
        break;
      case kDump:
        o->dump_path = optarg;
        break;
      case kProgress:
        o->progress = true;
        break;
      case kProgressLine:
        o->progress = o->progress_line = true;
        break;
      case kHelp:
        std::fputs(kUsage, stdout);
        *exit_now = true;
        return 0;
      default:
        std::fputs("Try 'fleetsim --help'.\n", stderr);
        *exit_now = true;
        return 2;
    }
  }
  if (ok && optind < argc) {
    std::fprintf(stderr, "fleetsim: unexpected argument '%s'\n", argv[optind]);
    ok = false;
  }
  if (ok && o->latency_p95 <= o->latency_median) {
    std::fprintf(stderr, "fleetsim: --latency-p95 must exceed --latency-median\n");
    ok = false;
  }
  if (ok && o->late_after < o->request_timeout + 2) {
    std::fprintf(stderr, "fleetsim: --late-after must be at least --request-timeout + 2\n");
    ok = false;
  }
  if (!ok) {
    *exit_now = true;
    return 2;
  }
  if (o->drain < 0) o->drain = o->request_timeout + 3;
  return 0;
}

}  // namespace fleetsim
