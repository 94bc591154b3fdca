// Payload builders; formats follow protocol reference §1.3 and samples.jsonl.
#include "payloads.h"

#include <cstdio>
#include <ctime>

namespace fleetsim {
namespace {

const char kDate[] = "03:45PM 12 Jan 2025";

struct Quote {
  char price[32];
  char p[32];
  char percent[48];
  char per_value[32];
};

Quote MakeQuote(const Symbol& s, Rng& rng) {
  Quote q;
  double price = s.price * (1 + 0.01 * rng.Normal());
  bool euro = s.name.size() > 4 && s.name.compare(s.name.size() - 4, 4, "/EUR") == 0;
  const char* sign = euro ? "\xE2\x82\xAC" : "$";
  if (price >= 10000) {
    std::snprintf(q.price, sizeof q.price, "%s%.0f", sign, price);
  } else {
    std::snprintf(q.price, sizeof q.price, "%s%.2f", sign, price);
  }
  std::snprintf(q.p, sizeof q.p, "%.2f", price);
  if (rng.Chance(0.02)) {
    std::snprintf(q.percent, sizeof q.percent, "-");
    std::snprintf(q.per_value, sizeof q.per_value, "-9999999");
  } else {
    double pct = 1.5 * rng.Normal();
    std::snprintf(q.percent, sizeof q.percent, "1 day %+.2f%%", pct);
    std::snprintf(q.per_value, sizeof q.per_value, "%.2f", pct);
  }
  return q;
}

}  // namespace

std::string RequestPayload(const std::string& device_id, const std::string& symbol) {
  std::string s = "{\"type\":\"UPDATE\",\"device\":\"" + device_id + "\"";
  if (!symbol.empty()) s += ",\"symbol\":\"" + symbol + "\"";
  s += "}";
  return s;
}

std::string BootPayload(const std::string& device_id) {
  return "{\"type\":\"BOOT\",\"device\":\"" + device_id + "\"}";
}

std::string SingleQuotePayload(const Device& d, const Symbol& s, const char* type, Rng& rng) {
  Quote q = MakeQuote(s, rng);
  char buf[1024];
  int n = std::snprintf(
      buf, sizeof buf,
      "{\"symbol\":\"%s\",\"price\":\"%s\",\"p\":%s,\"percent\":\"%s\",\"perValue\":%s,"
      "\"date\":\"%s\",\"name\":\"%s\",\"currency\":\"$\",\"isPlaylist\":false,\"type\":\"%s\","
      "\"interval\":\"%d\",\"symbolType\":%d,\"ledBrightness\":%d,\"alertEnabled\":%s",
      s.reply_symbol.c_str(), q.price, q.p, q.percent, q.per_value, kDate, s.instrument.c_str(),
      type, d.config_interval, s.symbol_type, d.brightness, d.alerts ? "true" : "false");
  std::string out(buf, static_cast<size_t>(n));
  if (d.alerts) {
    out +=
        ",\"alertConfig\":{\"triggerType\":\"Greater than\",\"triggerValue\":250,"
        "\"flashLightbar\":true,\"playSound\":false,\"soundType\":\"bell\",\"soundDur\":\"Once\","
        "\"changeLightBarColor\":true,\"lightBarColor\":\"Blue\"}";
  }
  out += "}";
  return out;
}

std::string PlaylistCsv(const Playlist& playlist) {
  std::string csv;
  for (size_t i = 0; i < playlist.size(); ++i) {
    if (i) csv += ',';
    csv += playlist[i].name;
  }
  return csv;
}

std::string PlaylistQuotePayload(const Device& d, const Playlist& playlist, int index,
                                 const Symbol& quoted, const char* type, Rng& rng) {
  static const char* const kCycleModes[] = {"default", "best", "worst"};
  Quote q = MakeQuote(quoted, rng);
  char buf[1024];
  int n = std::snprintf(
      buf, sizeof buf,
      "{\"symbol\":\"%s\",\"price\":\"%s\",\"p\":%s,\"percent\":\"%s\",\"perValue\":%s,"
      "\"date\":\"%s\",\"name\":\"My list\",\"currency\":\"$\",\"isPlaylist\":true,"
      "\"isMusicCreatorPl\":false,\"type\":\"%s\",\"cycleInterval\":\"120\","
      "\"updateInterval\":\"%d\",\"symbols\":\"%s\",\"symbolIndex\":%d,\"cycleMode\":\"%s\","
      "\"symbolType\":%d,\"ledBrightness\":%d,\"alertEnabled\":false}",
      quoted.reply_symbol.c_str(), q.price, q.p, q.percent, q.per_value, kDate, type,
      d.config_interval, PlaylistCsv(playlist).c_str(), index, kCycleModes[d.cycle_mode],
      quoted.symbol_type, d.brightness);
  return std::string(buf, static_cast<size_t>(n));
}

std::string PagePayload(const Device& d, bool error) {
  char buf[512];
  if (error) {
    std::snprintf(buf, sizeof buf,
                  "{\"mode\":\"page\",\"page\":[{\"id\":-1,\"ledColor\":\"#000000\",\"rev\":-1,"
                  "\"blink\":false,\"alert\":false}],\"updateInterval\":%d,\"ttl\":300,"
                  "\"ledBrightness\":%d,\"error\":\"Error in getting data\"}",
                  d.config_interval, d.brightness);
  } else {
    std::snprintf(buf, sizeof buf,
                  "{\"mode\":\"page\",\"page\":[{\"id\":%d,\"ledColor\":\"green\",\"rev\":3,"
                  "\"blink\":false,\"alert\":false}],\"updateInterval\":\"%d\",\"ttl\":300,"
                  "\"ledBrightness\":%d}",
                  d.page_id, d.config_interval, d.brightness);
  }
  return buf;
}

std::string NoConfigPayload() {
  return "{\"type\":\"NO_CONFIG\",\"success\":false,\"message\":\"No configuration found.\"}";
}

std::string DeviceNotFoundPayload() {
  return "{\"type\":\"DEVICE_ASSIGNED\",\"success\":false,\"message\":\"Device Not Found\"}";
}

std::string DeviceRegPayload(Rng& rng, double now) {
  (void)now;
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "{\"type\":\"DEVICE_REG\",\"key\":\"%05d\",\"valid\":\"2025-01-12T15:04:05.000Z\","
                "\"message\":\"UNASSIGNED_DEVICE\"}",
                static_cast<int>(rng.Below(100000)));
  return buf;
}

std::string AlertPayload(Rng& rng) {
  if (rng.Chance(0.1)) return "{\"type\":\"DISABLE\"}";
  return "{\"type\":\"ENABLE\",\"flashLightbar\":true,\"playSound\":false,\"soundType\":\"bell\","
         "\"soundDur\":\"Once\",\"changeLightBarColor\":true,\"lightBarColor\":\"Red\"}";
}

std::string HttpStreamPayload(const Device& d, const Symbol& s) {
  return "{\"device\":\"" + d.id + "\",\"params\":{\"getQuoteParams\":{\"macAddress\":\"" + d.id +
         "\",\"stream\":\"commodities\",\"market\":\"\",\"symbol\":\"" + s.name +
         "\",\"symbolType\":6,\"currency\":\"USD\"},\"configObject\":{\"isPlaylist\":" +
         (d.mode == Mode::kPlaylist ? "true" : "false") +
         "},\"userTimeParams\":{\"timeZone\":\"Europe/London\",\"timeFormat\":\"12h\"}}}";
}

}  // namespace fleetsim
