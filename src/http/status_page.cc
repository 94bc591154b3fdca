#include "src/http/status_page.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "src/http/html_escape.h"
#include "src/http/latency_chart.h"
#include "src/http/slowest_ranking.h"
#include "src/http/status_page_css.h"

namespace tkmprom {
namespace {

constexpr char kDash[] = "\u2013";

// The page being written: raw markup, escaped text and formatted numbers.
class Page {
 public:
  Page& Raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  Page& Text(std::string_view s) {
    AppendHtmlEscaped(s, &out_);
    return *this;
  }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

std::string Printf(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

std::string Count(double v) {
  if (!std::isfinite(v)) return kDash;
  return Printf("%.0f", v);
}

std::string Latency(double s) {
  if (!std::isfinite(s)) return kDash;
  if (s < 0.01) return Printf("%.1f ms", s * 1000);
  if (s < 1) return Printf("%.0f ms", s * 1000);
  if (s < 10) return Printf("%.2f s", s);
  return Printf("%.1f s", s);
}

std::string Percent(double rate) {
  if (!std::isfinite(rate)) return kDash;
  return Printf("%.1f %%", rate * 100);
}

// A histogram estimate: "> 60 s" above every bound.
std::string EstimatedLatency(double s, const std::vector<double>& bounds) {
  if (std::isinf(s) && s > 0 && !bounds.empty()) return "> " + Latency(bounds.back());
  return Latency(s);
}

// "42 s", "7 min", "3.5 h", "2.0 d"; a dash when negative (unknown).
std::string Duration(double s) {
  if (!std::isfinite(s) || s < 0) return kDash;
  if (s < 120) return Printf("%.0f s", s);
  if (s < 7200) return Printf("%.0f min", s / 60);
  if (s < 172800) return Printf("%.1f h", s / 3600);
  return Printf("%.1f d", s / 86400);
}

std::string Known(int64_t v) { return v < 0 ? std::string(kDash) : std::to_string(v); }

// "/" with the page's query parameters (unescaped: Text() it into attributes).
std::string SelfUrl(std::string_view device, bool refresh) {
  std::string url = "/";
  char sep = '?';
  if (!device.empty()) {
    url += sep;
    url += "device=" + UrlEncodeQueryValue(device);
    sep = '&';
  }
  if (!refresh) {
    url += sep;
    url += "refresh=0";
  }
  return url;
}

template <typename Rows>
uint64_t Sum(const Rows& rows) {
  uint64_t sum = 0;
  for (const auto& row : rows) sum += row.value;
  return sum;
}

// Rows summed by name, largest first (ties in name order).
std::vector<std::pair<std::string, double>> Ranked(
    std::map<std::string, double, std::less<>> sums) {
  std::vector<std::pair<std::string, double>> out(sums.begin(), sums.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

std::vector<std::pair<std::string, double>> ByLabel(const std::vector<LabelledCount>& rows) {
  std::map<std::string, double, std::less<>> sums;
  for (const LabelledCount& row : rows) sums[row.label] += static_cast<double>(row.value);
  return Ranked(std::move(sums));
}

std::vector<std::pair<std::string, double>> OnlineByFirmware(const FleetTotals& fleet) {
  std::map<std::string, double, std::less<>> sums;
  for (const OnlineCombination& c : fleet.online) {
    sums[c.firmware_version] += static_cast<double>(c.devices);
  }
  return Ranked(std::move(sums));
}

void Tile(Page& p, const char* id, const char* key, const std::string& value, bool bad = false) {
  p.Raw("<div class=\"tile").Raw(bad ? " bad" : "").Raw("\" id=\"").Raw(id).Raw("\">");
  p.Raw("<span class=\"v\">").Text(value).Raw("</span><span class=\"k\">").Raw(key);
  p.Raw("</span></div>");
}

void Head(Page& p, const StatusPageQuery& q) {
  p.Raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
  p.Raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
  if (q.refresh) {
    p.Raw("<meta http-equiv=\"refresh\" content=\"")
        .Raw(std::to_string(kStatusRefreshSeconds))
        .Raw("\">\n");
  }
  p.Raw("<title>tkmprom status</title>\n<style>").Raw(kStatusPageCss).Raw("</style>\n</head>\n");
}

void Header(Page& p, const Snapshot* s, const StatusPageQuery& q) {
  p.Raw("<header>\n<div>\n<h1>tkmprom<span class=\"sub\">TickrMeter fleet status</span></h1>\n");
  p.Raw("<p class=\"meta\" id=\"refresh\">");
  if (s != nullptr) {
    p.Raw("Snapshot #").Raw(std::to_string(s->generation)).Raw(" &middot; ");
  }
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  char when[32] = "";
  if (gmtime_r(&now, &tm) != nullptr) std::strftime(when, sizeof(when), "%H:%M:%S UTC", &tm);
  p.Raw("rendered ").Raw(when).Raw(" &middot; ");
  if (q.refresh) {
    p.Raw("refreshes every ").Raw(std::to_string(kStatusRefreshSeconds)).Raw(" s (");
    p.Raw("<a id=\"refresh-toggle\" href=\"").Text(SelfUrl(q.device, false));
    p.Raw("\">stop auto-refresh</a>)");
  } else {
    p.Raw("auto-refresh off (<a id=\"refresh-toggle\" href=\"").Text(SelfUrl(q.device, true));
    p.Raw("\">turn on</a>)");
  }
  p.Raw("</p>\n</div>\n");
  p.Raw("<form method=\"get\" action=\"/\" role=\"search\" id=\"lookup\">\n");
  p.Raw("<label for=\"device-id\">Device</label>\n");
  p.Raw("<input type=\"text\" id=\"device-id\" name=\"device\" value=\"").Text(q.device);
  p.Raw("\" placeholder=\"A1B2C3D4E5F6\" autocomplete=\"off\" spellcheck=\"false\">\n");
  if (!q.refresh) p.Raw("<input type=\"hidden\" name=\"refresh\" value=\"0\">\n");
  p.Raw("<button type=\"submit\" id=\"lookup-submit\">Look up</button>\n</form>\n</header>\n");
}

// Returns false when the device is not in the snapshot.
bool DeviceSection(Page& p, const Snapshot& s, const std::string& id) {
  p.Raw("<section id=\"device-result\">\n");
  const DeviceState* found = s.FindDevice(id);
  if (found == nullptr) {
    p.Raw("<div class=\"notfound\" id=\"device-not-found\"><strong>Device not found:</strong> ");
    p.Raw("no device <code>").Text(id).Raw("</code> is tracked. Ids are exact (");
    p.Raw("<code>^[0-9A-F]{12}$</code> by default); a device leaves memory after twice ");
    p.Raw("<code>device_timeout</code> without a heartbeat, boot or request.</div>\n</section>\n");
    return false;
  }
  const DeviceState& d = *found;
  p.Raw("<div class=\"device\">\n<h2>Device <code>").Text(d.device_id).Raw("</code> &mdash; ");
  p.Raw(d.online ? "online" : "offline").Raw("</h2>\n<div class=\"cols\">\n<div><table>\n");
  auto row = [&p](const char* key, const char* id, const std::string& value) {
    p.Raw("<tr><th>").Raw(key).Raw("</th><td id=\"").Raw(id).Raw("\">").Text(value);
    p.Raw("</td></tr>\n");
  };
  auto or_dash = [](const std::string& v) { return v.empty() ? std::string(kDash) : v; };
  row("Firmware", "device-firmware", or_dash(d.firmware_version));
  row("Inner version", "device-inner-version", or_dash(d.inner_version));
  row("Flash id", "device-flash-id", or_dash(d.flash_id));
  row("Last seen", "device-last-seen", Duration(d.last_seen_age_s) + " ago");
  row("Last heartbeat", "device-last-heartbeat",
      d.last_heartbeat_age_s < 0 ? "never" : Duration(d.last_heartbeat_age_s) + " ago");
  row("Battery", "device-battery", d.battery < 0 ? kDash : Known(d.battery) + " %");
  row("Charging", "device-charging", d.charging < 0 ? kDash : (d.charging == 1 ? "yes" : "no"));
  row("Supply (vin)", "device-vin", Known(d.vin));
  row("Uptime", "device-uptime",
      d.uptime_s < 0 ? kDash : Duration(static_cast<double>(d.uptime_s)));
  row("WiFi disconnects", "device-wifi", Known(d.wifi_disconnects));
  row("xmc", "device-xmc", Known(d.xmc));
  p.Raw("</table></div>\n<div><table>\n");
  row("Boots", "device-boots", std::to_string(d.boots));
  row("Requests", "device-requests", std::to_string(d.requests));
  row("Responses", "device-responses", std::to_string(d.responses));
  row("Errors", "device-errors", std::to_string(d.errors));
  row("Timeouts", "device-timeouts", std::to_string(d.timeouts));
  row("Pending", "device-pending", std::to_string(d.pending));
  row("Learned symbol", "device-last-symbol", or_dash(d.last_symbol));
  p.Raw("</table>\n<p class=\"note\">As JSON: <a href=\"")
      .Text("/api/v1/devices/" + UrlEncodeQueryValue(d.device_id))
      .Raw("\">/api/v1/devices/")
      .Text(d.device_id)
      .Raw("</a></p></div>\n</div>\n</div>\n</section>\n");
  return true;
}

void FleetSection(Page& p, const Snapshot& s) {
  p.Raw("<section id=\"fleet\">\n<h2>Fleet</h2>\n<div class=\"tiles\">\n");
  const FleetTotals& fleet = s.fleet;
  Tile(p, "fleet-online", "devices online", Count(fleet.online_total));
  Tile(p, "fleet-tracked", "tracked", Count(fleet.tracked));
  Tile(p, "fleet-charging", "charging", Count(fleet.charging));
  Tile(p, "fleet-boots-hour", "boots in the last hour", std::to_string(s.boots_last_hour));
  Tile(p, "fleet-boots-total", "boots since start", Count(fleet.boots_total));
  p.Raw("</div>\n<h3>Online by firmware version</h3>\n");
  p.Raw("<table id=\"firmware-table\">\n<tr><th>firmware_version</th><th class=\"n\">online");
  p.Raw("</th></tr>\n");
  int rows = 0;
  for (const auto& [firmware, n] : OnlineByFirmware(fleet)) {
    if (n <= 0) continue;
    ++rows;
    p.Raw("<tr><td class=\"mono\">").Text(firmware).Raw("</td><td class=\"n\">").Text(Count(n));
    p.Raw("</td></tr>\n");
  }
  if (rows == 0) p.Raw("<tr><td colspan=\"2\">no device online</td></tr>\n");
  p.Raw("</table>\n</section>\n");
}

void SlowestSection(Page& p, const StatusPageOptions& o, const std::vector<RankedSymbol>& ranked) {
  p.Raw("<section id=\"slowest\">\n<h2>Slowest symbols</h2>\n<p class=\"note\">Over the last ");
  p.Text(Printf("%g", o.quantile_window_s)).Raw(" s, symbols with at least ");
  p.Raw(std::to_string(o.ranking_min_requests))
      .Raw(o.ranking_min_requests == 1 ? " request" : " requests")
      .Raw("; score = average latency + 10 ");
  p.Raw("&times; timeout rate (as <a href=\"/api/v1/symbols/slowest\">/api/v1/symbols/slowest");
  p.Raw("</a>).</p>\n");
  if (ranked.empty()) {
    p.Raw("<p id=\"slowest-empty\">No symbol has enough requests in the window yet.</p>\n");
    p.Raw("</section>\n");
    return;
  }
  p.Raw("<table id=\"slowest-table\">\n<tr><th class=\"n\">#</th><th>symbol</th>");
  p.Raw("<th>backend</th>");
  p.Raw("<th class=\"n\">average</th><th class=\"n\">p95</th><th class=\"n\">timeout rate</th>");
  p.Raw("<th class=\"n\">requests</th></tr>\n");
  int rank = 0;
  for (const RankedSymbol& r : ranked) {
    const SymbolWindow& w = *r.window;
    p.Raw(w.timeout_rate > 0 ? "<tr class=\"bad\">" : "<tr>");
    p.Raw("<td class=\"n\">").Raw(std::to_string(++rank)).Raw("</td>");
    p.Raw("<td class=\"sym mono\">").Text(w.symbol).Raw("</td>");
    p.Raw("<td class=\"mono\">").Text(w.backend).Raw("</td>");
    p.Raw("<td class=\"n\">").Text(Latency(w.avg_latency_s)).Raw("</td>");
    p.Raw("<td class=\"n\">").Text(Latency(w.p95_latency_s)).Raw("</td>");
    p.Raw("<td class=\"n\">").Text(Percent(w.timeout_rate)).Raw("</td>");
    p.Raw("<td class=\"n\">").Raw(std::to_string(w.requests)).Raw("</td></tr>\n");
  }
  p.Raw("</table>\n</section>\n");
}

// Per quote backend since start, from the snapshot's typed BackendTotals
// (the values of the tickrmeter_backend_* families).
void BackendsSection(Page& p, const Snapshot& s) {
  p.Raw("<section id=\"backends\">\n<h2>Backends</h2>\n<p class=\"note\">Requests by the ");
  p.Raw("quote backend their symbol had when they were counted (the <code>symbolType</code> of ");
  p.Raw("its last answer; <code>page</code> for page replies, <code>unknown</code> before a ");
  p.Raw("symbol's first answer), since the companion started. Answer rate: answered by a quote, ");
  p.Raw("of the requests answered, errored or timed out. p50 and p95 are estimates from the ");
  p.Raw("latency histogram's buckets (linear within a bucket, as <code>histogram_quantile()");
  p.Raw("</code>), not the nearest-rank quantiles of the symbols.</p>\n");
  bool any = false;
  for (const BackendTotals& b : s.backends) any |= b.requests > 0;
  if (!any) {
    p.Raw("<p id=\"backends-empty\">No request counted yet.</p>\n</section>\n");
    return;
  }
  p.Raw("<table id=\"backends-table\">\n<tr><th>backend</th><th class=\"n\">requests</th>");
  p.Raw("<th class=\"n\">answer rate</th><th class=\"n\">p50</th><th class=\"n\">p95</th>");
  p.Raw("<th class=\"n\">timeouts</th><th class=\"n\">pending</th></tr>\n");
  for (const BackendTotals& b : s.backends) {
    if (b.requests == 0) continue;
    const uint64_t ended = b.responses + b.errors + b.timeouts;
    const double rate = ended == 0 ? std::numeric_limits<double>::quiet_NaN()
                                   : static_cast<double>(b.responses) / ended;
    const double p50 = EstimateHistogramQuantile(s.latency_bounds, b.latency_buckets, 0.5);
    const double p95 = EstimateHistogramQuantile(s.latency_bounds, b.latency_buckets, 0.95);
    p.Raw("<tr id=\"backend-").Text(b.backend).Raw("\"><td class=\"mono\">").Text(b.backend);
    p.Raw("</td><td class=\"n\">").Raw(std::to_string(b.requests)).Raw("</td>");
    p.Raw("<td class=\"n\">").Text(Percent(rate)).Raw("</td>");
    p.Raw("<td class=\"n\">").Text(EstimatedLatency(p50, s.latency_bounds)).Raw("</td>");
    p.Raw("<td class=\"n\">").Text(EstimatedLatency(p95, s.latency_bounds)).Raw("</td>");
    p.Raw("<td class=\"n\">").Raw(std::to_string(b.timeouts)).Raw("</td>");
    p.Raw("<td class=\"n\">").Raw(std::to_string(b.pending)).Raw("</td></tr>\n");
  }
  p.Raw("</table>\n</section>\n");
}

void LatencySection(Page& p, const Snapshot& s, const std::vector<RankedSymbol>& ranked) {
  p.Raw("<section id=\"latency\">\n<h2>Latency of the slowest symbols</h2>\n");
  p.Raw("<p class=\"note\">Answers per latency bucket (seconds) since the companion started; ");
  p.Raw("buckets from ").Text(Printf("%g", kChartSlowSeconds)).Raw(" s up in orange.</p>\n");
  p.Raw("<div class=\"charts\">\n");
  size_t charted = 0;
  for (const RankedSymbol& r : ranked) {
    if (charted == kStatusHistogramSymbols) break;
    std::string svg;
    AppendLatencyChart(*r.window, s.latency_bounds, &svg);
    if (svg.empty()) continue;
    ++charted;
    p.Raw("<figure><figcaption class=\"mono\">").Text(r.window->symbol).Raw("</figcaption>");
    p.Raw(svg).Raw("</figure>\n");
  }
  p.Raw("</div>\n");
  if (charted == 0) p.Raw("<p>No answered request among the ranked symbols yet.</p>\n");
  p.Raw("</section>\n");
}

void TimeoutsSection(Page& p, const Snapshot& s, const StatusPageQuery& q) {
  p.Raw("<section id=\"timeouts\">\n<h2>Recent timeouts</h2>\n");
  if (s.recent_timeouts.empty()) {
    p.Raw("<p id=\"timeouts-empty\">No request has timed out since the companion started.</p>\n");
    p.Raw("</section>\n");
    return;
  }
  p.Raw("<table id=\"timeouts-table\">\n<tr><th class=\"n\">when</th><th>device</th>");
  p.Raw("<th>symbol</th></tr>\n");
  for (const TimeoutEvent& t : s.recent_timeouts) {
    p.Raw("<tr><td class=\"n\">").Text(Duration(t.age_s)).Raw(" ago</td>");
    p.Raw("<td class=\"mono\"><a href=\"").Text(SelfUrl(t.device_id, q.refresh)).Raw("\">");
    p.Text(t.device_id).Raw("</a></td><td class=\"mono\">").Text(t.symbol).Raw("</td></tr>\n");
  }
  p.Raw("</table>\n</section>\n");
}

void CountTable(Page& p, const char* id, const char* key_header,
                const std::vector<std::pair<std::string, double>>& rows, bool zero_is_good) {
  p.Raw("<table id=\"").Raw(id).Raw("\">\n<tr><th>").Raw(key_header);
  p.Raw("</th><th class=\"n\">count</th></tr>\n");
  for (const auto& [key, n] : rows) {
    p.Raw(zero_is_good && n > 0 ? "<tr class=\"bad\">" : "<tr>");
    p.Raw("<td class=\"mono\">").Text(key).Raw("</td><td class=\"n\">").Text(Count(n));
    p.Raw("</td></tr>\n");
  }
  p.Raw("</table>\n");
}

void HealthSection(Page& p, const Snapshot& s) {
  p.Raw("<section id=\"health\">\n<h2>Plugin health</h2>\n<div class=\"tiles\">\n");
  const PluginTotals& plugin = s.plugin;
  const uint64_t invalid = Sum(plugin.invalid);
  const uint64_t dropped = Sum(plugin.tracking_dropped);
  const uint64_t observations = plugin.observations_dropped;
  const uint64_t restarts = Sum(plugin.companion_restarts);
  Tile(p, "health-messages", "messages received", Count(Sum(plugin.messages)));
  Tile(p, "health-invalid", "invalid messages", Count(invalid), invalid > 0);
  Tile(p, "health-caps", "caps hit (tracking dropped)", Count(dropped), dropped > 0);
  Tile(p, "health-observations-dropped", "observations dropped", Count(observations),
       observations > 0);
  Tile(p, "health-restarts", "companion restarts", Count(restarts), restarts > 0);
  p.Raw("</div>\n<div class=\"cols\">\n<div><h3>Messages by kind</h3>\n");
  CountTable(p, "messages-table", "kind", ByLabel(plugin.messages), false);
  p.Raw("</div>\n<div><h3>Invalid messages</h3>\n");
  std::vector<std::pair<std::string, double>> bad;
  for (const InvalidCount& c : plugin.invalid) {
    if (c.value == 0) continue;
    bad.emplace_back(std::string(c.kind) + " / " + c.reason, static_cast<double>(c.value));
  }
  if (bad.empty()) {
    p.Raw("<p id=\"invalid-none\">none</p>\n");
  } else {
    CountTable(p, "invalid-table", "kind / reason", bad, true);
  }
  p.Raw("<h3>Caps hit (tracking dropped)</h3>\n");
  CountTable(p, "dropped-table", "table", ByLabel(plugin.tracking_dropped), true);
  p.Raw("</div>\n</div>\n");
  if (!plugin.version.empty()) {
    p.Raw("<p class=\"note\" id=\"build\">tkmprom ").Text(plugin.version);
    p.Raw(" in mosquitto ").Text(plugin.mosquitto_version).Raw("</p>\n");
  }
  p.Raw("</section>\n");
}

void EndpointsSection(Page& p) {
  p.Raw(R"(<section id="endpoints">
<h2>Endpoints</h2>
<ul>
<li><a href="/metrics">/metrics</a> &mdash; Prometheus text 0.0.4 (OpenMetrics 1.0 when <code>Accept</code> asks for it; gzip when allowed)</li>
<li><a href="/healthz">/healthz</a> &mdash; <code>ok</code> while the plugin runs</li>
<li><a href="/api/v1/symbols/slowest">/api/v1/symbols/slowest</a> &mdash; JSON, slowest symbols over the quantile window; <code>?limit=N</code> (default 10, at most 1000)</li>
<li><code>/api/v1/devices/&lt;device_id&gt;</code> &mdash; JSON, one device's current state (404 if unknown)</li>
</ul>
</section>
)");
}

}  // namespace

StatusPageQuery ParseStatusPageQuery(const char* device, const char* refresh) {
  StatusPageQuery q;
  q.refresh = refresh == nullptr || std::string_view(refresh) != "0";
  if (device != nullptr) {
    std::string_view d(device);
    const char* blanks = " \t\r\n";
    const size_t first = d.find_first_not_of(blanks);
    if (first != std::string_view::npos) {
      d = d.substr(first, d.find_last_not_of(blanks) - first + 1);
      q.device.assign(d.data(), d.size());
    }
  }
  return q;
}

StatusPage RenderStatusPage(const Snapshot* snapshot, const StatusPageOptions& options,
                            const StatusPageQuery& query) {
  StatusPage result;
  Page p;
  p.str().reserve(32 * 1024);
  Head(p, query);
  p.Raw("<body>\n");
  Header(p, snapshot, query);
  if (snapshot == nullptr) {
    p.Raw("<p class=\"notfound\" id=\"no-snapshot\">No snapshot yet: the engine has not ");
    p.Raw("published its first one; reload in a moment.</p>\n");
    if (!query.device.empty()) result.status = 503;
  } else {
    if (!query.device.empty() && !DeviceSection(p, *snapshot, query.device)) result.status = 404;
    const std::vector<RankedSymbol> ranked =
        RankSlowestSymbols(*snapshot, kStatusSlowestRows, options.ranking_min_requests);
    FleetSection(p, *snapshot);
    SlowestSection(p, options, ranked);
    LatencySection(p, *snapshot, ranked);
    BackendsSection(p, *snapshot);
    TimeoutsSection(p, *snapshot, query);
    HealthSection(p, *snapshot);
  }
  EndpointsSection(p);
  p.Raw("</body>\n</html>\n");
  result.html = std::move(p.str());
  return result;
}

const char* StatusPageCsp() {
  static const std::string csp = std::string("default-src 'none'; style-src ") +
                                 kStatusPageCssHash +
                                 "; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  return csp.c_str();
}

}  // namespace tkmprom
