#include "src/http/connection_table.h"

#include <algorithm>
#include <utility>

namespace tkmprom {
namespace {

ConnectionTableLimits Clamped(ConnectionTableLimits l) {
  l.connection_limit = std::max<size_t>(l.connection_limit, 1);
  l.capacity = std::max(l.capacity, l.connection_limit);
  return l;
}

}  // namespace

ConnectionTable::ConnectionTable(const ConnectionTableLimits& limits, CloseFn close)
    : limits_(Clamped(limits)), close_(std::move(close)) {
  MutexLock lock(&mu_);
  slots_.resize(limits_.capacity);
}

bool ConnectionTable::Valid(int slot) const {
  return slot >= 0 && static_cast<size_t>(slot) < slots_.size() && slots_[slot].used;
}

int ConnectionTable::Victim(int except, const ClientAddress* address) const {
  int waiting = -1;
  int busy = -1;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (!s.used || s.closing || static_cast<int>(i) == except) continue;
    if (address != nullptr && s.address != *address) continue;
    int& best = s.in_request ? busy : waiting;
    if (best < 0 || s.since_ns < slots_[best].since_ns) best = static_cast<int>(i);
  }
  return waiting >= 0 ? waiting : busy;
}

void ConnectionTable::Close(int slot) {
  Slot& s = slots_[slot];
  close_(s.fd);
  s.closing = true;
  --counts_.live;
  ++counts_.closing;
}

int ConnectionTable::Opened(int fd, const ClientAddress& address, int64_t now_ns) {
  MutexLock lock(&mu_);
  int slot = -1;
  for (size_t i = 0; i < slots_.size() && slot < 0; ++i) {
    if (!slots_[i].used) slot = static_cast<int>(i);
  }
  if (slot < 0) {
    // Not tracked, so closed now, while libmicrohttpd still owns the
    // descriptor (this runs inside its "connection started" callback).
    close_(fd);
    ++counts_.refused;
    return kUntracked;
  }
  Slot& s = slots_[slot];
  s = Slot();
  s.used = true;
  s.fd = fd;
  s.address = address;
  s.since_ns = now_ns;
  ++counts_.opened;
  ++counts_.live;

  if (limits_.per_address_limit > 0) {
    size_t from_address = 0;
    for (const Slot& o : slots_) from_address += o.used && !o.closing && o.address == address;
    if (from_address > limits_.per_address_limit) {
      const int victim = Victim(slot, &address);
      if (victim >= 0) {
        Close(victim);
        ++counts_.evicted;
      }
    }
  }
  while (counts_.live > limits_.connection_limit) {
    const int victim = Victim(slot, nullptr);
    if (victim < 0) break;  // cannot happen: the limit is at least 1
    Close(victim);
    ++counts_.evicted;
  }
  return slot;
}

void ConnectionTable::RequestStarted(int slot) {
  MutexLock lock(&mu_);
  if (Valid(slot)) slots_[slot].in_request = true;
}

void ConnectionTable::RequestCompleted(int slot, int64_t now_ns) {
  MutexLock lock(&mu_);
  if (!Valid(slot)) return;
  slots_[slot].in_request = false;
  slots_[slot].since_ns = now_ns;
}

void ConnectionTable::Closed(int slot) {
  MutexLock lock(&mu_);
  if (!Valid(slot)) return;
  Slot& s = slots_[slot];
  if (s.closing) {
    --counts_.closing;
  } else {
    --counts_.live;
  }
  s = Slot();
}

int64_t ConnectionTable::CloseOverdue(int64_t now_ns) {
  MutexLock lock(&mu_);
  int64_t next = kNoDeadline;
  if (limits_.header_deadline_ns <= 0) return next;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (!s.used || s.closing || s.in_request) continue;
    const int64_t deadline = s.since_ns + limits_.header_deadline_ns;
    if (deadline <= now_ns) {
      Close(static_cast<int>(i));
      ++counts_.overdue;
    } else {
      next = std::min(next, deadline);
    }
  }
  return next;
}

ConnectionTable::Counts ConnectionTable::counts() const {
  MutexLock lock(&mu_);
  return counts_;
}

}  // namespace tkmprom
