#include "src/http/metrics_cache.h"

#include <utility>

namespace tkmprom {

size_t MetricsCache::FormatIndex(ExpositionFormat format) {
  return format == ExpositionFormat::kOpenMetrics100 ? 1 : 0;
}

std::shared_ptr<const RenderedBody> MetricsCache::Cached(size_t format, bool gzip,
                                                         uint64_t generation, bool mark_requested) {
  MutexLock lock(&mu_);
  if (mark_requested) requested_[format] = true;
  const Bodies& bodies = bodies_[format];
  const std::shared_ptr<RenderedBody>& body = gzip ? bodies.gzip : bodies.plain;
  if (body != nullptr && body->generation >= generation) return body;
  return nullptr;
}

void MetricsCache::Render(const std::shared_ptr<const Snapshot>& snapshot,
                          ExpositionFormat format) {
  const size_t index = FormatIndex(format);
  auto plain = std::make_shared<RenderedBody>();
  auto gzip = std::make_shared<RenderedBody>();
  // Sized after the previous render, so that neither buffer regrows.
  plain->bytes.reserve(sizes_[index].plain);
  gzip->bytes.reserve(sizes_[index].gzip);
  const bool gzipped =
      RenderExposition(*snapshot, format, &plain->bytes, &gzip_streams_[index], &gzip->bytes);
  // The first render (or one much smaller than the last) doubled its way up
  // or was reserved too large: give back what the cached bodies do not use.
  for (std::string* bytes : {&plain->bytes, &gzip->bytes}) {
    if (bytes->capacity() > bytes->size() + bytes->size() / 8 + 4096) bytes->shrink_to_fit();
  }
  sizes_[index] = {plain->bytes.size() + plain->bytes.size() / 16,
                   gzip->bytes.size() + gzip->bytes.size() / 8};
  plain->generation = snapshot->generation;
  plain->published_ns = snapshot->published_ns;
  gzip->published_ns = snapshot->published_ns;
  plain->format = format;
  plain->gzip = false;
  gzip->generation = snapshot->generation;
  gzip->format = format;
  gzip->gzip = gzipped;
  if (!gzipped) gzip->bytes = plain->bytes;  // serve it uncompressed rather than not at all

  Bodies old;
  {
    MutexLock lock(&mu_);
    Bodies& current = bodies_[index];
    // A slow render of an older snapshot must not replace a newer body.
    if (current.plain != nullptr && current.plain->generation > snapshot->generation) return;
    old = std::exchange(current, Bodies{std::move(plain), std::move(gzip)});
  }
  // `old` (megabytes) is released here, unlocked; a response still sending
  // it keeps it alive until it is done.
}

std::shared_ptr<const RenderedBody> MetricsCache::Get(
    const std::shared_ptr<const Snapshot>& snapshot, ExpositionFormat format, bool gzip) {
  const size_t index = FormatIndex(format);
  const uint64_t generation = snapshot->generation;
  if (auto body = Cached(index, gzip, generation, /*mark_requested=*/true)) return body;

  MutexLock render_lock(&render_mu_[index]);
  // Another thread may have rendered it while this one waited.
  if (auto body = Cached(index, gzip, generation, /*mark_requested=*/false)) return body;
  Render(snapshot, format);
  MutexLock lock(&mu_);
  return gzip ? bodies_[index].gzip : bodies_[index].plain;
}

std::shared_ptr<const RenderedBody> MetricsCache::GetIfFresh(ExpositionFormat format, bool gzip,
                                                             int64_t min_published_ns) {
  const size_t index = FormatIndex(format);
  MutexLock lock(&mu_);
  requested_[index] = true;
  const Bodies& bodies = bodies_[index];
  const std::shared_ptr<RenderedBody>& body = gzip ? bodies.gzip : bodies.plain;
  if (body != nullptr && body->published_ns >= min_published_ns) return body;
  return nullptr;
}

void MetricsCache::Prepare(const std::shared_ptr<const Snapshot>& snapshot) {
  for (ExpositionFormat format : {ExpositionFormat::kText004, ExpositionFormat::kOpenMetrics100}) {
    const size_t index = FormatIndex(format);
    bool wanted = format == ExpositionFormat::kText004;
    if (!wanted) {
      MutexLock lock(&mu_);
      wanted = requested_[index];
    }
    if (wanted) Get(snapshot, format, /*gzip=*/false);
  }
}

size_t MetricsCache::MemoryBytes() const {
  MutexLock lock(&mu_);
  size_t bytes = 0;
  for (const Bodies& b : bodies_) {
    if (b.plain) bytes += b.plain->bytes.capacity();
    if (b.gzip) bytes += b.gzip->bytes.capacity();
  }
  return bytes;
}

}  // namespace tkmprom
