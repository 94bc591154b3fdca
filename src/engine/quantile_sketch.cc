#include "src/engine/quantile_sketch.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace tkmprom {
namespace {

// alpha = 0.009: gamma = 1.009 / 0.991. std::log is not constexpr, so ln(gamma)
// is written out; QuantileSketchTest.EveryBucketWithinOnePercent fails if it
// drifts from kGamma.
constexpr double kGamma = 1.009 / 0.991;
constexpr double kLogGamma = 0.018000486023620893;
constexpr double kInvLogGamma = 1.0 / kLogGamma;
// Key 0 is bucket index ceil(ln(1e-6) / ln(gamma)) = -767.
constexpr int kIndexOffset = 767;
constexpr double kZeroThreshold = 1e-6;
// Extra counters allocated around the used range when the dense array grows,
// so that a range creeping outwards does not reallocate on every sample.
constexpr int kDenseSlack = 16;

}  // namespace

int QuantileSketch::KeyOf(double seconds) {
  const int index = static_cast<int>(std::ceil(std::log(seconds) * kInvLogGamma));
  return std::clamp(index + kIndexOffset, 0, kNumBuckets - 1);
}

double QuantileSketch::ValueOf(int key) {
  return 2.0 * std::exp((key - kIndexOffset) * kLogGamma) / (kGamma + 1.0);
}

void QuantileSketch::Add(double seconds) {
  if (!std::isfinite(seconds)) return;
  if (seconds < 0) seconds = 0;
  if (count_ == 0) {
    min_ = max_ = seconds;
  } else {
    min_ = std::min(min_, seconds);
    max_ = std::max(max_, seconds);
  }
  ++count_;
  sum_ += seconds;
  if (seconds <= kZeroThreshold) {
    ++zero_count_;
  } else {
    AddKey(KeyOf(seconds), 1);
  }
}

void QuantileSketch::AddKey(int key, uint16_t n) {
  if (!dense_) {
    uint16_t* keys = sparse_keys_;
    uint16_t* end = keys + sparse_size_;
    uint16_t* at = std::lower_bound(keys, end, static_cast<uint16_t>(key));
    const int pos = static_cast<int>(at - keys);
    if (at != end && *at == key) {
      if (n <= kMaxSparseCount - sparse_counts_[pos]) {
        sparse_counts_[pos] = static_cast<uint16_t>(sparse_counts_[pos] + n);
        return;
      }
      // The count would not fit in 16 bits: dense counters are 32 bits.
    } else if (sparse_size_ < kSparseCapacity) {
      std::copy_backward(at, end, end + 1);
      std::copy_backward(sparse_counts_ + pos, sparse_counts_ + sparse_size_,
                         sparse_counts_ + sparse_size_ + 1);
      *at = static_cast<uint16_t>(key);
      sparse_counts_[pos] = n;
      ++sparse_size_;
      return;
    }
    ConvertToDense();
  }
  Widen(key, key);
  AddDense(key, n);
}

void QuantileSketch::AddDense(int key, uint32_t n) {
  const int i = key - base_;
  if (wide_) {
    wide_[i] += n;
    return;
  }
  const uint32_t sum = narrow_[i] + n;
  if (sum <= UINT16_MAX) {
    narrow_[i] = static_cast<uint16_t>(sum);
    return;
  }
  Promote();
  wide_[i] = sum;
}

void QuantileSketch::Promote() {
  wide_ = std::make_unique<uint32_t[]>(capacity_);
  std::copy(narrow_.get(), narrow_.get() + capacity_, wide_.get());
  narrow_.reset();
}

void QuantileSketch::Widen(int lo, int hi) {
  if (lo >= used_lo_ && hi <= used_hi_) return;
  lo = std::min<int>(lo, used_lo_);
  hi = std::max<int>(hi, used_hi_);
  Cover(lo, hi);
  used_lo_ = static_cast<uint16_t>(lo);
  used_hi_ = static_cast<uint16_t>(hi);
}

void QuantileSketch::ConvertToDense() {
  const int lo = sparse_keys_[0];
  const int hi = sparse_keys_[sparse_size_ - 1];
  Cover(lo, hi);  // still sparse: nothing to move, the array is all zero
  dense_ = true;
  used_lo_ = static_cast<uint16_t>(lo);
  used_hi_ = static_cast<uint16_t>(hi);
  for (int i = 0; i < sparse_size_; ++i) AddDense(sparse_keys_[i], sparse_counts_[i]);
  sparse_size_ = 0;
}

void QuantileSketch::Cover(int lo, int hi) {
  const int size = capacity_;
  if (lo >= base_ && hi < base_ + size) return;
  const int span = hi - lo + 1;
  // Centre the needed range in the array so that it can grow either way.
  if (span <= size) {
    const int new_base = std::clamp(lo - (size - span) / 2, 0, kNumBuckets - size);
    if (dense_) {
      if (wide_) {
        Shift(wide_.get(), new_base);
      } else {
        Shift(narrow_.get(), new_base);
      }
    }
    base_ = static_cast<uint16_t>(new_base);
    return;
  }
  const int new_size = std::min(kNumBuckets, span + kDenseSlack);
  const int new_base = std::clamp(lo - (new_size - span) / 2, 0, kNumBuckets - new_size);
  if (wide_) {
    wide_ = Regrown(wide_.get(), new_size, new_base);
  } else {
    narrow_ = Regrown(narrow_.get(), new_size, new_base);
  }
  capacity_ = static_cast<uint16_t>(new_size);
  base_ = static_cast<uint16_t>(new_base);
}

