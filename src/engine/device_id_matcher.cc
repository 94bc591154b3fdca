#include "src/engine/device_id_matcher.h"

#include <re2/re2.h>

#include "tkmprom/topic.h"

namespace tkmprom {
namespace {

// RE2's default program budget (8 MiB) is far more than any id pattern
// needs; a smaller one refuses patterns whose automaton would be huge.
constexpr int64_t kMaxProgramBytes = int64_t{1} << 20;

RE2::Options PatternOptions() {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kMaxProgramBytes);
  return options;
}

}  // namespace

DeviceIdMatcher::DeviceIdMatcher(const Config& config)
    : is_default_(config.DefaultDevicePattern()) {
  if (is_default_) return;
  auto re = std::make_unique<RE2>(config.device_id_pattern, PatternOptions());
  if (re->ok()) regex_ = std::move(re);
}

DeviceIdMatcher::~DeviceIdMatcher() = default;

std::string DeviceIdMatcher::Check(std::string_view pattern) {
  std::string reason;
  if (pattern.empty() || pattern.size() > kMaxDevicePatternBytes) {
    reason = "empty or too long";
  } else {
    RE2 re(re2::StringPiece(pattern.data(), pattern.size()), PatternOptions());
    if (re.ok()) return "";
    reason = re.error();
  }
  std::string m = "tkmprom: invalid value '";
  m.append(pattern).append("' for plugin_opt_device_id_pattern; accepted: ");
  m.append(kDevicePatternAccepted).append(" (").append(reason).append(")");
  return m;
}

bool DeviceIdMatcher::Matches(std::string_view s) const {
  if (is_default_) return IsDefaultDeviceId(s);
  if (!regex_ || s.empty()) return false;
  return RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *regex_);
}

}  // namespace tkmprom
