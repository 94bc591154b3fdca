// A map from names to small integer ids, keyed by string_view into storage the
// caller owns (the table's own entries), so that looking a name up never
// allocates. Used to intern device ids and symbols.
//
// The caller must keep the viewed characters alive and unmoved while the name
// is in the index (entries in a std::deque, whose elements never move).
//
// Thread safety: not thread-safe; owned by the engine thread.
#ifndef TKMPROM_ENGINE_STRING_INDEX_H_
#define TKMPROM_ENGINE_STRING_INDEX_H_

#include <cstdint>
#include <string_view>
#include <unordered_map>

namespace tkmprom {

class StringIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  void Reserve(size_t n) { map_.reserve(n); }
  uint32_t Find(std::string_view name) const {
    auto it = map_.find(name);
    return it == map_.end() ? kNone : it->second;
  }
  // `name` must view storage that outlives its presence in the index.
  void Insert(std::string_view name, uint32_t id) { map_.emplace(name, id); }
  void Erase(std::string_view name) { map_.erase(name); }
  size_t size() const { return map_.size(); }

 private:
  std::unordered_map<std::string_view, uint32_t> map_;
};

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_STRING_INDEX_H_
