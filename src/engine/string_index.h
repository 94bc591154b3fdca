// A map from names to small integer ids, used to intern device ids and
// symbols on the engine's per-message path.
//
// An open-addressing table (linear probing, tombstones) of 32-byte slots.
// Names up to kInlineBytes long (every device id, nearly every symbol) are
// kept in the slot itself, so a lookup usually touches one cache line; longer
// names are compared through a pointer into storage the caller owns. The
// hash is seeded per process, so a publisher cannot aim collisions at it.
// Lookups never allocate; Insert allocates only when the table grows.
//
// The caller must keep the characters of a long name alive and unmoved while
// the name is in the index (entries in a std::deque, whose elements never
// move).
//
// Thread safety: not thread-safe; owned by the engine thread.
#ifndef TKMPROM_ENGINE_STRING_INDEX_H_
#define TKMPROM_ENGINE_STRING_INDEX_H_

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace tkmprom {

class StringIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr size_t kInlineBytes = 20;

  StringIndex();

  // Makes room for `n` names without growing.
  void Reserve(size_t n);
  uint32_t Find(std::string_view name) const;
  // Adds `name` (not present yet). A name longer than kInlineBytes must view
  // storage that outlives its presence in the index.
  void Insert(std::string_view name, uint32_t id);
  void Erase(std::string_view name);
  size_t size() const { return size_; }
  size_t MemoryBytes() const { return slots_.capacity() * sizeof(Slot); }

 private:
  struct Slot {
    uint32_t hash;  // 0: empty, 1: erased, else the name's hash (forced >= 2)
    uint32_t id;
    uint32_t length;
    // The name when length <= kInlineBytes, else (memcpy'd) a pointer to
    // the caller's characters.
    char inline_name[kInlineBytes];
  };
  static_assert(sizeof(Slot) == 32, "a slot is half a cache line");
  static constexpr uint32_t kEmpty = 0;
  static constexpr uint32_t kErased = 1;

  uint32_t Hash(std::string_view name) const;
  bool Equal(const Slot& slot, uint32_t hash, std::string_view name) const;
  // Index of the slot holding `name`, or SIZE_MAX.
  size_t Locate(std::string_view name, uint32_t hash) const;
  void Rehash(size_t capacity);

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  size_t used_ = 0;  // live + erased slots
  uint64_t seed_;
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_STRING_INDEX_H_
