// MetricsCache: the rendered /metrics bodies, one per (format, gzip), each
// for one snapshot generation, so that a scrape is a copy of cached bytes
// and the exposition is rendered once per snapshot, not once per request.
//
// A body is handed out as a shared_ptr: a response being sent keeps the
// bytes it points into alive even after a newer generation replaced them.
//
// Thread safety: every method may be called from any thread. Prepare() is
// meant for the engine thread right after it publishes a snapshot; Get() is
// called by HTTP threads. The shared lock is held only to copy or swap a
// pointer; rendering happens outside it, under a per-slot lock, so
// concurrent requests for the same missing body render it once (the others
// wait for it) while other slots stay servable. Checked by clang's
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
  // Renders it when the cache holds only an older generation. Never null.
  // May throw std::bad_alloc.
  std::shared_ptr<const RenderedBody> Get(const std::shared_ptr<const Snapshot>& snapshot,
                                          ExpositionFormat format, bool gzip) EXCLUDES(mu_);

  // Renders, for `*snapshot`, the 0.0.4 text plain and gzipped, plus every
  // other (format, gzip) that has been asked for at least once, so that
  // scrapes do not render. May throw std::bad_alloc.
  void Prepare(const std::shared_ptr<const Snapshot>& snapshot) EXCLUDES(mu_);

 private:
  static constexpr size_t kSlots = 4;  // 2 formats x {plain, gzip}

  static size_t SlotIndex(ExpositionFormat format, bool gzip);
  std::shared_ptr<const RenderedBody> Cached(size_t slot, uint64_t generation, bool mark_requested)
      EXCLUDES(mu_);
  void Store(size_t slot, const std::shared_ptr<const RenderedBody>& body) EXCLUDES(mu_);

  // render_mu_[slot] is held while rendering that slot; it is taken before
  // mu_, and a gzip slot's before its plain slot's.
  std::array<Mutex, kSlots> render_mu_;
  Mutex mu_;
  std::array<std::shared_ptr<const RenderedBody>, kSlots> bodies_ GUARDED_BY(mu_);
  std::array<bool, kSlots> requested_ GUARDED_BY(mu_) = {};
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_METRICS_CACHE_H_
