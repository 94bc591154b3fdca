#include "src/engine/untracked_backends.h"

#include "src/engine/memory_usage.h"

namespace tkmprom {

Backend UntrackedBackends::Find(std::string_view symbol) const {
  if (index_.size() == 0) return Backend::kUnknown;
  const uint32_t id = index_.Find(symbol);
  return id == StringIndex::kNone ? Backend::kUnknown : entries_[id].backend;
}

void UntrackedBackends::Learn(std::string_view symbol, Backend backend) {
  const uint32_t id = index_.Find(symbol);
  if (id != StringIndex::kNone) {
    entries_[id].backend = backend;
    return;
  }
  uint32_t slot;
  if (entries_.size() < kCapacity) {
    slot = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  } else {
    slot = static_cast<uint32_t>(next_);
    next_ = (next_ + 1) % kCapacity;
    index_.Erase(entries_[slot].symbol);
    ++forgotten_;
  }
  Entry& e = entries_[slot];
  e.symbol.assign(symbol.data(), symbol.size());
  e.backend = backend;
  index_.Insert(e.symbol, slot);
}

size_t UntrackedBackends::MemoryBytes() const {
  size_t bytes = HeapBytes(entries_) + index_.MemoryBytes();
  for (const Entry& e : entries_) bytes += HeapBytes(e.symbol);
  return bytes;
}

}  // namespace tkmprom
