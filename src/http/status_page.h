// The operator status page served at `/`: one server-rendered HTML page
// (no script, no external asset) built from the same Snapshot as /metrics —
// fleet overview, slowest symbols (the ranking of /api/v1/symbols/slowest),
// a latency histogram of the slowest symbols as inline SVG, the quote
// backends (requests, answer rate, p50/p95 estimated from their latency
// histograms, timeouts; plugin-contract.md §7.5), recent timeouts,
// the plugin's own health, links to the other endpoints, and a device lookup
// (`/?device=<id>`) that shows the state /api/v1/devices/<id> returns.
//
// Every string that comes from traffic is HTML-escaped (html_escape.h). The
// page's only style is one <style> element allowed by its SHA-256 in
// StatusPageCsp(); it uses no inline style attribute, script or event
// handler. It refreshes itself every kStatusRefreshSeconds through
// <meta http-equiv="refresh"> unless the query has `refresh=0`.
//
// Thread safety: free functions over a const Snapshot; call them from any
// thread. Nothing here touches the engine or HTTP.
#ifndef TKMPROM_SRC_HTTP_STATUS_PAGE_H_
#define TKMPROM_SRC_HTTP_STATUS_PAGE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "tkmprom/snapshot.h"

namespace tkmprom {

inline constexpr int kStatusRefreshSeconds = 10;
// Rows of the slowest table, and how many of them get a histogram.
inline constexpr size_t kStatusSlowestRows = 10;
inline constexpr size_t kStatusHistogramSymbols = 6;

// What the page says about the configuration.
struct StatusPageOptions {
  uint64_t ranking_min_requests = 10;
  double quantile_window_s = 300;
};

// The page's query parameters.
struct StatusPageQuery {
  bool refresh = true;  // false with refresh=0
  std::string device;   // the device to look up ("" none), surrounding blanks removed
};

// Reads the raw (already percent-decoded) values of `device` and `refresh`;
// either may be null when absent.
StatusPageQuery ParseStatusPageQuery(const char* device, const char* refresh);

struct StatusPage {
  unsigned status = 200;  // 404 when the looked-up device is not tracked
  std::string html;
};

// The page for `snapshot` (nullptr before the engine published its first one:
// a page that says so, with the links). Never throws but std::bad_alloc.
StatusPage RenderStatusPage(const Snapshot* snapshot, const StatusPageOptions& options,
                            const StatusPageQuery& query);

// The Content-Security-Policy header value to send with the page.
const char* StatusPageCsp();

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_STATUS_PAGE_H_
