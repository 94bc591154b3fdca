// The plugin's configuration: every `plugin_opt_<name>` of the contract,
// parsed and validated once at init, then read-only.
//
// Thread safety: a Config is immutable after parsing; share it freely.
#ifndef TKMPROM_CONFIG_H_
#define TKMPROM_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tkmprom {

// plugin_opt_bridge_clients: the client ids of bridge connections. An entry
// ending in '*' matches every id that starts with what precedes the '*'.
// Matches() runs on the broker's thread for every publish when the set is not
// empty: a length check and a memcmp per entry, no allocation.
class ClientIdSet {
 public:
  // Parses "id,prefix*,..."; false if an entry is empty, is a lone '*', has a
  // '*' before its end, or there are more than kMaxEntries.
  bool Parse(std::string_view text);
  bool empty() const { return entries_.empty(); }
  bool Matches(std::string_view client_id) const {
    for (const Entry& e : entries_) {
      if (e.prefix ? client_id.substr(0, e.text.size()) == e.text : client_id == e.text) {
        return true;
      }
    }
    return false;
  }

  static constexpr size_t kMaxEntries = 64;
  static constexpr size_t kMaxEntryBytes = 256;

 private:
  struct Entry {
    std::string text;
    bool prefix;
  };
  std::vector<Entry> entries_;
};

// plugin_opt_bridged_publishes: what the engine does with publishes that
// arrived over a bridge (they are always counted in
// tickrmeter_messages_bridged_total and never in tickrmeter_messages_total).
enum class BridgedPublishes : uint8_t {
  kAnswers,  // those on tracked devices' topics; sightings of them elsewhere
  kAll,      // all of them, as if the sender were a local client
  kNone,     // none
};

struct Config {
  // http_listen, split: host is a numeric IPv4 or IPv6 address (no brackets).
  std::string http_host = "127.0.0.1";
  uint16_t http_port = 10883;
  bool http_ipv6 = false;

  double request_timeout_s = 30;
  double device_timeout_s = 2100;
  double symbol_expiry_s = 86400;
  std::vector<double> latency_buckets = {0.1, 0.5, 1, 2, 5, 10, 30, 60};
  double quantile_window_s = 300;
  uint64_t ranking_min_requests = 10;
  // The oldest snapshot a request is served from: a scrape sees every
  // publish the broker received more than this long before it.
  double snapshot_max_age_s = 1;
  uint64_t max_devices = 100000;  // at most kMaxDevicesLimit
  static constexpr uint64_t kMaxDevicesLimit = 10000000;
  uint64_t max_symbols = 10000;
  bool per_device_metrics = false;
  std::string device_id_pattern = "^[0-9A-F]{12}$";
  std::string http_auth_file;
  std::string http_tls_cert;
  std::string http_tls_key;
  // The shared ring's size in MiB; RingBytes() rounds it up to a power of two.
  uint64_t ring_size_mib = 8;
  // "" : the tkmprom-companion beside the loaded plugin, else the packaged one.
  std::string companion_path;
  ClientIdSet bridge_clients;
  BridgedPublishes bridged_publishes = BridgedPublishes::kAnswers;

  // The options as written, by name, for comparing two inits.
  std::map<std::string, std::string> given;

  // True while device_id_pattern is the default, so the hook's hand-written
  // check classifies device topics and no regex is needed.
  bool DefaultDevicePattern() const;

  uint64_t RingBytes() const {
    uint64_t bytes = uint64_t{1} << 20;
    while (bytes < (ring_size_mib << 20)) bytes <<= 1;
    return bytes;
  }

  static int64_t ToNanos(double seconds) { return static_cast<int64_t>(seconds * 1e9); }
};

// device_id_pattern: what ApplyOption checks (its length) and what the
// companion's compile check names as accepted.
inline constexpr size_t kMaxDevicePatternBytes = 1024;
inline constexpr char kDevicePatternAccepted[] =
    "a non-empty RE2 regular expression of at most 1024 bytes (no backreferences or lookaround)";

enum class OptionResult { kOk, kUnknown, kBad };

// Applies one option to `config`. On kBad and kUnknown, `message` is one log
// line naming the option, the value and what is accepted.
OptionResult ApplyOption(std::string_view name, std::string_view value, Config* config,
                         std::string* message);

// Checks what one option cannot check alone (TLS needs both files). Returns an
// empty string when the configuration is usable, else one log line.
std::string ValidateConfig(const Config& config);

// Names of the options whose given values differ between two configurations.
std::vector<std::string> DifferingOptions(const Config& a, const Config& b);

// The names the contract defines, in the contract's order.
const std::vector<std::string>& KnownOptionNames();

}  // namespace tkmprom

#endif  // TKMPROM_CONFIG_H_
