// The plugin's options as the broker gave them, handed from the broker to
// the processes it starts: a flat "key\0value\0key\0value\0..." blob in a
// memfd that every child reads again (a restarted companion too).
//
// Thread safety: plain functions over values.
#ifndef TKMPROM_COMMON_OPTION_BLOB_H_
#define TKMPROM_COMMON_OPTION_BLOB_H_

#include <string>
#include <utility>
#include <vector>

namespace tkmprom {

using OptionList = std::vector<std::pair<std::string, std::string>>;

inline constexpr size_t kMaxOptions = 256;
inline constexpr size_t kMaxOptionBytes = 8192;  // a key or a value

// The blob of `options`; a key or value with a NUL byte cannot occur (they
// come from C strings).
std::string EncodeOptions(const OptionList& options);

// Decodes a blob; false if it is malformed or over the caps above.
bool DecodeOptions(const std::string& blob, OptionList* out);

// Writes `blob` into a new sealed, close-on-exec memfd; returns it, or -1
// and *error.
int OptionsToMemfd(const std::string& blob, std::string* error);

// Reads a whole options memfd from offset 0 (at most kMaxOptions *
// 2 * (kMaxOptionBytes + 1) bytes); false and *error if it cannot.
bool ReadOptionsFd(int fd, std::string* blob, std::string* error);

}  // namespace tkmprom

#endif  // TKMPROM_COMMON_OPTION_BLOB_H_
