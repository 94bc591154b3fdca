#include "tkmprom/config.h"

namespace tkmprom {

bool Config::DefaultDevicePattern() const { return device_id_pattern == "^[0-9A-F]{12}$"; }

}  // namespace tkmprom
