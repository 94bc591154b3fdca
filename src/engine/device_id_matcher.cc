#include "src/engine/device_id_matcher.h"

#include "tkmprom/topic.h"

namespace tkmprom {

DeviceIdMatcher::DeviceIdMatcher(const Config& config)
    : is_default_(config.DefaultDevicePattern()) {
  if (is_default_) return;
  try {
    regex_ = std::make_unique<std::regex>(config.device_id_pattern,
                                          std::regex::ECMAScript | std::regex::optimize);
  } catch (...) {
    regex_.reset();
  }
}

bool DeviceIdMatcher::Matches(std::string_view s) const {
  if (is_default_) return IsDefaultDeviceId(s);
  if (!regex_ || s.empty()) return false;
  try {
    // Search, not match: the pattern carries its own anchors, like the default.
    return std::regex_search(s.begin(), s.end(), *regex_);
  } catch (...) {
    return false;
  }
}

}  // namespace tkmprom
