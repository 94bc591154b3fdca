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

  // One latency draw (seconds) before the slow/playlist factors.
  double DrawLatency(double factor);

 private:
  void AddQuoteCopies(const Device& d, int entry, uint32_t request, bool late, double factor,
                      RequestDecision* out);
  PlannedPublish QuoteReply(const Device& d, int entry, const char* type, uint32_t request);

  const Options& options_;
  const SymbolPool& pool_;
  Rng rng_;
  double sigma_;
  double cap_;
};

}  // namespace fleetsim

#endif  // FLEETSIM_BACKEND_MODEL_H_
