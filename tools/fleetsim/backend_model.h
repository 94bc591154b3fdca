// The simulated backend (protocol reference §6.3): decides, for each request
// and boot announcement the broker accepted, which publishes answer it, from
// which kind of client and after how long. It does not publish; the traffic
// generator schedules what it returns.
//
// Latency: lognormal by median and p95, x5 for slow symbols, x n for
// best/worst playlists, floored and capped; a reply is never scheduled within
// 2 s of the request timeout (the cap is kept 2 s below it, late replies
// start 2 s or more after it), so the ground truth stays decidable.
//
// Quote backends (protocol §1.3 symbolType; each symbol has one, see
// symbol_pool.h) differ: each has a profile that scales the median and the
// spread of the lognormal and adds its own share of unanswered and late
// requests (kProfiles in backend_model.cc: crypto fast, stock the reference,
// commodity slow with a heavy tail through the delegated stream, custom APIs
// slow and flaky). Page replies use the `page` profile.
//
// Mixed-case playlist entries (`btc/usd`): the handler quotes the symbol but
// finds no entry spelled like the request, so a playlist UPDATE for such an
// entry carries symbolIndex -1 and the canonical symbol (`BTC`); the request
// is then matched by symbol alone (contract §5, §7.4).
//
// Thread safety: owned by the simulation thread.
#ifndef FLEETSIM_BACKEND_MODEL_H_
#define FLEETSIM_BACKEND_MODEL_H_

#include <string>
#include <vector>

#include "device_model.h"
#include "ground_truth.h"
#include "options.h"
#include "publish_kind.h"
#include "random.h"
#include "symbol_pool.h"

namespace fleetsim {

// What receiving a downlink does to the device.
enum class DeviceEffect : uint8_t {
  kNone,
  kAnswer,        // counts toward the replies a burst waits for
  kBootQuote,     // first quote after boot: starts the update timer
  kBootNoConfig,  // boot answered NO_CONFIG: the device stays idle
  kDeviceReg,     // unclaimed: reboot in 15 minutes
  kPush,          // web push of a changed playlist: immediate burst
};

enum class Sender : uint8_t { kBackend, kStream, kWeb };

// How one quote backend deviates from the global latency and failure knobs.
struct BackendProfile {
  const char* what;      // for the summary
  double median_factor;  // x --latency-median
  double spread_factor;  // x the lognormal sigma of --latency-median/--latency-p95
  double no_reply;       // added to --noreply-share
  double late;           // added to --late-share
};

// The profile of symbolType `symbol_type` (1..12); 0 or anything else: page.
const BackendProfile& ProfileOf(int symbol_type);

struct PlannedPublish {
  double delay = 0;  // after the request (or boot) was accepted
  Sender sender = Sender::kBackend;
  Kind kind = Kind::kDeviceMessage;
  std::string topic;
  std::string payload;
  ReplyInfo reply;  // for kDeviceMessage
  DeviceEffect effect = DeviceEffect::kNone;
  bool extra_copy = false;  // copy 2..K of an answer
};

struct RequestDecision {
  bool no_reply = false;
  bool late = false;
  std::vector<PlannedPublish> publishes;
};

class BackendModel {
 public:
  BackendModel(const Options& options, const SymbolPool& pool, uint64_t seed);

  // A request of `device` for playlist entry `entry` (-1: no symbol),
  // accepted by the broker; `request` is the ground-truth id.
  RequestDecision OnRequest(const Device& device, int entry, uint32_t request);

  // A TICKRMETERBOOT of `device` accepted by the broker.
  std::vector<PlannedPublish> OnBoot(const Device& device);

  // One latency draw (seconds) of a backend, times `factor` (slow symbol,
  // best/worst playlist), floored and capped.
  double DrawLatency(const BackendProfile& profile, double factor);

 private:
  void AddQuoteCopies(const Device& d, int entry, uint32_t request, bool late, double factor,
                      const BackendProfile& profile, RequestDecision* out);
  PlannedPublish QuoteReply(const Device& d, int entry, const char* type, uint32_t request);

  const Options& options_;
  const SymbolPool& pool_;
  Rng rng_;
  double sigma_;
  double cap_;
};

}  // namespace fleetsim

#endif  // FLEETSIM_BACKEND_MODEL_H_
