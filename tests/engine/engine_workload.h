// A synthetic fleet for the allocation test and the benchmark: devices with
// heartbeats and playlist bursts of requests, answered after a varying
// latency (some not at all, some twice), pre-rendered so that driving it
// allocates nothing outside the engine.
#ifndef TKMPROM_TESTS_ENGINE_ENGINE_WORKLOAD_H_
#define TKMPROM_TESTS_ENGINE_ENGINE_WORKLOAD_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "src/engine/engine.h"

namespace tkmprom {

class FleetWorkload {
 public:
  // `playlist` symbols per device out of `symbols` in total.
  FleetWorkload(int devices, int symbols, int playlist) : devices_(devices), playlist_(playlist) {
    for (int s = 0; s < symbols; ++s) symbol_names_.push_back("SYM" + std::to_string(s));
    for (int d = 0; d < devices; ++d) {
      char id[13];
      std::snprintf(id, sizeof(id), "%012X", d + 1);
      Device dev;
      dev.id = id;
      dev.heartbeat =
          std::string(R"({"status":"online","firmware_version":"70p","device":")") + id +
          R"(","battery":"87","vin":"1830","uptime":"86400","isCharging":"0","wflct":"3","iv":"elec+HB", "xmc":"1", "flashID":"C84016"})";
      std::string csv;
      for (int k = 0; k < playlist; ++k) {
        const std::string& sym = symbol_names_[(d * 7 + k * 13) % symbols];
        dev.requests.push_back(R"({"type":"UPDATE","device":")" + dev.id + R"(","symbol":")" + sym +
                               "\"}");
        csv += (k ? "," : "") + sym;
      }
      dev.requests.insert(dev.requests.begin(), R"({"type":"UPDATE","device":")" + dev.id + "\"}");
      for (int k = 0; k <= playlist; ++k) {
        const int index = k == 0 ? 0 : k - 1;
        const std::string& sym = symbol_names_[(d * 7 + index * 13) % symbols];
        dev.answers.push_back(R"({"symbol":")" + sym +
                              R"(","price":"$1.00","p":1,"isPlaylist":true,"type":")" +
                              (k == 0 ? "NEW" : "UPDATE") + R"(","symbols":")" + csv +
                              R"(","symbolIndex":)" + std::to_string(index) + "}");
      }
      devices_list_.push_back(std::move(dev));
    }
  }

  // One burst of device `d` at `t_ns`: heartbeat, requests, answers (the
  // i-th answer after (i % 7) * 150 ms; every 50th missing, every 20th twice).
  // Returns the number of observations.
  int Burst(Engine* engine, int d, int64_t t_ns, uint64_t round) {
    Device& dev = devices_list_[d];
    int n = 0;
    auto observe = [&](MessageKind kind, std::string_view topic, const std::string& payload,
                       int64_t at) {
      Observation obs;
      obs.kind = kind;
      obs.timestamp_ns = at;
      obs.topic = topic;
      obs.payload = payload;
      obs.payload_size = static_cast<uint32_t>(payload.size());
      engine->Observe(obs);
      ++n;
    };
    observe(MessageKind::kHeartbeat, "DEVICESTATUS_RES", dev.heartbeat, t_ns);
    for (const std::string& r : dev.requests)
      observe(MessageKind::kStockRequest, "STOCKPRICEUPDATE", r, t_ns);
    for (size_t i = 0; i < dev.answers.size(); ++i) {
      const uint64_t k = round * 31 + static_cast<uint64_t>(d) * 17 + i;
      if (k % 50 == 0) continue;
      const int64_t at = t_ns + static_cast<int64_t>(1 + (k % 7) * 150) * 1'000'000;
      observe(MessageKind::kDeviceMessage, dev.id, dev.answers[i], at);
      if (k % 20 == 0) observe(MessageKind::kDeviceMessage, dev.id, dev.answers[i], at);
    }
    return n;
  }

  // Every device bursts once, spread over `period_ns` starting at `start_ns`.
  int Round(Engine* engine, int64_t start_ns, int64_t period_ns, uint64_t round) {
    int n = 0;
    for (int d = 0; d < devices_; ++d) {
      n += Burst(engine, d, start_ns + period_ns * d / devices_, round);
    }
    return n;
  }

 private:
  struct Device {
    std::string id;
    std::string heartbeat;
    std::vector<std::string> requests;
    std::vector<std::string> answers;
  };
  int devices_;
  int playlist_;
  std::vector<std::string> symbol_names_;
  std::vector<Device> devices_list_;
};

}  // namespace tkmprom

#endif  // TKMPROM_TESTS_ENGINE_ENGINE_WORKLOAD_H_
