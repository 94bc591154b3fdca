// Population drawing and heartbeat/boot-log payloads of the devices.
#include "device_model.h"

#include <algorithm>
#include <cctype>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <unordered_set>

namespace fleetsim {
namespace {

constexpr double kUptimeWrap = 4294967;

// Update interval distribution of §3.7 (seconds, weight in percent).
struct Weighted {
  int value;
  double weight;
};
const Weighted kIntervals[] = {
    {5, 0.4},  {20, 0.5},  {30, 0.8},  {60, 7},     {120, 56},   {180, 2},
    {300, 27}, {600, 1.6}, {900, 1.4}, {1800, 2.2}, {3660, 0.5}, {43200, 0.3},
};
// Playlist sizes of §3.7; "10+" is capped at 10 by the firmware.
const Weighted kPlaylistSizes[] = {{2, 18}, {3, 16}, {4, 15}, {5, 12}, {6, 8},
                                   {7, 6},  {8, 4},  {9, 5},  {10, 15}};

template <size_t N>
int DrawWeighted(const Weighted (&table)[N], Rng& rng) {
  double total = 0;
  for (const Weighted& w : table) total += w.weight;
  double u = rng.Uniform() * total;
  for (const Weighted& w : table) {
    if (u < w.weight) return w.value;
    u -= w.weight;
  }
  return table[N - 1].value;
}

void AssignFirmware(Device& d, Rng& rng) {
  double u = rng.Uniform();
  if (u < 0.88) {
    d.shape = HeartbeatShape::kCurrent;
    double v = rng.Uniform();
    if (v < 0.70) {
      d.firmware = "70p";
      d.inner_version = "elec+HB";
    } else if (v < 0.85) {
      d.firmware = "65d";
      d.inner_version = "elec";
    } else if (v < 0.95) {
      d.firmware = "59p";
      d.inner_version = "HB";
    } else {
      d.firmware = "45p";
      d.inner_version = "base";
    }
  } else if (u < 0.98) {
    static const struct {
      HeartbeatShape shape;
      const char* version;
    } kOld[] = {{HeartbeatShape::kFw44, "44p"},
                {HeartbeatShape::kFw40Wflc, "40p"},
                {HeartbeatShape::kFw38Wlc, "38p"},
                {HeartbeatShape::kFw37NoCounter, "37p"},
                {HeartbeatShape::kFw37UptimeOnly, "37l"},
                {HeartbeatShape::kFw31, "31p"},
                {HeartbeatShape::kFw31, "35p"}};
    const auto& pick = kOld[rng.Below(std::size(kOld))];
    d.shape = pick.shape;
    d.firmware = pick.version;
    if (d.shape == HeartbeatShape::kFw44) d.inner_version = "elec";
  } else {
    static const char* const kAncient[] = {"30", "1.81", "5", "7"};
    d.shape = HeartbeatShape::kNumeric;
    d.firmware = kAncient[rng.Below(std::size(kAncient))];
  }
  double f = rng.Uniform();
  if (f < 0.60) {
    d.flash_id = "C84016";
    d.xmc = 1;
  } else if (f < 0.85) {
    d.flash_id = "204016";
    static const int kXmc[] = {6, 6, 6, 0, 2, 3, -2};
    d.xmc = kXmc[rng.Below(std::size(kXmc))];
  } else {
    d.flash_id = "EF4016";
    d.xmc = 1;
  }
}

// `name` as a user might type it: all lower case (`btc/usd`) or capitalised
// (`Aapl`); never `name` itself.
std::string MixedCase(const std::string& name, Rng& rng) {
  std::string typed = name;
  bool capitalise = rng.Chance(0.5);
  for (size_t i = 0; i < typed.size(); ++i) {
    bool keep = capitalise && (i == 0 || typed[i - 1] == '/');
    if (!keep) typed[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(typed[i])));
  }
  if (typed == name) {
    for (char& c : typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return typed;
}

bool Contains(const Playlist& list, int symbol) {
  for (const PlaylistEntry& e : list) {
    if (e.symbol == symbol) return true;
  }
  return false;
}

}  // namespace

PlaylistEntry TypedEntry(const SymbolPool& pool, int symbol, double mixed_case_share, Rng& rng) {
  PlaylistEntry e;
  e.symbol = symbol;
  e.name = pool.at(symbol).name;
  if (rng.Chance(mixed_case_share)) e.name = MixedCase(e.name, rng);
  return e;
}

std::vector<Device> MakeFleet(int count, const SymbolPool& pool, double rate_scale,
                              double error_share, double unclaimed_share, double mixed_case_share,
                              uint64_t seed) {
  Rng rng(SplitMix64(seed ^ 0x464c454554ULL));
  std::vector<Device> fleet(count);
  std::unordered_set<uint64_t> ids;
  for (int i = 0; i < count; ++i) {
    Device& d = fleet[i];
    uint64_t raw;
    do {
      raw = SplitMix64(seed * 0x100000001b3ULL + static_cast<uint64_t>(i) + ids.size()) &
            0xFFFFFFFFFFFFULL;
    } while (!ids.insert(raw).second);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%012" PRIX64, raw);
    d.id = buf;

    d.power = rng.Chance(0.30) ? Power::kBattery : Power::kMains;
    double m = rng.Uniform();
    d.mode = m < 0.58 ? Mode::kSingle : (m < 0.98 ? Mode::kPlaylist : Mode::kPage);
    double c = rng.Uniform();
    if (c < error_share * 5 / 6) {
      d.device_class = DeviceClass::kRemoved;
    } else if (c < error_share) {
      d.device_class = DeviceClass::kUnknown;
    } else if (c < error_share + unclaimed_share) {
      d.device_class = DeviceClass::kUnclaimed;
    }
    if (d.device_class != DeviceClass::kNormal) d.mode = Mode::kSingle;

    d.symbol = pool.Draw(rng);
    if (d.mode == Mode::kPlaylist) {
      double cm = rng.Uniform();
      d.cycle_mode = cm < 0.95 ? 0 : (cm < 0.975 ? 1 : 2);
      int n = DrawWeighted(kPlaylistSizes, rng);
      auto list = std::make_shared<Playlist>();
      int first = pool.Draw(rng);
      list->push_back(TypedEntry(pool, first, mixed_case_share, rng));
      // best/worst: symbols of the first one's backend only.
      int type = d.cycle_mode == 0 ? -1 : pool.at(first).symbol_type;
      if (type >= 0) n = std::min(n, pool.CountOfType(type));
      while (static_cast<int>(list->size()) < n) {
        int s = type < 0 ? pool.Draw(rng) : pool.DrawOfType(rng, type);
        if (!Contains(*list, s)) list->push_back(TypedEntry(pool, s, mixed_case_share, rng));
      }
      d.playlist = std::move(list);
    }
    if (d.mode == Mode::kPage) {
      d.config_interval = rng.Chance(0.8) ? 300 : 120;
      d.page_id = 100 + static_cast<int>(rng.Below(900));
    } else {
      d.config_interval = DrawWeighted(kIntervals, rng);
    }
    d.alerts = d.mode == Mode::kSingle && rng.Chance(0.05);
    d.low_battery = d.power == Power::kBattery && rng.Chance(0.02);
    double period = std::min<double>(1800, d.config_interval * (d.low_battery ? 3 : 1));
    d.period = std::max(1.0, period / rate_scale);
    d.brightness = rng.Chance(0.7) ? 100 : static_cast<int>(rng.Below(101));
    AssignFirmware(d, rng);
    if (d.power == Power::kMains) {
      d.battery_start = 90 + static_cast<double>(rng.Below(11));
      d.vin_base = 2550 + static_cast<int>(rng.Below(600));
    } else {
      d.battery_start = d.low_battery ? 8 + rng.Uniform(0, 2.9) : rng.Uniform(15, 89);
      d.vin_base = static_cast<int>(rng.Below(2300));
    }
    // Uptime: most devices have run for days; a few are about to wrap.
    double uptime =
        rng.Chance(0.002) ? kUptimeWrap - rng.Uniform(0, 3600) : rng.Uniform(600, 30 * 86400.0);
    d.boot_epoch = -uptime;
    d.wflct = static_cast<uint32_t>(rng.Below(20));
  }
  return fleet;
}

uint32_t UptimeAt(const Device& d, double now) {
  double up = std::fmod(std::max(0.0, now - d.boot_epoch), kUptimeWrap);
  return static_cast<uint32_t>(up);
}

std::string HeartbeatPayload(const Device& d, double now, Rng& rng) {
  double battery = d.battery_start;
  if (d.power == Power::kBattery) {
    battery = std::max(d.low_battery ? 8.0 : 11.0, d.battery_start - std::max(0.0, now) / 3600);
  }
  int bat = static_cast<int>(battery);
  int vin = std::clamp(d.vin_base + static_cast<int>(rng.Below(41)) - 20, 0, 4095);
  const char* charging = vin > 2500 ? "1" : "0";
  unsigned long up = UptimeAt(d, now);
  unsigned wflct = d.wflct & 0xFFFF;
  const char* id = d.id.c_str();
  const char* fw = d.firmware.c_str();
  char buf[256];
  switch (d.shape) {
    case HeartbeatShape::kCurrent:
      std::snprintf(buf, sizeof buf,
                    "{\"status\":\"online\",\"firmware_version\":\"%s\",\"device\":\"%s\","
                    "\"battery\":\"%d\",\"vin\":\"%d\",\"uptime\":\"%lu\",\"isCharging\":\"%s\","
                    "\"wflct\":\"%u\",\"iv\":\"%s\", \"xmc\":\"%d\", \"flashID\":\"%s\"}",
                    fw, id, bat, vin, up, charging, wflct, d.inner_version.c_str(), d.xmc,
                    d.flash_id.c_str());
      break;
    case HeartbeatShape::kFw44:
      std::snprintf(buf, sizeof buf,
                    "{\"status\":\"online\",\"firmware_version\":\"%s\",\"device\":\"%s\","
                    "\"battery\":\"%d\",\"vin\":\"%d\",\"uptime\":\"%lu\",\"isCharging\":\"%s\","
                    "\"wflct\":\"%u\",\"iv\":\"%s\"}",
                    fw, id, bat, vin, up, charging, wflct, d.inner_version.c_str());
      break;
    case HeartbeatShape::kFw40Wflc:
    case HeartbeatShape::kFw38Wlc:
      std::snprintf(buf, sizeof buf,
                    "{\"status\":\"online\",\"firmware_version\":\"%s\",\"device\":\"%s\","
                    "\"battery\":\"%d\",\"vin\":\"%d\",\"uptime\":\"%lu\",\"isCharging\":\"%s\","
                    "\"%s\":\"%u\"}",
                    fw, id, bat, vin, up, charging,
                    d.shape == HeartbeatShape::kFw40Wflc ? "wflc" : "wlc", wflct);
      break;
    case HeartbeatShape::kFw37NoCounter:
      std::snprintf(buf, sizeof buf,
                    "{\"status\":\"online\",\"firmware_version\":\"%s\",\"device\":\"%s\","
                    "\"battery\":\"%d\",\"vin\":\"%d\",\"uptime\":\"%lu\",\"isCharging\":\"%s\"}",
                    fw, id, bat, vin, up, charging);
      break;
    case HeartbeatShape::kFw37UptimeOnly:
      std::snprintf(buf, sizeof buf,
                    "{\"status\":\"online\",\"firmware_version\":\"%s\",\"device\":\"%s\","
                    "\"battery\":\"%d\",\"vin\":\"%d\",\"uptime\":\"%lu\"}",
                    fw, id, bat, vin, up);
      break;
    case HeartbeatShape::kFw31:
      std::snprintf(buf, sizeof buf,
                    "{\"status\":\"online\",\"firmware_version\":\"%s\",\"device\":\"%s\","
                    "\"battery\":\"%d\", \"vin\":\"%d\"}",
                    fw, id, bat, vin);
      break;
    case HeartbeatShape::kNumeric:
      if (d.firmware == "30") {
        std::snprintf(buf, sizeof buf,
                      "{\"status\":\"online\",\"firmware_version\":\"%s\",\"device\":\"%s\","
                      "\"battery\":%d,\"vin\":%d}",
                      fw, id, bat, vin);
      } else {
        std::snprintf(buf, sizeof buf,
                      "{\"status\":\"online\",\"firmware_version\":\"%s\",\"device\":\"%s\","
                      "\"battery\":%d}",
                      fw, id, bat);
      }
      break;
  }
  return buf;
}

bool SendsBootLog(const Device& d) {
  return d.shape == HeartbeatShape::kCurrent || d.shape == HeartbeatShape::kFw44 ||
         d.shape == HeartbeatShape::kFw40Wflc || d.shape == HeartbeatShape::kFw38Wlc;
}

std::string BootLogPayload(const Device& d) {
  if (!SendsBootLog(d)) return {};
  std::string log =
      "SR lock check start.|Flash ID: " + d.flash_id + ", SFDP 0x06: CC, SFDP 0xF4: CC.|";
  if (d.flash_id.compare(0, 2, "20") == 0) {
    log += d.xmc == 6 ? "xmc: SR already locked.|" : "xmc: SR lock applied.|";
  } else {
    log += "non-xmc (" + d.flash_id + "). SR lock skipped.|";
  }
  return log;
}

}  // namespace fleetsim
