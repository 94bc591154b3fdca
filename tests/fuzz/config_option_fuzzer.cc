// libFuzzer harness for the option parser: ApplyOption() on every
// `name=value` line of the input, then ValidateConfig() and
// DifferingOptions() against the defaults, as the plugin's init does with
// the operator's plugin_opt_* lines.
//
// Besides crashes and sanitizer findings, it checks that an accepted value
// leaves the configuration within what the README promises (ranges, bucket
// order), since the engine relies on those.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tkmprom/config.h"

namespace tkmprom {
namespace {

void Fail(std::string_view name, std::string_view value, const char* what) {
  std::fprintf(stderr, "config_option_fuzzer: %.*s=%.*s accepted, but %s\n",
               static_cast<int>(name.size()), name.data(), static_cast<int>(value.size()),
               value.data(), what);
  std::abort();
}

bool InRange(double v, double min, double max) { return std::isfinite(v) && v >= min && v <= max; }

void CheckAccepted(std::string_view name, std::string_view value, const Config& c) {
  if (name == "request_timeout" && !InRange(c.request_timeout_s, 0.001, 86400)) {
    Fail(name, value, "request_timeout out of range");
  }
  if (name == "device_timeout" && !InRange(c.device_timeout_s, 0.001, 30 * 86400)) {
    Fail(name, value, "device_timeout out of range");
  }
  if (name == "quantile_window" && !InRange(c.quantile_window_s, 0.01, 86400)) {
    Fail(name, value, "quantile_window out of range");
  }
  if (name == "latency_buckets") {
    if (c.latency_buckets.empty() || c.latency_buckets.size() > 64) {
      Fail(name, value, "bucket count outside 1..64");
    }
    for (size_t i = 0; i < c.latency_buckets.size(); ++i) {
      const double b = c.latency_buckets[i];
      if (!std::isfinite(b) || b <= 0) Fail(name, value, "a bucket is not positive and finite");
      if (i > 0 && b <= c.latency_buckets[i - 1]) Fail(name, value, "buckets not ascending");
    }
  }
  if (name == "max_devices" && (c.max_devices < 1 || c.max_devices > 10000000)) {
    Fail(name, value, "max_devices out of range");
  }
  if (name == "max_symbols" && (c.max_symbols < 1 || c.max_symbols > 1000000)) {
    Fail(name, value, "max_symbols out of range");
  }
  if (name == "http_listen" && c.http_port == 0) Fail(name, value, "port 0");
}

}  // namespace
}  // namespace tkmprom

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tkmprom;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Config config;
  while (!input.empty()) {
    const size_t line_end = input.find('\n');
    std::string_view line = input.substr(0, line_end);
    input.remove_prefix(line_end == std::string_view::npos ? input.size() : line_end + 1);
    const size_t eq = line.find('=');
    std::string_view name = line.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : line.substr(eq + 1);
    std::string message;
    switch (ApplyOption(name, value, &config, &message)) {
      case OptionResult::kOk:
        if (!message.empty()) {
          std::fprintf(stderr, "config_option_fuzzer: message on success\n");
          std::abort();
        }
        CheckAccepted(name, value, config);
        break;
      case OptionResult::kBad:
      case OptionResult::kUnknown:
        // The operator reads this line in the broker's log.
        if (message.empty()) {
          std::fprintf(stderr, "config_option_fuzzer: refusal without a log line\n");
          std::abort();
        }
        break;
    }
  }
  ValidateConfig(config);
  DifferingOptions(config, Config());
  return 0;
}
