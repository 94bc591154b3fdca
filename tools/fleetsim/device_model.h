// One simulated TickrMeter device: its configuration (drawn once from the
// seed, protocol reference §6.1), its firmware's heartbeat shape (§1.3), and
// the little run-time state the traffic generator keeps for it.
//
// Thread safety: owned by the simulation thread.
#ifndef FLEETSIM_DEVICE_MODEL_H_
#define FLEETSIM_DEVICE_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "random.h"
#include "symbol_pool.h"

namespace fleetsim {

enum class Power : uint8_t { kMains, kBattery };
enum class Mode : uint8_t { kSingle, kPlaylist, kPage };
enum class DeviceClass : uint8_t {
  kNormal,
  kRemoved,    // answered NO_CONFIG
  kUnknown,    // answered DEVICE_ASSIGNED "Device Not Found"
  kUnclaimed,  // DEVICE_REG at boot, reboots every 15 min, no requests
};
enum class HeartbeatShape : uint8_t {
  kCurrent,         // fw >= ~45: all fields, spaces before "xmc"/"flashID"
  kFw44,            // adds iv, no xmc/flashID
  kFw40Wflc,        // uptime, isCharging, "wflc"
  kFw38Wlc,         // uptime, isCharging, "wlc"
  kFw37NoCounter,   // uptime, isCharging
  kFw37UptimeOnly,  // uptime
  kFw31,            // status..battery, " vin"
  kNumeric,         // numbers as JSON numbers
};
enum class ConnState : uint8_t { kOffline, kWifi, kConnecting, kConnected };

// One playlist entry: a pool symbol and its name as the user typed it, the
// pool's name or a mixed-case variant (`btc/usd`, `Aapl`). The device requests
// the typed name and the backend lists it in `symbols`, but answers with the
// symbol's canonical reply symbol (`BTC`, `AAPL`; protocol §2.4).
struct PlaylistEntry {
  int symbol = 0;  // symbol pool index
  std::string name;
};
// Playlist as configured; shared by the replies built from one version.
// Symbols unique, 2..10 entries; a best/worst playlist holds symbols of one
// backend only (a user ranks like with like, and every answer then names the
// requested symbol's own backend).
using Playlist = std::vector<PlaylistEntry>;

struct Device {
  // Configuration.
  std::string id;  // 12 uppercase hex
  Power power = Power::kMains;
  Mode mode = Mode::kSingle;
  DeviceClass device_class = DeviceClass::kNormal;
  int symbol = 0;  // single mode
  std::shared_ptr<const Playlist> playlist;
  int cycle_mode = 0;         // 0 default, 1 best, 2 worst
  int config_interval = 120;  // seconds, as stored in the backend
  double period = 120;        // seconds between update ticks (after factor, clamp, scale)
  bool alerts = false;
  bool low_battery = false;
  HeartbeatShape shape = HeartbeatShape::kCurrent;
  std::string firmware;
  std::string inner_version;
  std::string flash_id;
  int xmc = 1;
  int page_id = 0;
  int brightness = 100;
  double battery_start = 95;
  int vin_base = 2900;

  // Run-time state.
  ConnState conn = ConnState::kOffline;
  double boot_epoch = 0;  // sim time at which uptime was 0 (may be negative)
  double last_heartbeat = -1e18;
  uint32_t wflct = 0;
  bool awaiting_boot_answer = false;
  bool configured = true;  // has received a quote since boot (update timer runs)
  bool burst_on_connect = false;
  bool booting = false;
  int expected_replies = 0;
  uint64_t awake_generation = 0;                   // invalidates stale sleep timers
  uint64_t tick_generation = 0;                    // invalidates stale update ticks
  uint64_t boot_generation = 0;                    // invalidates stale boot resends
  uint64_t burst_generation = 0;                   // invalidates steps of an abandoned burst
  std::shared_ptr<const Playlist> burst_playlist;  // the list the running burst walks
  bool burst_done = true;
  bool reboot_scheduled = false;
};

// Builds the population of `count` devices; `mixed_case_share` of the
// playlist entries are typed in mixed case.
std::vector<Device> MakeFleet(int count, const SymbolPool& pool, double rate_scale,
                              double error_share, double unclaimed_share, double mixed_case_share,
                              uint64_t seed);

// A playlist entry for pool symbol `symbol`, typed in mixed case with
// probability `mixed_case_share`.
PlaylistEntry TypedEntry(const SymbolPool& pool, int symbol, double mixed_case_share, Rng& rng);

// `uptime` of `device` at sim time `now`, wrapping like the firmware.
uint32_t UptimeAt(const Device& device, double now);

// The DEVICESTATUS_RES payload of `device` at `now`.
std::string HeartbeatPayload(const Device& device, double now, Rng& rng);

// The LOG/<id> payload; empty for firmware that sends none.
std::string BootLogPayload(const Device& device);

// True if this firmware sends LOG/<id> (>= 36p).
bool SendsBootLog(const Device& device);

}  // namespace fleetsim

#endif  // FLEETSIM_DEVICE_MODEL_H_
