// The pool of S quote symbols the fleet is configured with: names as devices
// request them (`AAPL`, `BTC/USD`), the symbol the backend answers with (`BTC`
// for `BTC/USD`, the underlying `AAPL` for an option contract), the quote
// backend serving each (its `symbolType`, fixed per symbol) and the backend's
// behaviour per symbol (slow, always failing, delegated to the commodity
// stream).
//
// Every text backend of protocol §1.3 but electricity and music (page streams,
// served to page-mode devices) has symbols: the head of the pool holds well
// known names of each, so even a small pool has them all.
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

// symbolType values (protocol §1.3).
enum SymbolType : int {
  kStock = 1,
  kCrypto = 2,
  kForex = 3,
  kIndex = 4,
  kEtf = 5,
  kCommodity = 6,
  kTop10 = 7,
  kElectricity = 8,
  kOption = 9,
  kCustomApi = 10,
  kMusic = 11,
  kFxon = 12,
};
inline constexpr int kMaxSymbolType = 12;

struct Symbol {
  std::string name;          // as configured and requested, e.g. "BTC/USD"
  std::string reply_symbol;  // as answered, e.g. "BTC"
  std::string instrument;    // instrument name in single-mode replies
  int symbol_type = kStock;  // protocol §1.3(b) symbolType: the quote backend
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
  // Draws by popularity among the symbols of one symbolType; -1 if the pool
  // has none.
  int DrawOfType(Rng& rng, int symbol_type) const;
  // How many symbols of one symbolType the pool holds.
  int CountOfType(int symbol_type) const;

 private:
  std::vector<Symbol> symbols_;
  std::vector<double> cumulative_;  // popularity CDF
  // Per symbolType: the symbol indexes, and their popularity CDF.
  std::vector<std::vector<int>> by_type_;
  std::vector<std::vector<double>> by_type_cumulative_;
};

}  // namespace fleetsim

#endif  // FLEETSIM_SYMBOL_POOL_H_
