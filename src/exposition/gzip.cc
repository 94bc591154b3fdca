#include "src/exposition/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <limits>

namespace tkmprom {
namespace {

constexpr int kGzipWindowBits = 16 + 15;  // 16: gzip wrapper, 15: 32 KiB window
constexpr int kMemLevel = 8;              // zlib's default
// zlib counts bytes in uInt; larger inputs are fed in chunks of this size.
constexpr size_t kMaxChunk = std::numeric_limits<uInt>::max();

// Ends the deflate stream on every exit path, including std::bad_alloc.
class DeflateStream {
 public:
  DeflateStream() = default;
  DeflateStream(const DeflateStream&) = delete;
  DeflateStream& operator=(const DeflateStream&) = delete;
  ~DeflateStream() {
    if (initialized_) deflateEnd(&stream_);
  }

  bool Init(int level) {
    initialized_ = deflateInit2(&stream_, level, Z_DEFLATED, kGzipWindowBits, kMemLevel,
                                Z_DEFAULT_STRATEGY) == Z_OK;
    return initialized_;
  }
  z_stream* get() { return &stream_; }

 private:
  z_stream stream_{};
  bool initialized_ = false;
};

}  // namespace

bool GzipCompress(std::string_view in, std::string* out, int level) {
  out->clear();
  DeflateStream deflate_stream;
  if (!deflate_stream.Init(level)) return false;
  z_stream* zs = deflate_stream.get();

  // deflateBound covers the gzip header and trailer, so for inputs below
  // 4 GiB one deflate() call finishes the stream without regrowing *out.
  out->resize(deflateBound(zs, static_cast<uLong>(std::min<size_t>(in.size(), kMaxChunk))));
  size_t in_pos = 0;
  size_t written = 0;
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    if (zs->avail_in == 0 && in_pos < in.size()) {
      const size_t chunk = std::min(in.size() - in_pos, kMaxChunk);
      // zlib's API is not const-correct; deflate only reads next_in.
      zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + in_pos));
      zs->avail_in = static_cast<uInt>(chunk);
      in_pos += chunk;
    }
    if (written == out->size()) out->resize(out->size() * 2 + 64);
    const size_t room = std::min(out->size() - written, kMaxChunk);
    zs->next_out = reinterpret_cast<Bytef*>(&(*out)[written]);
    zs->avail_out = static_cast<uInt>(room);
    const int flush = in_pos == in.size() && zs->avail_in == 0 ? Z_FINISH : Z_NO_FLUSH;
    ret = deflate(zs, flush);
    written += room - zs->avail_out;
    if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
      out->clear();
      return false;
    }
  }
  out->resize(written);
  return true;
}

GzipStream::~GzipStream() {
  if (initialized_) deflateEnd(&stream_);
}

bool GzipStream::Begin(std::string* out, size_t size_hint) {
  out_ = out;
  written_ = 0;
  out->clear();
  if (!initialized_) {
    initialized_ = deflateInit2(&stream_, level_, Z_DEFLATED, kGzipWindowBits, kMemLevel,
                                Z_DEFAULT_STRATEGY) == Z_OK;
    failed_ = !initialized_;
  } else {
    failed_ = deflateReset(&stream_) != Z_OK;
  }
  if (failed_) return false;
  out->resize(std::max<size_t>({size_hint, out->capacity(), 4096}));
  return true;
}

bool GzipStream::Deflate(std::string_view data, int flush) {
  if (failed_) return false;
  // zlib's API is not const-correct; deflate only reads next_in.
  stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream_.avail_in = static_cast<uInt>(data.size());
  for (;;) {
    if (written_ == out_->size()) out_->resize(out_->size() * 2);
    const size_t room = std::min(out_->size() - written_, kMaxChunk);
    stream_.next_out = reinterpret_cast<Bytef*>(&(*out_)[written_]);
    stream_.avail_out = static_cast<uInt>(room);
    const int ret = deflate(&stream_, flush);
    written_ += room - stream_.avail_out;
    if (ret == Z_STREAM_END) return true;
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      failed_ = true;
      return false;
    }
    // Done with this input once zlib consumed it all and had room left.
    if (flush == Z_NO_FLUSH && stream_.avail_in == 0 && stream_.avail_out > 0) return true;
  }
}

bool GzipStream::Write(std::string_view data) {
  while (data.size() > kMaxChunk) {
    if (!Deflate(data.substr(0, kMaxChunk), Z_NO_FLUSH)) return false;
    data.remove_prefix(kMaxChunk);
  }
  return Deflate(data, Z_NO_FLUSH);
}

bool GzipStream::Finish() {
  const bool ok = Deflate({}, Z_FINISH);
  if (ok) {
    out_->resize(written_);
  } else {
    out_->clear();
  }
  failed_ = true;  // until the next Begin()
  return ok;
}

}  // namespace tkmprom
