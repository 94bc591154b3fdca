// A log-bucketed quantile sketch (DDSketch-style) for positive latencies in
// seconds, behind the per-symbol summary quantiles (plugin-contract.md §4:
// tickrmeter_symbol_latency_seconds, "within 1 % relative error").
//
// Quantile definition (plugin-contract.md §7.3): the quantile q of n samples
// is the sample of nearest rank ceil(q * n) (1-based) in ascending order, so
// the slowest sample for q * n > n - 1. Until issue 14 the rank was the
// 0-based floor(q * (n - 1)), one below nearest rank in small windows: seven
// answers at 0.3 s and one at 3.0 s gave p99 = 0.3 s, hiding the tail.
//
// Accuracy: relative accuracy alpha = 0.009. Bucket i holds the values in
// (gamma^(i-1), gamma^i] with gamma = (1 + alpha) / (1 - alpha) and answers with
// 2 * gamma^i / (gamma + 1), so every answer is within 0.9 % (plus rounding) of
// the exact sample at the same rank. The smallest and largest samples are kept
// exactly: ranks 1 and Count() answer them, and other answers are clamped
// to them, so a constant series, a single sample or two samples are exact.
//
// Range: values <= 1e-6 s (and negative values) go into a zero bucket and
// are answered as 0 (clamped to the smallest sample); values above 1e5 s are
// counted in the top bucket. NaN and infinite values are ignored.
//
// Memory: a WindowedStats keeps 11 sketches per symbol, most of them empty
// or nearly so, so the layout is compact. Up to kSparseCapacity distinct
// buckets are held inline (no heap) with 16-bit counts: a sub-window rarely
// sees more than 65535 answers in one bucket, and one that would goes dense
// first. Beyond kSparseCapacity buckets the sketch switches to a dense array
// that covers only the range of buckets in use (plus a little slack), at
// most kNumBuckets counters; its counters are 16 bits until one would pass
// 65535, and then 32 bits for good (counts and quantiles are exact either
// way). Clear() goes back to the sparse form but keeps the dense array's
// memory (and width) for reuse, so a sketch that is cleared and refilled with
// a similar distribution does not allocate again. sizeof(QuantileSketch) is
// 136 bytes.
//
// Thread safety: not thread-safe. One owner thread calls everything; const
// methods may run concurrently only with other const methods.
#ifndef TKMPROM_ENGINE_QUANTILE_SKETCH_H_
#define TKMPROM_ENGINE_QUANTILE_SKETCH_H_

#include <cstddef>
#include <cstdint>
#include <memory>

namespace tkmprom {

class QuantileSketch {
 public:
  // Bucket keys are bucket indices shifted to start at 0: key 0 holds
  // (1e-6, gamma^-767], key kNumBuckets - 1 everything above gamma^639 (~1e5 s).
  static constexpr int kNumBuckets = 1408;
  // Distinct buckets held inline before the sketch goes dense.
  static constexpr int kSparseCapacity = 16;
  // The largest count a sparse bucket holds; one more goes dense.
  static constexpr uint32_t kMaxSparseCount = UINT16_MAX;

  void Add(double seconds);
  void Merge(const QuantileSketch& other);
  void Clear();  // keeps the dense array's memory for reuse

  uint64_t Count() const { return count_; }
  double Sum() const { return sum_; }

  // q in [0, 1] (clamped). The exact reference is the sorted samples' element
  // of 1-based nearest rank NearestRank(q, Count()). NaN when empty or q is NaN.
  double Quantile(double q) const;

  // ceil(q * n) clamped to [1, n], for n >= 1 and q in [0, 1]. q * n carries
  // a rounding error of a few ulp (0.95 * 20 need not be exactly 19), which
  // must not push an integral product up one rank, so the product is
  // lowered by a relative 1e-12 before rounding up: far below the distance
  // of a genuinely fractional q * n from the next integer for any q with a
  // few decimals and any window size up to 10^9 answers.
  static uint64_t NearestRank(double q, uint64_t n);

  // Approximate heap + inline bytes, for tests and memory budgets.
  size_t MemoryBytes() const;

 private:
  static int KeyOf(double seconds);
  static double ValueOf(int key);

  // n is 1 or a sparse count, so it fits a sparse counter on its own.
  void AddKey(int key, uint16_t n);
  void ConvertToDense();
  // Makes the dense array cover keys [lo, hi] (which include every key in
  // use), moving or reallocating it; the caller then updates used_lo_/used_hi_.
  void Cover(int lo, int hi);
  // Dense only: extends the used range to include keys [lo, hi].
  void Widen(int lo, int hi);
  // Dense only: adds n to key's counter (inside the array), going wide if
  // it would pass 65535.
  void AddDense(int key, uint32_t n);
  void Promote();  // narrow_ -> wide_
  // Cover() helpers, for either counter width: moves the used range so that
  // the array starts at key new_base; returns a zeroed array of new_size
  // counters from key new_base with the used range copied in.
  template <typename T>
  void Shift(T* data, int new_base);
  template <typename T>
  std::unique_ptr<T[]> Regrown(const T* data, int new_size, int new_base) const;
  // Adds counts[0 .. hi - lo] to keys lo .. hi (which the array covers).
  template <typename T>
  void MergeDense(const T* counts, int lo, int hi);
  template <typename T>
  double DenseQuantile(const T* data, uint64_t rank, uint64_t seen) const;
  double Clamped(double value) const;

  // Dense form: counter k - base_ counts key k; every counter outside
  // [used_lo_, used_hi_] is zero, and all are zero while sparse. The
  // capacity_ counters are 16 bits (narrow_) until one would pass 65535,
  // then 32 bits (wide_) for good; exactly one of the two is set once the
  // sketch has been dense.
  std::unique_ptr<uint16_t[]> narrow_;
  std::unique_ptr<uint32_t[]> wide_;
  uint16_t capacity_ = 0;
  uint16_t base_ = 0;
  uint16_t used_lo_ = 0;
  uint16_t used_hi_ = 0;
  bool dense_ = false;
  uint8_t sparse_size_ = 0;
  // Sparse form: sparse_keys_[0, sparse_size_) ascending, with their counts.
  uint16_t sparse_keys_[kSparseCapacity] = {};
  uint16_t sparse_counts_[kSparseCapacity] = {};

  uint64_t count_ = 0;
  uint64_t zero_count_ = 0;
  double sum_ = 0;
  double min_ = 0;  // meaningful only while count_ > 0
  double max_ = 0;
};

static_assert(sizeof(QuantileSketch) <= 136, "see the member order and the Memory note");

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_QUANTILE_SKETCH_H_
