// The pool of S quote symbols the fleet is configured with: names as devices
// request them (`AAPL`, `BTC/USD`), the symbol the backend answers with (`BTC`
// for `BTC/USD`), and the backend's behaviour per symbol (slow, always
// failing, delegated to the commodity stream).
//
// Popularity is half Zipf(1), half uniform, so a fleet of 8,000 devices with
// ~20,000 configured entries touches nearly every symbol of a pool of 2,000
// while the head symbols are shared by many devices.
//
// Thread safety: immutable after construction.
#ifndef FLEETSIM_SYMBOL_POOL_H_
#define FLEETSIM_SYMBOL_POOL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "random.h"

namespace fleetsim {

struct Symbol {
  std::string name;          // as configured and requested, e.g. "BTC/USD"
  std::string reply_symbol;  // as answered, e.g. "BTC"
  std::string instrument;    // instrument name in single-mode replies
  int symbol_type = 1;       // protocol §1.3(b) symbolType
  double price = 100;
  bool slow = false;       // latency x5
  bool fails = false;      // never answered
  bool commodity = false;  // delegated via HTTPSTREAMSTOCKS
};

class SymbolPool {
 public:
  SymbolPool(int count, double slow_share, double fail_share, uint64_t seed);

  int size() const { return static_cast<int>(symbols_.size()); }
  const Symbol& at(int index) const { return symbols_[index]; }
  // Draws a symbol index by popularity.
  int Draw(Rng& rng) const;

 private:
  std::vector<Symbol> symbols_;
  std::vector<double> cumulative_;  // popularity CDF
};

}  // namespace fleetsim

#endif  // FLEETSIM_SYMBOL_POOL_H_
