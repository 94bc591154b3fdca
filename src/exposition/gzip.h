// gzip compression of a rendered /metrics body, for clients whose
// Accept-Encoding allows it (see negotiation.h).
//
// GzipStream compresses a body while it is being written, so that both
// encodings come out of one pass; its zlib state (a few hundred KiB) is kept
// and reset between bodies instead of being allocated for each.
//
// Thread safety: GzipCompress is a pure function; each call uses its own
// zlib stream. A GzipStream belongs to one thread at a time.
#ifndef TKMPROM_SRC_EXPOSITION_GZIP_H_
#define TKMPROM_SRC_EXPOSITION_GZIP_H_

#include <zlib.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace tkmprom {

// Replaces *out with the gzip member (RFC 1952; zlib deflateInit2 with
// windowBits 16+15) of `in`, compressed at zlib `level` (0-9, or -1 for
// zlib's default). Returns false on a zlib error (for example an invalid
// level), leaving *out empty. May throw std::bad_alloc.
bool GzipCompress(std::string_view in, std::string* out, int level = 6);

class GzipStream {
 public:
  explicit GzipStream(int level = 6) : level_(level) {}
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // Starts a new gzip member written to *out (cleared; its capacity is kept,
  // and grown to `size_hint` bytes up front). False on a zlib error.
  bool Begin(std::string* out, size_t size_hint = 0);
  // Compresses `data` into the member. False once anything failed.
  bool Write(std::string_view data);
  // Ends the member; *out then holds exactly its bytes. False (and *out
  // empty) if anything failed since Begin().
  bool Finish();

 private:
  bool Deflate(std::string_view data, int flush);

  int level_;
  z_stream stream_{};
  bool initialized_ = false;
  bool failed_ = true;
  std::string* out_ = nullptr;
  size_t written_ = 0;
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_EXPOSITION_GZIP_H_
