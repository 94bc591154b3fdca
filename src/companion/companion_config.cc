#include "src/companion/companion_config.h"

#include "src/engine/device_id_matcher.h"

namespace tkmprom {

std::string LoadCompanionConfig(const OptionList& options, CompanionConfig* out) {
  for (const auto& [key, value] : options) {
    std::string message;
    switch (ApplyOption(key, value, &out->config, &message)) {
      case OptionResult::kOk:
        break;
      case OptionResult::kUnknown:
        out->warnings.push_back(message);
        break;
      case OptionResult::kBad:
        return message;
    }
  }
  if (std::string problem = ValidateConfig(out->config); !problem.empty()) return problem;
  if (!out->config.DefaultDevicePattern()) {
    if (std::string problem = DeviceIdMatcher::Check(out->config.device_id_pattern);
        !problem.empty()) {
      return problem;
    }
  }
  return LoadHttpSecurity(out->config, &out->security);
}

}  // namespace tkmprom
