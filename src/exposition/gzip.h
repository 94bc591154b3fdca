// gzip compression of a rendered /metrics body, for clients whose
// Accept-Encoding allows it (see negotiation.h).
//
// Thread safety: a pure function; each call uses its own zlib stream.
#ifndef TKMPROM_SRC_EXPOSITION_GZIP_H_
#define TKMPROM_SRC_EXPOSITION_GZIP_H_

#include <string>
#include <string_view>

namespace tkmprom {

// Replaces *out with the gzip member (RFC 1952; zlib deflateInit2 with
// windowBits 16+15) of `in`, compressed at zlib `level` (0-9, or -1 for
// zlib's default). Returns false on a zlib error (for example an invalid
// level), leaving *out empty. May throw std::bad_alloc.
bool GzipCompress(std::string_view in, std::string* out, int level = 6);

}  // namespace tkmprom

#endif  // TKMPROM_SRC_EXPOSITION_GZIP_H_
