#include "src/http/metrics_cache.h"

#include <utility>

#include "src/exposition/gzip.h"

namespace tkmprom {

size_t MetricsCache::SlotIndex(ExpositionFormat format, bool gzip) {
  size_t base = format == ExpositionFormat::kOpenMetrics100 ? 2 : 0;
  return base + (gzip ? 1 : 0);
}

std::shared_ptr<const RenderedBody> MetricsCache::Cached(size_t slot, uint64_t generation,
                                                         bool mark_requested) {
  MutexLock lock(&mu_);
  if (mark_requested) requested_[slot] = true;
  const std::shared_ptr<const RenderedBody>& body = bodies_[slot];
  if (body != nullptr && body->generation >= generation) return body;
  return nullptr;
}

void MetricsCache::Store(size_t slot, const std::shared_ptr<const RenderedBody>& body) {
  std::shared_ptr<const RenderedBody> old;
  {
    MutexLock lock(&mu_);
    std::shared_ptr<const RenderedBody>& current = bodies_[slot];
    // A slow render of an older snapshot must not replace a newer body.
    if (current != nullptr && current->generation > body->generation) return;
    old = std::move(current);
    current = body;
  }
  // `old` (possibly megabytes) is freed here, unlocked.
}

std::shared_ptr<const RenderedBody> MetricsCache::Get(
    const std::shared_ptr<const Snapshot>& snapshot, ExpositionFormat format, bool gzip) {
  const size_t slot = SlotIndex(format, gzip);
  const uint64_t generation = snapshot->generation;
  if (auto body = Cached(slot, generation, /*mark_requested=*/true)) return body;

  MutexLock render_lock(&render_mu_[slot]);
  // Another thread may have rendered it while this one waited.
  if (auto body = Cached(slot, generation, /*mark_requested=*/false)) return body;

  std::shared_ptr<const RenderedBody> result;
  if (gzip) {
    // Lock order: a gzip slot's render_mu, then its plain slot's.
    std::shared_ptr<const RenderedBody> plain = Get(snapshot, format, /*gzip=*/false);
    auto compressed = std::make_shared<RenderedBody>();
    compressed->generation = plain->generation;
    compressed->format = format;
    compressed->gzip = true;
    if (GzipCompress(plain->bytes, &compressed->bytes)) {
      result = std::move(compressed);
    } else {
      result = std::move(plain);  // serve it uncompressed rather than not at all
    }
  } else {
    auto rendered = std::make_shared<RenderedBody>();
    rendered->generation = generation;
    rendered->format = format;
    WriteExposition(snapshot->families, format, &rendered->bytes);
    result = std::move(rendered);
  }
  Store(slot, result);
  return result;
}

void MetricsCache::Prepare(const std::shared_ptr<const Snapshot>& snapshot) {
  for (ExpositionFormat format : {ExpositionFormat::kText004, ExpositionFormat::kOpenMetrics100}) {
    for (bool gzip : {false, true}) {
      bool wanted = format == ExpositionFormat::kText004;
      if (!wanted) {
        MutexLock lock(&mu_);
        wanted = requested_[SlotIndex(format, gzip)];
      }
      if (wanted) Get(snapshot, format, gzip);
    }
  }
}

}  // namespace tkmprom
