// Topic classification: which MessageKind a publish's topic belongs to.
//
// Runs on the broker's thread for every publish, so it is allocation-free and
// regex-free: exact names, the three prefixes of the protocol reference and the
// default device-id shape (12 uppercase hex digits) are checked by hand. A
// custom `device_id_pattern` is applied later, in the companion, to topics
// classified kOther (see DeviceIdMatcher).
//
// Thread safety: pure functions.
#ifndef TKMPROM_TOPIC_H_
#define TKMPROM_TOPIC_H_

#include <string_view>

#include "tkmprom/message_kind.h"

namespace tkmprom {

// True if `s` is exactly 12 characters of [0-9A-F].
bool IsDefaultDeviceId(std::string_view s);

// Classifies `topic`. With `default_device_pattern` false, device topics are
// left as kOther for the companion to decide.
MessageKind ClassifyTopic(std::string_view topic, bool default_device_pattern);

}  // namespace tkmprom

#endif  // TKMPROM_TOPIC_H_
