// libFuzzer harness for what an HTTP client controls in tkmprom's own code
// (libmicrohttpd parses the request itself): the Accept and Accept-Encoding
// headers of /metrics (NegotiateFormat, AcceptsGzip), the `limit` query of
// /api/v1/symbols/slowest (ParseSlowestLimit) and the device id in
// /api/v1/devices/<id> (DeviceJson).
//
// Input: the four values separated by '\n' (missing ones are empty).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "src/exposition/negotiation.h"
#include "src/http/api_json.h"
#include "tkmprom/snapshot.h"

namespace tkmprom {
namespace {

std::string_view NextLine(std::string_view* input) {
  const size_t end = input->find('\n');
  std::string_view line = input->substr(0, end);
  input->remove_prefix(end == std::string_view::npos ? input->size() : end + 1);
  return line;
}

const Snapshot& OneDeviceSnapshot() {
  static const Snapshot* snapshot = [] {
    auto* s = new Snapshot();
    DeviceState d;
    d.device_id = "A1B2C3D4E5F6";
    d.firmware_version = "70p";
    d.online = true;
    d.battery = 87;
    s->devices.push_back(d);
    SymbolWindow w;
    w.symbol = "AAPL";
    w.avg_latency_s = 0.2;
    w.p95_latency_s = 0.4;
    w.requests = 50;
    s->symbols.push_back(w);
    return s;
  }();
  return *snapshot;
}

}  // namespace
}  // namespace tkmprom

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tkmprom;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view accept = NextLine(&input);
  const std::string_view accept_encoding = NextLine(&input);
  const std::string_view limit = NextLine(&input);
  const std::string_view device_id = NextLine(&input);

  const ExpositionFormat format = NegotiateFormat(accept);
  if (format != ExpositionFormat::kText004 && format != ExpositionFormat::kOpenMetrics100) {
    std::abort();
  }
  AcceptsGzip(accept_encoding);

  const std::optional<size_t> parsed = ParseSlowestLimit(limit);
  if (parsed && (*parsed < 1 || *parsed > kMaxSlowestLimit)) {
    std::fprintf(stderr, "http_request_fuzzer: limit %zu outside 1..%zu\n", *parsed,
                 kMaxSlowestLimit);
    std::abort();
  }
  SlowestSymbolsJson(OneDeviceSnapshot(), parsed.value_or(kDefaultSlowestLimit), 0);
  DeviceJson(OneDeviceSnapshot(), device_id);
  JsonError(device_id);
  return 0;
}
