// MetricsCache: the rendered /metrics bodies, plain and gzip for each
// format, of one snapshot generation, so that a scrape is a copy of cached
// bytes and the exposition is rendered once per snapshot, not per request.
// Both encodings of a format come out of one pass (the text is gzipped as it
// is written), so neither waits for a render of its own.
//
// A body is handed out as a shared_ptr: a response being sent keeps the
// bytes it points into alive even after a newer generation replaced them, so
// a render writes new buffers (reserved at the last render's sizes) while
// the old ones stay servable; the zlib state is reused.
//
// Thread safety: every method may be called from any thread. Prepare() is
// meant for a thread that renders ahead of an expected scrape; Get() is
// called by HTTP threads. The shared lock is held only to copy or swap
// pointers; rendering happens outside it, under a per-format lock, so
// concurrent requests for the same missing body render it once (the others
// wait for it) while the other format stays servable. Checked by clang's
// -Wthread-safety (src/common/thread_annotations.h).
#ifndef TKMPROM_SRC_HTTP_METRICS_CACHE_H_
#define TKMPROM_SRC_HTTP_METRICS_CACHE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "src/common/mutex.h"
#include "src/common/thread_annotations.h"
#include "src/exposition/text_writer.h"
#include "tkmprom/snapshot.h"

namespace tkmprom {

struct RenderedBody {
  uint64_t generation = 0;
  int64_t published_ns = 0;  // the snapshot's (Snapshot::published_ns)
  ExpositionFormat format = ExpositionFormat::kText004;
  bool gzip = false;  // false also when compression was asked for but failed
  std::string bytes;
};

class MetricsCache {
 public:
  MetricsCache() = default;
  MetricsCache(const MetricsCache&) = delete;
  MetricsCache& operator=(const MetricsCache&) = delete;

  // The body of `*snapshot` (or of a newer generation, if one is cached
  // already) in `format`, gzip-compressed when `gzip` and compression works.
  // Renders both encodings when the cache holds only an older generation.
  // Never null. May throw std::bad_alloc.
  std::shared_ptr<const RenderedBody> Get(const std::shared_ptr<const Snapshot>& snapshot,
                                          ExpositionFormat format, bool gzip) EXCLUDES(mu_);

  // The cached body in `format` (gzip-compressed when `gzip`) if its
  // snapshot was published at `min_published_ns` or later, else nullptr.
  std::shared_ptr<const RenderedBody> GetIfFresh(ExpositionFormat format, bool gzip,
                                                 int64_t min_published_ns) EXCLUDES(mu_);

  // Renders, for `*snapshot`, the 0.0.4 text (plain and gzipped), and the
  // OpenMetrics text if it has been asked for at least once, so that
  // scrapes do not render. May throw std::bad_alloc.
  void Prepare(const std::shared_ptr<const Snapshot>& snapshot) EXCLUDES(mu_);

  // Bytes held by the cached bodies (their capacity), for memory reports.
  size_t MemoryBytes() const EXCLUDES(mu_);

 private:
  static constexpr size_t kFormats = 2;

  struct Bodies {
    std::shared_ptr<RenderedBody> plain;
    std::shared_ptr<RenderedBody> gzip;
  };

  static size_t FormatIndex(ExpositionFormat format);
  std::shared_ptr<const RenderedBody> Cached(size_t format, bool gzip, uint64_t generation,
                                             bool mark_requested) EXCLUDES(mu_);
  // Renders both encodings of `format` for `snapshot` and caches them. The
  // caller holds render_mu_[FormatIndex(format)] (an array element, which
  // the thread-safety analysis cannot name).
  void Render(const std::shared_ptr<const Snapshot>& snapshot, ExpositionFormat format)
      EXCLUDES(mu_);

  // render_mu_[format] is held while rendering that format; taken before mu_.
  std::array<Mutex, kFormats> render_mu_;
  // One zlib state per format, used under its render_mu_.
  std::array<GzipStream, kFormats> gzip_streams_{GzipStream(kGzipLevel), GzipStream(kGzipLevel)};
  struct Sizes {
    size_t plain = 0;
    size_t gzip = 0;
  };
  // What the next render reserves; each under its format's render_mu_.
  std::array<Sizes, kFormats> sizes_;
  mutable Mutex mu_;
  std::array<Bodies, kFormats> bodies_ GUARDED_BY(mu_);
  std::array<bool, kFormats> requested_ GUARDED_BY(mu_) = {};

 public:
  // zlib level of the gzip bodies: level 1 compresses Prometheus text about
  // 9:1 at a fraction of level 6's cost (see README, performance).
  static constexpr int kGzipLevel = 1;
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_METRICS_CACHE_H_
