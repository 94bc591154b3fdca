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
  std::lock_guard<std::mutex> lock(mu_);
  if (mark_requested) slots_[slot].requested = true;
  const std::shared_ptr<const RenderedBody>& body = slots_[slot].body;
  if (body != nullptr && body->generation >= generation) return body;
  return nullptr;
}

void MetricsCache::Store(size_t slot, const std::shared_ptr<const RenderedBody>& body) {
  std::shared_ptr<const RenderedBody> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<const RenderedBody>& current = slots_[slot].body;
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

  std::lock_guard<std::mutex> render_lock(slots_[slot].render_mu);
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
        std::lock_guard<std::mutex> lock(mu_);
        wanted = slots_[SlotIndex(format, gzip)].requested;
      }
      if (wanted) Get(snapshot, format, gzip);
    }
  }
}

}  // namespace tkmprom
