// The companion's reading of the plugin's options: every option the broker
// was given, checked in full (the hook checked only those it needs), and the
// files they name read as the user the broker runs as.
//
// Thread safety: plain functions over values.
#ifndef TKMPROM_COMPANION_COMPANION_CONFIG_H_
#define TKMPROM_COMPANION_COMPANION_CONFIG_H_

#include <string>
#include <vector>

#include "src/common/option_blob.h"
#include "src/http/http_security.h"
#include "tkmprom/config.h"

namespace tkmprom {

struct CompanionConfig {
  Config config;
  HttpSecurity security;
  std::vector<std::string> warnings;  // log lines: unknown options
};

// Applies and checks `options`; returns "" or the one line that fails the
// broker's start (the same wording as every option check: option, value,
// what is accepted).
std::string LoadCompanionConfig(const OptionList& options, CompanionConfig* out);

}  // namespace tkmprom

#endif  // TKMPROM_COMPANION_COMPANION_CONFIG_H_
