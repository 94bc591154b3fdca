// Decides whether a string is a device id under `device_id_pattern`
// (plugin-contract.md §2): the hand-written check for the default pattern, a
// std::regex compiled once otherwise. The regex is slow, so callers look the
// id up among known devices first and call Matches() only for new ids.
//
// A pattern std::regex cannot compile (Config validation should have refused
// it) matches nothing; Matches() never throws.
//
// Thread safety: immutable after construction; Matches() is const and
// std::regex matching on one const regex from several threads is safe.
#ifndef TKMPROM_ENGINE_DEVICE_ID_MATCHER_H_
#define TKMPROM_ENGINE_DEVICE_ID_MATCHER_H_

#include <memory>
#include <regex>
#include <string_view>

#include "tkmprom/config.h"

namespace tkmprom {

class DeviceIdMatcher {
 public:
  explicit DeviceIdMatcher(const Config& config);

  bool is_default() const { return is_default_; }
  bool Matches(std::string_view s) const;

 private:
  bool is_default_;
  std::unique_ptr<std::regex> regex_;  // null with the default pattern or a bad one
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_DEVICE_ID_MATCHER_H_
