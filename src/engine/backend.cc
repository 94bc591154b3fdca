#include "src/engine/backend.h"

namespace tkmprom {
namespace {

// Indexed by Backend.
constexpr const char* kBackendNames[kBackendCount] = {
    "stock",       "crypto", "forex",      "index", "etf",  "commodity", "top10",
    "electricity", "option", "custom_api", "music", "fxon", "page",      "unknown"};

}  // namespace

const char* BackendName(Backend backend) {
  const int i = static_cast<int>(backend);
  return i < kBackendCount ? kBackendNames[i] : "unknown";
}

Backend BackendOfSymbolType(int64_t symbol_type) {
  if (symbol_type < 1 || symbol_type > 12) return Backend::kUnknown;
  return static_cast<Backend>(symbol_type - 1);
}

}  // namespace tkmprom
