#include "tkmprom/config.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

namespace tkmprom {
namespace {

constexpr char kDefaultDevicePattern[] = "^[0-9A-F]{12}$";

std::string Bad(std::string_view name, std::string_view value, std::string_view accepted) {
  std::string m = "tkmprom: invalid value '";
  m.append(value).append("' for plugin_opt_").append(name).append("; accepted: ");
  m.append(accepted);
  return m;
}

// Parses a decimal number with nothing around it (strtod accepts leading
// blanks, hex and "inf"; none of them belong in a config file).
bool ParseNumber(std::string_view text, double* out) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return false;
    }
  }
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool ParseUnsigned(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

bool ParseSeconds(std::string_view text, double min, double max, double* out) {
  double v = 0;
  if (!ParseNumber(text, &v) || v < min || v > max) return false;
  *out = v;
  return true;
}

bool ParseBool(std::string_view text, bool* out) {
  if (text == "true" || text == "yes" || text == "on" || text == "1") {
    *out = true;
    return true;
  }
  if (text == "false" || text == "no" || text == "off" || text == "0") {
    *out = false;
    return true;
  }
  return false;
}

// address:port with a numeric IPv4 address or a bracketed IPv6 address.
bool ParseListen(std::string_view text, Config* config) {
  std::string host;
  std::string_view port_text;
  bool ipv6 = false;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    ipv6 = true;
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  uint64_t port = 0;
  if (!ParseUnsigned(port_text, &port) || port == 0 || port > 65535) return false;
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(ipv6 ? AF_INET6 : AF_INET, host.c_str(), buf) != 1) return false;
  config->http_host = host;
  config->http_port = static_cast<uint16_t>(port);
  config->http_ipv6 = ipv6;
  return true;
}

// The comma-separated items of `text`, empty ones included ("" is one item).
std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> items;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    items.push_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) return items;
    start = comma + 1;
  }
}

bool ParseBuckets(std::string_view text, std::vector<double>* out) {
  std::vector<double> buckets;
  for (std::string_view item : SplitCommas(text)) {
    double v = 0;
    if (!ParseNumber(item, &v) || v <= 0) return false;
    if (!buckets.empty() && v <= buckets.back()) return false;
    buckets.push_back(v);
  }
  if (buckets.empty() || buckets.size() > 64) return false;
  *out = std::move(buckets);
  return true;
}

bool ValidFilePath(std::string_view path) {
  return path.size() >= 2 && path.size() <= 4096 && path.front() == '/' && path.back() != '/' &&
         path.find('\0') == std::string_view::npos;
}

}  // namespace

bool ClientIdSet::Parse(std::string_view text) {
  std::vector<Entry> entries;
  for (std::string_view item : SplitCommas(text)) {
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    const bool prefix = !item.empty() && item.back() == '*';
    if (prefix) item.remove_suffix(1);
    if (item.empty() || item.size() > kMaxEntryBytes || item.find('*') != std::string_view::npos) {
      return false;
    }
    entries.push_back(Entry{std::string(item), prefix});
  }
  if (entries.size() > kMaxEntries) return false;
  entries_ = std::move(entries);
  return true;
}

bool Config::DefaultDevicePattern() const { return device_id_pattern == kDefaultDevicePattern; }

const std::vector<std::string>& KnownOptionNames() {
  static const std::vector<std::string> kNames = {
      "http_listen",     "request_timeout",    "device_timeout",       "symbol_expiry",
      "latency_buckets", "quantile_window",    "ranking_min_requests", "max_devices",
      "max_symbols",     "per_device_metrics", "device_id_pattern",    "http_auth_file",
      "http_tls_cert",   "http_tls_key",       "bridge_clients",       "bridged_publishes",
      "ring_size",       "companion_path",     "snapshot_max_age"};
  return kNames;
}

