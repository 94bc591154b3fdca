// Generation of the symbol pool.
#include "symbol_pool.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <unordered_set>

namespace fleetsim {
namespace {

struct WellKnown {
  const char* name;
  int type;
  const char* reply;  // the symbol the backend answers with; nullptr: the part before '/'
};
// The head of the pool, most popular first: stocks and ETFs, crypto pairs,
// then a few names of every other text backend.
const WellKnown kWellKnown[] = {
    {"AAPL", kStock, nullptr},
    {"MSFT", kStock, nullptr},
    {"NVDA", kStock, nullptr},
    {"TSLA", kStock, nullptr},
    {"AMZN", kStock, nullptr},
    {"GOOGL", kStock, nullptr},
    {"META", kStock, nullptr},
    {"NFLX", kStock, nullptr},
    {"AMD", kStock, nullptr},
    {"INTC", kStock, nullptr},
    {"SPY", kEtf, nullptr},
    {"QQQ", kEtf, nullptr},
    {"IBM", kStock, nullptr},
    {"ORCL", kStock, nullptr},
    {"DIS", kStock, nullptr},
    {"KO", kStock, nullptr},
    {"PEP", kStock, nullptr},
    {"JPM", kStock, nullptr},
    {"V", kStock, nullptr},
    {"MA", kStock, nullptr},
    {"BABA", kStock, nullptr},
    {"UBER", kStock, nullptr},
    {"COIN", kStock, nullptr},
    {"PLTR", kStock, nullptr},
    {"SHOP", kStock, nullptr},
    {"SQ", kStock, nullptr},
    {"PYPL", kStock, nullptr},
    {"CRM", kStock, nullptr},
    {"ADBE", kStock, nullptr},
    {"VOO", kEtf, nullptr},
    {"BTC/USD", kCrypto, nullptr},
    {"ETH/USD", kCrypto, nullptr},
    {"SOL/USD", kCrypto, nullptr},
    {"DOGE/USD", kCrypto, nullptr},
    {"XRP/USD", kCrypto, nullptr},
    {"ADA/EUR", kCrypto, nullptr},
    {"BTC/EUR", kCrypto, nullptr},
    {"LTC/USD", kCrypto, nullptr},
    {"EURUSD", kForex, nullptr},
    {"SPX", kIndex, nullptr},
    {"XAU", kCommodity, nullptr},
    {"TOP10", kTop10, nullptr},
    {"GBPUSD", kForex, nullptr},
    {"NDX", kIndex, nullptr},
    // An option contract is answered with its underlying (protocol §2.4).
    {"AAPL250117C00200000", kOption, "AAPL"},
    {"WTI", kCommodity, nullptr},
    {"MYAPI", kCustomApi, nullptr},
    {"FXEURUSD", kFxon, nullptr},
    {"DAX", kIndex, nullptr},
    {"TSLA250321P00150000", kOption, "TSLA"},
    {"HOMEAPI", kCustomApi, nullptr},
    {"USDJPY", kForex, nullptr},
};
const char* const kCommodities[] = {"XAG", "BRENT", "NG", "HG", "XPT", "XPD"};

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
  auto add = [&](std::string name, int type, const char* reply) {
    if (static_cast<int>(symbols_.size()) >= count || !used.insert(name).second) return;
    Symbol s;
    s.name = name;
    s.reply_symbol = reply ? reply : name.substr(0, name.find('/'));
    s.instrument = s.reply_symbol + (type == kCrypto ? " Coin" : " Inc.");
    s.symbol_type = type;
    s.commodity = type == kCommodity;
    s.price = std::exp(rng.Uniform(0, 9));  // 1 .. 8000
    symbols_.push_back(std::move(s));
  };
  for (const WellKnown& w : kWellKnown) add(w.name, w.type, w.reply);
  // The body: mostly stocks, then crypto pairs and ETFs, a little of the rest.
  for (uint64_t i = 0; static_cast<int>(symbols_.size()) < count; ++i) {
    std::string t = MakeTicker(i);
    double kind = rng.Uniform();
    if (kind < 0.08) {
      add(t + (kind < 0.06 ? "/USD" : "/EUR"), kCrypto, nullptr);
    } else if (kind < 0.09) {
      add(t, kCommodity, nullptr);
    } else if (kind < 0.12) {
      add(t + "USD", kForex, nullptr);
    } else if (kind < 0.13) {
      add(t + "X", kIndex, nullptr);
    } else if (kind < 0.14) {
      add(t + "250620C00100000", kOption, t.c_str());
    } else if (kind < 0.15) {
      add("API" + t, kCustomApi, nullptr);
    } else if (kind < 0.155) {
      add("FX" + t, kFxon, nullptr);
    } else {
      add(t, kind < 0.95 ? kStock : kEtf, nullptr);
    }
  }
  // A few real commodity names replace generated ones in the body.
  for (size_t i = 0; i < std::size(kCommodities) && 100 + i * 7 < symbols_.size(); ++i) {
    Symbol& s = symbols_[100 + i * 7];
    if (used.count(kCommodities[i])) continue;
    s.name = s.reply_symbol = kCommodities[i];
    s.instrument = std::string(kCommodities[i]) + " Spot";
    s.symbol_type = kCommodity;
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
  by_type_.assign(kMaxSymbolType + 1, {});
  by_type_cumulative_.assign(kMaxSymbolType + 1, {});
  double harmonic = 0;
  for (size_t i = 0; i < symbols_.size(); ++i) harmonic += 1.0 / static_cast<double>(i + 1);
  double acc = 0;
  for (size_t i = 0; i < symbols_.size(); ++i) {
    double weight =
        0.5 / (static_cast<double>(i + 1) * harmonic) + 0.5 / static_cast<double>(count);
    acc += weight;
    cumulative_[i] = acc;
    int type = symbols_[i].symbol_type;
    std::vector<double>& cdf = by_type_cumulative_[type];
    by_type_[type].push_back(static_cast<int>(i));
    cdf.push_back((cdf.empty() ? 0 : cdf.back()) + weight);
  }
}

int SymbolPool::Draw(Rng& rng) const {
  double u = rng.Uniform() * cumulative_.back();
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  if (it == cumulative_.end()) --it;
  return static_cast<int>(it - cumulative_.begin());
}

int SymbolPool::DrawOfType(Rng& rng, int symbol_type) const {
  if (symbol_type < 0 || symbol_type > kMaxSymbolType || by_type_[symbol_type].empty()) return -1;
  const std::vector<double>& cdf = by_type_cumulative_[symbol_type];
  double u = rng.Uniform() * cdf.back();
  auto it = std::upper_bound(cdf.begin(), cdf.end(), u);
  if (it == cdf.end()) --it;
  return by_type_[symbol_type][it - cdf.begin()];
}

int SymbolPool::CountOfType(int symbol_type) const {
  if (symbol_type < 0 || symbol_type > kMaxSymbolType) return 0;
  return static_cast<int>(by_type_[symbol_type].size());
}

}  // namespace fleetsim
