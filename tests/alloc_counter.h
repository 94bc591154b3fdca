// Counts heap allocations in a test binary by replacing the global operator
// new and delete. Include it in exactly one source file of the binary; set
// g_counting around the code under test and read g_allocations.
#ifndef TKMPROM_TESTS_ALLOC_COUNTER_H_
#define TKMPROM_TESTS_ALLOC_COUNTER_H_

#include <cstdlib>
#include <new>

inline bool g_counting = false;
inline long g_allocations = 0;

void* operator new(std::size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_counting) ++g_allocations;
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

#endif  // TKMPROM_TESTS_ALLOC_COUNTER_H_
