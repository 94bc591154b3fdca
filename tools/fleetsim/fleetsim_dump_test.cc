// Sanity test of the simulator in dump mode: 100 devices for 60 simulated
// seconds are recorded, the dump is parsed back and checked against the
// ground truth (counts per kind, the per-symbol and per-backend ledger
// identities, payload shapes, mixed-case playlist entries, time order,
// determinism of the seed). Also the oracle's nearest-rank quantile.
// Exit status 0 = pass.
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dump_transport.h"
#include "fleet_simulation.h"
#include "options.h"
#include "publish_kind.h"

namespace {

int g_failures = 0;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      ++g_failures;                                                        \
      std::fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                   \
      std::fputc('\n', stderr);                                            \
    }                                                                      \
  } while (0)

bool IsDeviceId(const std::string& s) {
  if (s.size() != 12) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

std::string Classify(const std::string& topic) {
  static const std::map<std::string, std::string> kExact = {
      {"STOCKPRICEUPDATE", "stock_request"}, {"DEVICESTATUS_RES", "heartbeat"},
      {"DEVICESTATUS", "status_poll"},       {"TICKRMETERBOOT", "boot"},
      {"DEVICE_BOOTED", "booted"},           {"HTTPSTREAMSTOCKS", "http_stream"}};
  auto it = kExact.find(topic);
  if (it != kExact.end()) return it->second;
  if (topic.rfind("LOG/", 0) == 0) return "log";
  if (topic.rfind("ALERT/", 0) == 0) return "alert";
  if (topic.rfind("FIRMWAREUPDATE/", 0) == 0) return "firmware_update";
  return IsDeviceId(topic) ? "device_message" : "other";
}

// Runs one dump; returns the summary and fills `text` with the dump.
nlohmann::json RunDump(const fleetsim::Options& options, std::string* text) {
  static volatile std::sig_atomic_t stop = 0;
  std::FILE* f = std::tmpfile();
  fleetsim::FleetSimulation sim(options, &stop);
  fleetsim::DumpTransport transport(f, &sim);
  sim.set_transport(&transport);
  sim.Run();
  std::fflush(f);
  std::rewind(f);
  text->clear();
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text->append(buf, n);
  std::fclose(f);
  return sim.Summary();
}

}  // namespace