template <typename T>
void QuantileSketch::Shift(T* data, int new_base) {
  const int len = used_hi_ - used_lo_ + 1;
  const int from = used_lo_ - base_;
  const int to = used_lo_ - new_base;
  std::memmove(data + to, data + from, len * sizeof(T));
  std::fill(data, data + to, T{0});
  std::fill(data + to + len, data + capacity_, T{0});
}

template <typename T>
std::unique_ptr<T[]> QuantileSketch::Regrown(const T* data, int new_size, int new_base) const {
  std::unique_ptr<T[]> grown = std::make_unique<T[]>(new_size);  // zeroed
  if (dense_) {
    std::copy(data + (used_lo_ - base_), data + (used_hi_ - base_ + 1),
              grown.get() + (used_lo_ - new_base));
  }
  return grown;
}

void QuantileSketch::Merge(const QuantileSketch& other) {
  if (other.count_ == 0) return;
  if (&other == this) {
    QuantileSketch copy;
    copy.Merge(other);
    Merge(copy);
    return;
  }
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  zero_count_ += other.zero_count_;
  sum_ += other.sum_;
  if (!other.dense_) {
    for (int i = 0; i < other.sparse_size_; ++i)
      AddKey(other.sparse_keys_[i], other.sparse_counts_[i]);
    return;
  }
  // Make room for the whole of other's range once, then add counters directly.
  if (!dense_) {
    if (sparse_size_ == 0) {
      Cover(other.used_lo_, other.used_hi_);
      dense_ = true;
      used_lo_ = other.used_lo_;
      used_hi_ = other.used_hi_;
    } else {
      ConvertToDense();
    }
  }
  Widen(other.used_lo_, other.used_hi_);
  if (other.wide_) {
    MergeDense(other.wide_.get() + (other.used_lo_ - other.base_), other.used_lo_, other.used_hi_);
  } else {
    MergeDense(other.narrow_.get() + (other.used_lo_ - other.base_), other.used_lo_,
               other.used_hi_);
  }
}

template <typename T>
void QuantileSketch::MergeDense(const T* counts, int lo, int hi) {
  for (int k = lo; k <= hi; ++k) AddDense(k, counts[k - lo]);
}

void QuantileSketch::Clear() {
  if (dense_) {
    const int from = used_lo_ - base_;
    const int to = used_hi_ - base_ + 1;
    if (wide_) {
      std::fill(wide_.get() + from, wide_.get() + to, 0u);
    } else {
      std::fill(narrow_.get() + from, narrow_.get() + to, uint16_t{0});
    }
    dense_ = false;
  }
  sparse_size_ = 0;
  count_ = 0;
  zero_count_ = 0;
  sum_ = 0;
  min_ = max_ = 0;
}

double QuantileSketch::Clamped(double value) const { return std::clamp(value, min_, max_); }

uint64_t QuantileSketch::NearestRank(double q, uint64_t n) {
  const double product = q * static_cast<double>(n);
  const double rank = std::ceil(product - product * 1e-12);
  if (!(rank >= 1)) return 1;  // also NaN
  if (rank >= static_cast<double>(n)) return n;
  return static_cast<uint64_t>(rank);
}

double QuantileSketch::Quantile(double q) const {
  if (count_ == 0 || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  q = std::clamp(q, 0.0, 1.0);
  // 0-based index of the nearest-rank sample (plugin-contract.md §7.3).
  const uint64_t rank = NearestRank(q, count_) - 1;
  // The extremes are known exactly.
  if (rank == 0) return min_;
  if (rank == count_ - 1) return max_;
  if (rank < zero_count_) return Clamped(0);
  uint64_t seen = zero_count_;
  if (!dense_) {
    for (int i = 0; i < sparse_size_; ++i) {
      seen += sparse_counts_[i];
      if (seen > rank) return Clamped(ValueOf(sparse_keys_[i]));
    }
  } else if (wide_) {
    return DenseQuantile(wide_.get(), rank, seen);
  } else {
    return DenseQuantile(narrow_.get(), rank, seen);
  }
  return max_;  // unreachable while the counters add up to count_
}

template <typename T>
double QuantileSketch::DenseQuantile(const T* data, uint64_t rank, uint64_t seen) const {
  for (int k = used_lo_; k <= used_hi_; ++k) {
    seen += data[k - base_];
    if (seen > rank) return Clamped(ValueOf(k));
  }
  return max_;  // unreachable while the counters add up to count_
}

size_t QuantileSketch::MemoryBytes() const {
  return sizeof(*this) + capacity_ * (wide_ ? sizeof(uint32_t) : sizeof(uint16_t));
}

}  // namespace tkmprom
