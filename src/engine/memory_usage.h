// Approximate heap accounting for the engine's tables (issue 15: "report
// where every MiB goes"). Estimates of what the containers hold on the heap,
// without malloc's per-chunk overhead; tools/bench/engine_replay compares
// their sum with mallinfo2().
//
// Thread safety: pure functions.
#ifndef TKMPROM_ENGINE_MEMORY_USAGE_H_
#define TKMPROM_ENGINE_MEMORY_USAGE_H_

#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace tkmprom {

// Heap bytes of a std::string beyond the object (libstdc++: 15 bytes inline).
inline size_t HeapBytes(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

template <typename T>
size_t HeapBytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

// libstdc++'s deque: blocks of max(1, 512 / sizeof(T)) elements, plus the map
// of block pointers (estimated as one pointer per block, at least 8).
template <typename T>
size_t HeapBytes(const std::deque<T>& d) {
  const size_t per_block = sizeof(T) < 512 ? 512 / sizeof(T) : 1;
  const size_t blocks = d.size() / per_block + 1;
  return blocks * per_block * sizeof(T) + (blocks < 8 ? 8 : blocks) * sizeof(void*);
}

// A std::map node: the red-black tree header (32 bytes) and the value, plus
// the heap of a std::string key.
template <typename V, typename C>
size_t HeapBytes(const std::map<std::string, V, C>& m) {
  size_t bytes = 0;
  for (const auto& [k, v] : m) bytes += 32 + sizeof(std::pair<const std::string, V>) + HeapBytes(k);
  return bytes;
}

}  // namespace tkmprom

#endif  // TKMPROM_ENGINE_MEMORY_USAGE_H_