void CheckNearestRank() {
  using fleetsim::NearestRank;
  // Contract §7.3's example: seven answers after 0.3 s, one after 3.0 s.
  std::vector<double> eight = {0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 3.0};
  CHECK(NearestRank(eight, 0.5) == 0.3, "p50 of the example");
  for (double q : {0.9, 0.95, 0.99}) CHECK(NearestRank(eight, q) == 3.0, "p%g of the example", q);
  std::vector<double> one = {1.5};
  for (double q : {0.5, 0.9, 0.95, 0.99}) CHECK(NearestRank(one, q) == 1.5, "n=1 q=%g", q);
  std::vector<double> two = {1, 2};
  CHECK(NearestRank(two, 0.5) == 1, "n=2 p50");
  CHECK(NearestRank(two, 0.9) == 2, "n=2 p90");
  // q*n exactly an integer: rank q*n, not the next one (0.95*20, 0.9*10 and
  // 0.99*100 are 19, 9 and 99 only after rounding).
  for (int n : {10, 20, 100, 1000, 100000}) {
    std::vector<double> v(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i + 1;  // rank i+1 has value i+1
    for (double q : {0.5, 0.9, 0.95, 0.99}) {
      double want = std::ceil(q * n - 1e-6);
      CHECK(NearestRank(v, q) == want, "n=%d q=%g: %g, want %g", n, q, NearestRank(v, q), want);
    }
  }
  std::vector<double> seven_tenths(100);
  for (int i = 0; i < 100; ++i) seven_tenths[static_cast<size_t>(i)] = i + 1;
  CHECK(NearestRank(seven_tenths, 0.07) == 7, "0.07*100 rounds above 7");
}

int main() {
  CheckNearestRank();

  fleetsim::Options options;
  options.devices = 100;
  options.symbols = 200;
  options.duration = 60;
  options.rate_scale = 4;  // more requests in a short run
  options.duplicates = 2;
  options.boot_mean_days = 0.01;  // a few boots within the minute
  options.unclaimed_share = 0.05;
  options.error_device_share = 0.05;
  options.mixed_case_share = 0.2;
  options.dump_path = "unused";
  options.drain = options.request_timeout + 3;

  std::string dump;
  nlohmann::json summary = RunDump(options, &dump);

  std::map<std::string, uint64_t> counted;
  double last_t = -1;
  size_t lines = 0, pos = 0;
  uint64_t current_heartbeats = 0, mixed_case_requests = 0, index_minus_one = 0;
  uint64_t quotes_without_type = 0;
  while (pos < dump.size()) {
    size_t end = dump.find('\n', pos);
    std::string line = dump.substr(pos, end - pos);
    pos = end + 1;
    ++lines;
    auto j = nlohmann::json::parse(line, nullptr, false);
    CHECK(!j.is_discarded(), "line %zu is not JSON", lines);
    if (j.is_discarded()) continue;
    double t = j["t"].get<double>();
    CHECK(t >= last_t, "line %zu goes back in time", lines);
    last_t = t;
    std::string topic = j["topic"], payload = j["payload"], client = j["client"];
    std::string kind = Classify(topic);
    counted[kind]++;
    bool text = kind == "log" || (kind == "firmware_update" && payload.empty());
    if (!text) {
      auto p = nlohmann::json::parse(payload, nullptr, false);
      CHECK(!p.is_discarded(), "payload of line %zu is not JSON: %s", lines, payload.c_str());
      if (kind == "stock_request" && !p.is_discarded()) {
        CHECK(p["device"] == client, "request from %s names %s", client.c_str(),
              p["device"].dump().c_str());
        std::string symbol = p.value("symbol", "");
        for (char ch : symbol) {
          if (ch >= 'a' && ch <= 'z') {
            ++mixed_case_requests;
            break;
          }
        }
      }
      if (kind == "device_message" && !p.is_discarded() && p.contains("price")) {
        quotes_without_type += !p.contains("symbolType");
        if (p.value("symbolIndex", 0) == -1) ++index_minus_one;
      }
    }
    if (kind == "device_message" || kind == "booted" || kind == "http_stream") {
      CHECK(client.rfind("sim-", 0) == 0, "backend publish from %s", client.c_str());
    }
    if (kind == "heartbeat" &&
        payload.find("\"iv\":\"elec+HB\", \"xmc\":\"") != std::string::npos) {
      ++current_heartbeats;
    }
  }
  CHECK(lines > 1000, "only %zu publishes", lines);
  CHECK(current_heartbeats > 0, "no current-shape heartbeat");
  CHECK(mixed_case_requests > 0, "no mixed-case playlist request");
  CHECK(index_minus_one > 0, "no playlist answer with symbolIndex -1");
  CHECK(quotes_without_type == 0, "%llu quotes without symbolType",
        static_cast<unsigned long long>(quotes_without_type));

  const auto& totals = summary["totals"];
  for (auto it = totals.begin(); it != totals.end(); ++it) {
    CHECK(counted[it.key()] == it.value().get<uint64_t>(), "kind %s: dump %llu, truth %llu",
          it.key().c_str(), static_cast<unsigned long long>(counted[it.key()]),
          static_cast<unsigned long long>(it.value().get<uint64_t>()));
  }
  CHECK(summary["totals_all"].get<size_t>() == lines, "totals_all");
  for (const char* k : {"stock_request", "device_message", "heartbeat", "boot", "booted", "log"}) {
    CHECK(counted[k] > 0, "no %s publish", k);
  }

  uint64_t requests = 0;
  for (auto it = summary["symbols"].begin(); it != summary["symbols"].end(); ++it) {
    const auto& s = it.value();
    uint64_t r = s["requests"], sum = s["responses"].get<uint64_t>() + s["errors"].get<uint64_t>() +
                                      s["timeouts"].get<uint64_t>() +
                                      s["superseded"].get<uint64_t>() +
                                      s["pending"].get<uint64_t>();
    CHECK(r == sum, "label %s: requests %llu != outcomes %llu", it.key().c_str(),
          static_cast<unsigned long long>(r), static_cast<unsigned long long>(sum));
    CHECK(s["pending"] == 0, "label %s still pending after the drain", it.key().c_str());
    CHECK(s["latency"]["count"] == s["responses"], "label %s latency count", it.key().c_str());
    requests += r;
  }
  CHECK(requests == counted["stock_request"], "requests by label %llu vs publishes %llu",
        static_cast<unsigned long long>(requests),
        static_cast<unsigned long long>(counted["stock_request"]));

  // Per backend (contract §7.5): the same identity, every request counted
  // under exactly one backend, every answer's latency under its backend.
  uint64_t backend_requests = 0, backend_responses = 0;
  for (auto it = summary["backends"].begin(); it != summary["backends"].end(); ++it) {
    const auto& b = it.value();
    uint64_t r = b["requests"], sum = b["responses"].get<uint64_t>() + b["errors"].get<uint64_t>() +
                                      b["timeouts"].get<uint64_t>() +
                                      b["superseded"].get<uint64_t>() +
                                      b["pending"].get<uint64_t>();
    CHECK(r == sum, "backend %s: requests %llu != outcomes %llu", it.key().c_str(),
          static_cast<unsigned long long>(r), static_cast<unsigned long long>(sum));
    CHECK(b["latency"]["count"] == b["responses"], "backend %s latency count", it.key().c_str());
    backend_requests += r;
    backend_responses += b["responses"].get<uint64_t>();
  }
  CHECK(backend_requests == requests, "requests by backend %llu vs by label %llu",
        static_cast<unsigned long long>(backend_requests),
        static_cast<unsigned long long>(requests));
  CHECK(backend_responses == summary["requests"]["responses"].get<uint64_t>(),
        "responses by backend");
  for (const char* b : {"unknown", "stock", "crypto"}) {
    CHECK(summary["backends"].contains(b), "no requests under backend %s", b);
  }
  CHECK(summary["symbols"]["unknown"]["backend"] == "unknown",
        "the unknown label learned a backend");
  CHECK(summary["requests"]["responses"].get<uint64_t>() > requests / 2, "too few answers");
  CHECK(summary["requests"]["duplicates_sent"].get<uint64_t>() > 0, "K=2 sent no duplicates");
  CHECK(summary["unmatched"]["duplicate"].get<uint64_t>() > 0, "no duplicate seen");
  CHECK(summary["symbols"].contains("unknown"), "no first symbol-less request under 'unknown'");
  CHECK(summary["boots"]["real"].get<uint64_t>() > 0, "no boot");
  CHECK(summary["boots"]["real"] == counted["log"] ||
            summary["boots"]["real"].get<uint64_t>() >= counted["log"],
        "more boot logs than boots");

  // Same seed, same stream.
  std::string again;
  RunDump(options, &again);
  CHECK(again == dump, "two runs with one seed differ");

  if (g_failures == 0) std::printf("fleetsim_dump: %zu publishes checked, all good\n", lines);
  return g_failures == 0 ? 0 : 1;
}