OptionResult ApplyOption(std::string_view name, std::string_view value, Config* config,
                         std::string* message) {
  bool ok = true;
  const char* accepted = "";
  if (name == "http_listen") {
    ok = ParseListen(value, config);
    accepted = "IPv4:port or [IPv6]:port with a numeric address, e.g. 127.0.0.1:10883";
  } else if (name == "request_timeout") {
    ok = ParseSeconds(value, 0.001, 86400, &config->request_timeout_s);
    accepted = "seconds, a number from 0.001 to 86400";
  } else if (name == "device_timeout") {
    ok = ParseSeconds(value, 0.001, 30 * 86400, &config->device_timeout_s);
    accepted = "seconds, a number from 0.001 to 2592000";
  } else if (name == "symbol_expiry") {
    ok = ParseSeconds(value, 0.001, 365 * 86400, &config->symbol_expiry_s);
    accepted = "seconds, a number from 0.001 to 31536000";
  } else if (name == "latency_buckets") {
    ok = ParseBuckets(value, &config->latency_buckets);
    accepted = "1 to 64 positive numbers of seconds, strictly ascending, comma-separated";
  } else if (name == "quantile_window") {
    ok = ParseSeconds(value, 0.01, 86400, &config->quantile_window_s);
    accepted = "seconds, a number from 0.01 to 86400";
  } else if (name == "ranking_min_requests") {
    ok = ParseUnsigned(value, &config->ranking_min_requests);
    accepted = "a non-negative integer";
  } else if (name == "max_devices") {
    ok = ParseUnsigned(value, &config->max_devices) && config->max_devices >= 1 &&
         config->max_devices <= Config::kMaxDevicesLimit;
    accepted = "an integer from 1 to 10000000";
  } else if (name == "max_symbols") {
    ok = ParseUnsigned(value, &config->max_symbols) && config->max_symbols >= 1 &&
         config->max_symbols <= 1000000;
    accepted = "an integer from 1 to 1000000";
  } else if (name == "per_device_metrics") {
    ok = ParseBool(value, &config->per_device_metrics);
    accepted = "true or false";
  } else if (name == "device_id_pattern") {
    // Only the shape here: the companion compiles it (DeviceIdMatcher::Check),
    // so that the broker never links a regular expression library.
    ok = !value.empty() && value.size() <= kMaxDevicePatternBytes;
    if (ok) config->device_id_pattern = std::string(value);
    accepted = kDevicePatternAccepted;
  } else if (name == "http_auth_file" || name == "http_tls_cert" || name == "http_tls_key") {
    // Only the path's shape here; the file is read and checked at init, as
    // the user the broker dropped privileges to (src/http/http_security.h).
    // Relative paths would depend on the broker's working directory.
    ok = ValidFilePath(value);
    if (ok) {
      std::string* field = name == "http_auth_file"  ? &config->http_auth_file
                           : name == "http_tls_cert" ? &config->http_tls_cert
                                                     : &config->http_tls_key;
      *field = std::string(value);
    }
    accepted = "an absolute path to a file the mosquitto user can read";
  } else if (name == "snapshot_max_age") {
    ok = ParseSeconds(value, 0.05, 60, &config->snapshot_max_age_s);
    accepted = "seconds, a number from 0.05 to 60";
  } else if (name == "ring_size") {
    ok = ParseUnsigned(value, &config->ring_size_mib) && config->ring_size_mib >= 1 &&
         config->ring_size_mib <= 256;
    accepted = "MiB, an integer from 1 to 256";
  } else if (name == "companion_path") {
    // The file itself is checked by the plugin at init (it must exist and be
    // executable by the user the broker runs as).
    ok = ValidFilePath(value);
    if (ok) config->companion_path = std::string(value);
    accepted = "the absolute path of the tkmprom-companion executable";
  } else if (name == "bridge_clients") {
    ok = config->bridge_clients.Parse(value);
    accepted =
        "comma-separated MQTT client ids of bridge connections, up to 64; an id ending in '*' is "
        "a prefix";
  } else if (name == "bridged_publishes") {
    ok = true;
    if (value == "answers") {
      config->bridged_publishes = BridgedPublishes::kAnswers;
    } else if (value == "all") {
      config->bridged_publishes = BridgedPublishes::kAll;
    } else if (value == "none") {
      config->bridged_publishes = BridgedPublishes::kNone;
    } else {
      ok = false;
    }
    accepted = "answers, all or none";
  } else {
    *message = "tkmprom: unknown option plugin_opt_" + std::string(name) + " ignored";
    return OptionResult::kUnknown;
  }
  if (!ok) {
    *message = Bad(name, value, accepted);
    return OptionResult::kBad;
  }
  config->given[std::string(name)] = std::string(value);
  return OptionResult::kOk;
}

std::string ValidateConfig(const Config& config) {
  if (config.http_tls_cert.empty() != config.http_tls_key.empty()) {
    return "tkmprom: plugin_opt_http_tls_cert and plugin_opt_http_tls_key must be given together";
  }
  return "";
}

std::vector<std::string> DifferingOptions(const Config& a, const Config& b) {
  std::vector<std::string> names;
  for (const std::string& name : KnownOptionNames()) {
    auto ia = a.given.find(name);
    auto ib = b.given.find(name);
    const bool has_a = ia != a.given.end();
    const bool has_b = ib != b.given.end();
    if (has_a != has_b || (has_a && ia->second != ib->second)) names.push_back(name);
  }
  return names;
}

}  // namespace tkmprom
