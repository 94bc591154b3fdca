#include "src/engine/string_index.h"

#include <sys/random.h>

#include <chrono>

namespace tkmprom {
namespace {

constexpr size_t kMinCapacity = 16;

inline uint64_t Mix(uint64_t h) {
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  return h;
}

uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// The last 1 to 8 bytes of a name as one word, with fixed-size loads only (a
// memcpy of a variable length is a library call, and names are hashed and
// compared for nearly every observation): overlapping loads when the name
// has at least 8 (or 4) bytes, else its first, middle and last byte. For a
// given length the word determines the bytes, so equal words mean equal
// tails.
uint64_t Tail(const char* name, size_t size, size_t n) {
  if (size >= 8) return Load64(name + size - 8);
  const char* p = name + size - n;
  if (n >= 4) return Load32(p) | (static_cast<uint64_t>(Load32(p + n - 4)) << 32);
  return static_cast<uint64_t>(static_cast<unsigned char>(p[0])) |
         (static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
         (static_cast<uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
}

// memcmp(a, b, n) == 0 for names, with fixed-size loads up to 16 bytes.
bool SameBytes(const char* a, const char* b, size_t n) {
  if (n > 16) return std::memcmp(a, b, n) == 0;
  if (n >= 8) return Load64(a) == Load64(b) && Load64(a + n - 8) == Load64(b + n - 8);
  if (n == 0) return true;
  return Tail(a, n, n) == Tail(b, n, n);
}

uint64_t RandomSeed() {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed)) {
    seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  return seed | 1;
}

}  // namespace

StringIndex::StringIndex() : seed_(RandomSeed()) { Rehash(kMinCapacity); }

uint32_t StringIndex::Hash(std::string_view name) const {
  // Eight bytes at a time, multiply-xorshift mixing; names are short.
  uint64_t h = seed_ ^ (name.size() * 0x9e3779b97f4a7c15ULL);
  const char* p = name.data();
  size_t n = name.size();
  while (n >= 8) {
    uint64_t k;
    std::memcpy(&k, p, 8);
    h = Mix(h ^ k) * 0x9e3779b97f4a7c15ULL;
    p += 8;
    n -= 8;
  }
  if (n > 0) h = Mix(h ^ Tail(name.data(), name.size(), n)) * 0x9e3779b97f4a7c15ULL;
  const auto h32 = static_cast<uint32_t>(Mix(h));
  return h32 < 2 ? h32 + 2 : h32;
}

bool StringIndex::Equal(const Slot& slot, uint32_t hash, std::string_view name) const {
  if (slot.hash != hash || slot.length != name.size()) return false;
  if (name.size() <= kInlineBytes) return SameBytes(slot.inline_name, name.data(), name.size());
  const char* stored;
  std::memcpy(&stored, slot.inline_name, sizeof(stored));
  return std::memcmp(stored, name.data(), name.size()) == 0;
}

size_t StringIndex::Locate(std::string_view name, uint32_t hash) const {
  for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.hash == kEmpty) return SIZE_MAX;
    if (Equal(s, hash, name)) return i;
  }
}

uint32_t StringIndex::Find(std::string_view name) const {
  const size_t i = Locate(name, Hash(name));
  return i == SIZE_MAX ? kNone : slots_[i].id;
}

void StringIndex::Insert(std::string_view name, uint32_t id) {
  // Keep at most 5/8 of the slots in use (live or erased) so probes stay
  // short; mostly erased slots are cleared without growing.
  if ((used_ + 1) * 8 > slots_.size() * 5) {
    Rehash((size_ + 1) * 8 > slots_.size() * 3 ? slots_.size() * 2 : slots_.size());
  }
  const uint32_t hash = Hash(name);
  size_t i = hash & mask_;
  while (slots_[i].hash >= 2) i = (i + 1) & mask_;
  Slot& s = slots_[i];
  if (s.hash == kEmpty) ++used_;
  s.hash = hash;
  s.id = id;
  s.length = static_cast<uint32_t>(name.size());
  if (name.size() <= kInlineBytes) {
    std::memcpy(s.inline_name, name.data(), name.size());
  } else {
    const char* stored = name.data();
    std::memcpy(s.inline_name, &stored, sizeof(stored));
  }
  ++size_;
}

void StringIndex::Erase(std::string_view name) {
  const size_t i = Locate(name, Hash(name));
  if (i == SIZE_MAX) return;
  slots_[i].hash = kErased;
  --size_;
}

void StringIndex::Reserve(size_t n) {
  size_t capacity = kMinCapacity;
  while (capacity * 5 < n * 8) capacity *= 2;
  if (capacity > slots_.size()) Rehash(capacity);
}

void StringIndex::Rehash(size_t capacity) {
  std::vector<Slot> old_slots(capacity, Slot{kEmpty, 0, 0, {}});
  old_slots.swap(slots_);
  mask_ = capacity - 1;
  size_ = 0;
  used_ = 0;
  for (size_t i = 0; i < old_slots.size(); ++i) {
    const Slot& s = old_slots[i];
    if (s.hash < 2) continue;
    size_t j = s.hash & mask_;
    while (slots_[j].hash != kEmpty) j = (j + 1) & mask_;
    slots_[j] = s;
    ++size_;
    ++used_;
  }
}

}  // namespace tkmprom
