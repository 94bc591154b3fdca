// Test helpers: drives an Engine with a fake clock (milliseconds from an
// arbitrary origin) and reads single sample values back from its snapshot.
#ifndef TKMPROM_TESTS_ENGINE_ENGINE_HARNESS_H_
#define TKMPROM_TESTS_ENGINE_ENGINE_HARNESS_H_

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/engine/engine.h"
#include "src/exposition/snapshot_exposition.h"
#include "tkmprom/config.h"
#include "tkmprom/snapshot.h"

namespace tkmprom {

inline constexpr char kDev[] = "A1B2C3D4E5F6";
inline constexpr char kDev2[] = "0123456789AB";

using Labels = std::vector<std::pair<std::string, std::string>>;

class EngineHarness {
 public:
  explicit EngineHarness(const Config& config = Config()) : engine_(config) {}

  static int64_t Ns(int64_t ms) { return (1'000'000 + ms) * 1'000'000; }

  void Publish(MessageKind kind, int64_t ms, std::string_view topic, std::string_view payload,
               bool truncated = false) {
    Observation obs;
    obs.kind = kind;
    obs.timestamp_ns = Ns(ms);
    obs.topic = topic;
    obs.payload = payload;
    obs.payload_size = static_cast<uint32_t>(payload.size());
    obs.payload_truncated = truncated;
    obs.bridged = bridged_;
    engine_.Observe(obs);
  }
  // Marks the following publishes as sent by a bridge client (or not).
  void SetBridged(bool bridged) { bridged_ = bridged; }
  void Request(int64_t ms, std::string_view device, std::string_view symbol = "") {
    std::string p = "{\"type\":\"UPDATE\",\"device\":\"" + std::string(device) + "\"";
    if (!symbol.empty()) p += ",\"symbol\":\"" + std::string(symbol) + "\"";
    p += "}";
    Publish(MessageKind::kStockRequest, ms, "STOCKPRICEUPDATE", p);
  }
  void Answer(int64_t ms, std::string_view device, std::string_view payload) {
    Publish(MessageKind::kDeviceMessage, ms, device, payload);
  }
  void Heartbeat(int64_t ms, std::string_view payload) {
    Publish(MessageKind::kHeartbeat, ms, "DEVICESTATUS_RES", payload);
  }
  void Boot(int64_t ms, std::string_view device) {
    Publish(MessageKind::kBoot, ms, "TICKRMETERBOOT",
            "{\"type\":\"BOOT\",\"device\":\"" + std::string(device) + "\"}");
  }
  void Booted(int64_t ms, std::string_view device) {
    Publish(MessageKind::kBooted, ms, "DEVICE_BOOTED",
            "{\"type\":\"BOOT\",\"device\":\"" + std::string(device) + "\"}");
  }
  void Advance(int64_t ms) { engine_.Advance(Ns(ms)); }

  std::shared_ptr<const Snapshot> Snap(const PluginCounters& p = PluginCounters()) {
    snap_ = engine_.BuildSnapshot(p);
    families_ = CollectFamilies(*snap_);
    return snap_;
  }

  // The value of the sample `name` (family name + suffix) whose labels are
  // exactly `labels` (in any order), from a fresh snapshot; nullopt if absent.
  std::optional<double> Value(const std::string& name, const Labels& labels = {}) {
    Snap();
    return Find(families_, name, labels);
  }
  // Like Value, 0 when absent is not acceptable: -1 marks "absent".
  double V(const std::string& name, const Labels& labels = {}) {
    return Value(name, labels).value_or(-1);
  }

  static std::optional<double> Find(const Snapshot& s, const std::string& name,
                                    const Labels& labels) {
    return Find(CollectFamilies(s), name, labels);
  }
  static std::optional<double> Find(const std::vector<MetricFamily>& families,
                                    const std::string& name, const Labels& labels) {
    for (const MetricFamily& f : families) {
      if (name.compare(0, f.name.size(), f.name) != 0) continue;
      for (const Sample& sample : f.samples) {
        if (f.name + sample.suffix != name || sample.labels.size() != labels.size()) continue;
        bool all = true;
        for (const auto& [k, v] : labels) {
          bool found = false;
          for (const Label& l : sample.labels) found |= l.name == k && l.value == v;
          all &= found;
        }
        if (all) return sample.value;
      }
    }
    return std::nullopt;
  }

  // The families of the last Snap(), as exported.
  const std::vector<MetricFamily>& families() const { return families_; }

