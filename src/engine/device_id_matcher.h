// Decides whether a string is a device id under `device_id_pattern`
// (plugin-contract.md §2): the hand-written check for the default pattern,
// an RE2 compiled once otherwise.
//
// RE2, not std::regex: any MQTT client chooses the topics this runs on, and
// libstdc++'s backtracking matcher takes exponential time on patterns with
// nested repetition such as ^([0-9A-Za-z]+-?)+$ (one topic froze the
// engine). RE2 runs in time linear in the input, with bounded memory, and
// never recurses. It refuses backreferences and lookaround; Check() says so
// at start-up. The pattern is searched for, not matched whole: it carries
// its own anchors, like the default.
//
// Thread safety: immutable after construction; Matches() is const and RE2
// matching on one const RE2 from several threads is safe.
#ifndef TKMPROM_ENGINE_DEVICE_ID_MATCHER_H_
#define TKMPROM_ENGINE_DEVICE_ID_MATCHER_H_

#include <memory>
#include <string>
#include <string_view>

#include "tkmprom/config.h"

namespace re2 {
class RE2;
}

namespace tkmprom {

class DeviceIdMatcher {
 public:
  explicit DeviceIdMatcher(const Config& config);
  ~DeviceIdMatcher();

  // "" if `pattern` compiles, else one log line naming the option, the
  // value, what is accepted and RE2's reason.
  static std::string Check(std::string_view pattern);

  bool is_default() const { return is_default_; }
  bool Matches(std::string_view s) const;

 private:
  bool is_default_;
  std::unique_ptr<re2::RE2> regex_;  // null with the default pattern or a bad one
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_DEVICE_ID_MATCHER_H_
