// Generation of the symbol pool.
#include "symbol_pool.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <unordered_set>

namespace fleetsim {
namespace {

const char* const kWellKnownStocks[] = {
    "AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "GOOGL", "META", "NFLX", "AMD",  "INTC",
    "SPY",  "QQQ",  "IBM",  "ORCL", "DIS",  "KO",    "PEP",  "JPM",  "V",    "MA",
    "BABA", "UBER", "COIN", "PLTR", "SHOP", "SQ",    "PYPL", "CRM",  "ADBE", "VOO",
};
const char* const kWellKnownCrypto[] = {"BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD",
                                        "XRP/USD", "ADA/EUR", "BTC/EUR", "LTC/USD"};
const char* const kCommodities[] = {"XAU", "XAG", "WTI", "BRENT", "NG", "HG", "XPT", "XPD"};

// A made-up ticker of 3-5 letters derived from `n`.
std::string MakeTicker(uint64_t n) {
  uint64_t h = SplitMix64(n);
  int len = 3 + static_cast<int>(h % 3);
  h /= 3;
  std::string s;
  for (int i = 0; i < len; ++i) {
    s.push_back(static_cast<char>('A' + h % 26));
    h /= 26;
  }
  return s;
}

}  // namespace

SymbolPool::SymbolPool(int count, double slow_share, double fail_share, uint64_t seed) {
  Rng rng(SplitMix64(seed ^ 0x53594d424f4c53ULL));
  std::unordered_set<std::string> used;
  auto add = [&](std::string name, int type, bool commodity) {
    if (static_cast<int>(symbols_.size()) >= count || !used.insert(name).second) return;
    Symbol s;
    s.name = name;
    s.reply_symbol = name.substr(0, name.find('/'));
    s.instrument = s.reply_symbol + (type == 2 ? " Coin" : " Inc.");
    s.symbol_type = type;
    s.commodity = commodity;
    s.price = std::exp(rng.Uniform(0, 9));  // 1 .. 8000
    symbols_.push_back(std::move(s));
  };
  for (const char* n : kWellKnownStocks) add(n, 1, false);
  for (const char* n : kWellKnownCrypto) add(n, 2, false);
  for (uint64_t i = 0; static_cast<int>(symbols_.size()) < count; ++i) {
    std::string t = MakeTicker(i);
    double kind = rng.Uniform();
    if (kind < 0.08) {
      add(t + (kind < 0.06 ? "/USD" : "/EUR"), 2, false);
    } else if (kind < 0.09) {
      add(t, 6, true);
    } else {
      add(t, kind < 0.95 ? 1 : 5, false);
    }
  }
  // A few real commodity names replace generated ones in the body.
  for (size_t i = 0; i < std::size(kCommodities) && 100 + i * 7 < symbols_.size(); ++i) {
    Symbol& s = symbols_[100 + i * 7];
    if (used.count(kCommodities[i])) continue;
    s.name = s.reply_symbol = kCommodities[i];
    s.instrument = std::string(kCommodities[i]) + " Spot";
    s.symbol_type = 6;
    s.commodity = true;
  }
  // Slow and failing symbols come from the body, not the head (a failing AAPL
  // would dominate the traffic).
  const int head = std::min(count / 10, 50);
  for (int i = head; i < count; ++i) {
    Symbol& s = symbols_[i];
    if (rng.Chance(fail_share)) {
      s.fails = true;
    } else if (rng.Chance(slow_share)) {
      s.slow = true;
    }
  }
  cumulative_.resize(symbols_.size());
  double harmonic = 0;
  for (size_t i = 0; i < symbols_.size(); ++i) harmonic += 1.0 / static_cast<double>(i + 1);
  double acc = 0;
  for (size_t i = 0; i < symbols_.size(); ++i) {
    acc += 0.5 / (static_cast<double>(i + 1) * harmonic) + 0.5 / static_cast<double>(count);
    cumulative_[i] = acc;
  }
}

int SymbolPool::Draw(Rng& rng) const {
  double u = rng.Uniform() * cumulative_.back();
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  if (it == cumulative_.end()) --it;
  return static_cast<int>(it - cumulative_.begin());
}

}  // namespace fleetsim