  // Every sample whose full name is `name`.
  std::vector<const Sample*> Samples(const std::string& name) {
    Snap();
    std::vector<const Sample*> out;
    for (const MetricFamily& f : families_) {
      for (const Sample& s : f.samples) {
        if (f.name + s.suffix == name) out.push_back(&s);
      }
    }
    return out;
  }

  // requests - (responses + errors + timeouts + superseded + pending) of a symbol.
  double LedgerGap(const std::string& symbol) {
    Snap();
    const Labels l = {{"symbol", symbol}};
    auto get = [&](const char* n) { return Find(families_, n, l).value_or(0); };
    return get("tickrmeter_stock_update_requests_total") -
           (get("tickrmeter_stock_update_responses_total") +
            get("tickrmeter_stock_update_errors_total") + get("tickrmeter_symbol_timeout_total") +
            get("tickrmeter_stock_update_superseded_total") +
            get("tickrmeter_stock_update_pending"));
  }

  // The same for one quote backend's tickrmeter_backend_* families (§7.5).
  double BackendLedgerGap(const std::string& backend) {
    Snap();
    const Labels l = {{"backend", backend}};
    auto get = [&](const char* n) { return Find(families_, n, l).value_or(0); };
    return get("tickrmeter_backend_requests_total") -
           (get("tickrmeter_backend_responses_total") + get("tickrmeter_backend_errors_total") +
            get("tickrmeter_backend_timeouts_total") + get("tickrmeter_backend_superseded_total") +
            get("tickrmeter_backend_pending"));
  }

  Engine& engine() { return engine_; }

 private:
  Engine engine_;
  bool bridged_ = false;
  std::shared_ptr<const Snapshot> snap_;
  std::vector<MetricFamily> families_;  // of snap_
};

// Payloads in the shapes of the protocol reference §1.3. `symbol_type` is
// written as given ("1", "\"2\""); empty leaves the field out.
inline std::string SingleQuote(const std::string& type, const std::string& symbol,
                               const std::string& symbol_type = "1") {
  return "{\"symbol\":\"" + symbol +
         "\",\"price\":\"$1.00\",\"p\":1,\"percent\":\"1 day +0.85%\",\"isPlaylist\":false,"
         "\"type\":\"" +
         type + "\",\"interval\":\"300\"," +
         (symbol_type.empty() ? "" : "\"symbolType\":" + symbol_type + ",") +
         "\"alertEnabled\":false}";
}
inline std::string PlaylistQuote(const std::string& type, const std::string& symbol,
                                 const std::string& symbols, int index) {
  return "{\"symbol\":\"" + symbol +
         "\",\"price\":\"$97123\",\"p\":97123.41,\"isPlaylist\":true,\"isMusicCreatorPl\":false,"
         "\"type\":\"" +
         type + "\",\"cycleInterval\":\"120\",\"updateInterval\":\"120\",\"symbols\":\"" + symbols +
         "\",\"symbolIndex\":" + std::to_string(index) + ",\"cycleMode\":\"default\"}";
}
// `payload` (a JSON object) with "symbolType":<symbol_type> added, the
// value written as given ("2", "\"2\"", "null").
inline std::string WithSymbolType(const std::string& payload, const std::string& symbol_type) {
  return "{\"symbolType\":" + symbol_type + "," + payload.substr(1);
}
inline constexpr char kPageReply[] =
    "{\"mode\":\"page\",\"page\":[{\"id\":812,\"ledColor\":\"green\",\"rev\":3,\"blink\":false,"
    "\"alert\":false}],\"updateInterval\":\"300\",\"ttl\":300,\"ledBrightness\":100}";
inline constexpr char kPageError[] =
    "{\"mode\":\"page\",\"page\":[{\"id\":-1,\"ledColor\":\"#000000\",\"rev\":-1,\"blink\":false,"
    "\"alert\":false}],\"updateInterval\":300,\"ttl\":300,\"ledBrightness\":100,\"error\":\"Error "
    "in getting data\"}";
inline constexpr char kNoConfig[] =
    "{\"type\":\"NO_CONFIG\",\"success\":false,\"message\":\"No configuration found.\"}";
inline constexpr char kNotFound[] =
    "{\"type\":\"DEVICE_ASSIGNED\",\"success\":false,\"message\":\"Device Not Found\"}";
inline constexpr char kDeviceReg[] =
    "{\"type\":\"DEVICE_REG\",\"key\":\"48213\",\"valid\":\"2025-01-12T15:04:05.000Z\","
    "\"success\":true,\"message\":\"ADDED_SUCCESSFULLY\"}";

}  // namespace tkmprom

#endif  // TKMPROM_TESTS_ENGINE_ENGINE_HARNESS_H_
