// The status page rendered from a hand-built Snapshot: every section with
// its values, hostile strings escaped (only the page's own tags and no event
// handler or style attribute anywhere), auto-refresh on and off, device
// lookup found and not found, and the page before the first snapshot.
#include "src/http/status_page.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "src/http/latency_chart.h"
#include "src/http/status_page_css.h"

namespace tkmprom {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr char kHostile[] = "<img src=x onerror=\"alert(1)\">&'";
constexpr char kHostileEscaped[] = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;";

SymbolWindow Window(std::string symbol, double avg, double p95, double rate, uint64_t requests,
                    std::vector<uint64_t> buckets = {}, std::string backend = "unknown") {
  SymbolWindow w;
  w.symbol = std::move(symbol);
  w.avg_latency_s = avg;
  w.p95_latency_s = p95;
  w.timeout_rate = rate;
  w.requests = requests;
  w.latency_buckets = std::move(buckets);
  w.backend = std::move(backend);
  return w;
}

// The 14 backends in the engine's order, all zero but those given.
std::vector<BackendTotals> Backends(const std::vector<BackendTotals>& given, size_t buckets) {
  std::vector<BackendTotals> out;
  for (const char* name :
       {"stock", "crypto", "forex", "index", "etf", "commodity", "top10", "electricity", "option",
        "custom_api", "music", "fxon", "page", "unknown"}) {
    BackendTotals b;
    b.backend = name;
    b.latency_buckets.assign(buckets, 0);
    for (const BackendTotals& g : given) {
      if (g.backend == name) b = g;
    }
    out.push_back(b);
  }
  return out;
}

BackendTotals Totals(const char* backend, uint64_t requests, uint64_t responses, uint64_t errors,
                     uint64_t timeouts, uint64_t pending, std::vector<uint64_t> buckets) {
  BackendTotals b;
  b.backend = backend;
  b.requests = requests;
  b.responses = responses;
  b.errors = errors;
  b.timeouts = timeouts;
  b.pending = pending;
  b.superseded = requests - responses - errors - timeouts - pending;
  b.latency_buckets = std::move(buckets);
  return b;
}

Snapshot MakeSnapshot() {
  Snapshot s;
  s.generation = 42;
  auto online = [](const char* fw, uint64_t n) { return OnlineCombination{fw, "x", "y", n}; };
  s.fleet.online = {online("unknown", 0), online("70p", 2), online("2.4.1", 5), online("70p", 1),
                    online(kHostile, 1)};
  s.fleet.online_total = 9;
  s.fleet.tracked = 12;
  s.fleet.charging = 2;
  s.fleet.boots_by_firmware = {{"70p", 6}, {"unknown", 1}};
  s.fleet.boots_total = 7;
  s.plugin.messages = {{"stock_request", 1234}, {"heartbeat", 56}, {"boot", 0}};
  s.plugin.invalid = {{"stock_request", "json", 3}, {"heartbeat", "field", 0}};
  s.plugin.tracking_dropped = {{"devices", 0}, {"symbols", 4}, {"pending", 0}};
  s.plugin.observations_dropped = 0;
  s.plugin.companion_restarts = {{"exit", 1}};
  s.plugin.version = "0.1.0-test";
  s.plugin.mosquitto_version = "2.0.11";

  s.latency_bounds = {0.5, 1, 2};
  s.symbols = {Window("FAST", 0.12, 0.2, 0, 50, {50, 0, 0, 0}, "stock"),
               Window("SLOW", 1.5, 1.98, 0, 20, {1, 2, 17, 0}, "crypto"),
               Window("RARE", 9, 9, 0, 2, {0, 0, 0, 2}), Window(kHostile, kNaN, kNaN, 0.25, 12),
               Window("IDLE", kNaN, kNaN, 0, 10)};
  // stock: p50 at rank 45 of 90, in (0, 0.5]: 0.45 s; p95 at rank 85.5, in
  // (1, 2]: 1.55 s. crypto: every answer above 2 s. unknown: none answered.
  s.backends = Backends({Totals("stock", 100, 90, 2, 5, 2, {50, 30, 10, 0}),
                         Totals("crypto", 20, 10, 0, 10, 0, {0, 0, 0, 10}),
                         Totals("unknown", 3, 0, 1, 0, 2, {0, 0, 0, 0})},
                        4);
  s.recent_timeouts = {{"A1B2C3D4E5F6", "MSFT", 5}, {"<dev>", "A&B", 125}};
  s.boots_last_hour = 3;

  DeviceState d;
  d.device_id = "A1B2C3D4E5F6";
  d.firmware_version = "70p";
  d.inner_version = "elec+HB";
  d.flash_id = "C84016";
  d.online = true;
  d.last_seen_age_s = 12;
  d.last_heartbeat_age_s = 30;
  d.battery = 87;
  d.vin = 1830;
  d.uptime_s = 86400;
  d.charging = 0;
  d.wifi_disconnects = 3;
  d.xmc = 1;
  d.boots = 4;
  d.requests = 100;
  d.responses = 95;
  d.errors = 2;
  d.timeouts = 1;
  d.pending = 2;
  d.last_symbol = "AAPL";
  s.devices.push_back(d);
  DeviceState h;
  h.device_id = kHostile;
  h.firmware_version = kHostile;
  h.last_symbol = kHostile;
  s.devices.push_back(h);
  return s;
}

StatusPage Render(const Snapshot* s, StatusPageQuery q = StatusPageQuery()) {
  StatusPageOptions o;
  o.ranking_min_requests = 10;
  o.quantile_window_s = 300;
  return RenderStatusPage(s, o, q);
}

StatusPageQuery Query(const char* device, const char* refresh = nullptr) {
  return ParseStatusPageQuery(device, refresh);
}

// The text of the element whose id is `id` (up to the next "</"), "" if absent.
std::string ById(const std::string& html, const std::string& id) {
  const size_t at = html.find("id=\"" + id + "\"");
  if (at == std::string::npos) return "";
  const size_t open = html.find('>', at);
  return html.substr(open + 1, html.find("</", open) - open - 1);
}

// The part of the page inside <section id="...">.
std::string Section(const std::string& html, const std::string& id) {
  const size_t at = html.find("<section id=\"" + id + "\">");
  if (at == std::string::npos) return "";
  return html.substr(at, html.find("</section>", at) - at);
}

bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(StatusPageTest, EverySectionIsThere) {
  const Snapshot s = MakeSnapshot();
  const StatusPage page = Render(&s);
  EXPECT_EQ(page.status, 200u);
  for (const char* id :
       {"fleet", "slowest", "latency", "backends", "timeouts", "health", "endpoints"}) {
    EXPECT_NE(Section(page.html, id), "") << id;
  }
  EXPECT_FALSE(Has(page.html, "id=\"device-result\""));  // no lookup asked for
  EXPECT_TRUE(Has(page.html, "<form method=\"get\" action=\"/\""));
  EXPECT_TRUE(Has(page.html, "name=\"device\" value=\"\""));
  EXPECT_TRUE(Has(page.html, "Snapshot #42"));
}

TEST(StatusPageTest, FleetSection) {
  const Snapshot s = MakeSnapshot();
  const std::string fleet = Section(Render(&s).html, "fleet");
  EXPECT_TRUE(Has(fleet, "id=\"fleet-online\"><span class=\"v\">9<"));
  EXPECT_TRUE(Has(fleet, "id=\"fleet-tracked\"><span class=\"v\">12<"));
  EXPECT_TRUE(Has(fleet, "id=\"fleet-charging\"><span class=\"v\">2<"));
  EXPECT_TRUE(Has(fleet, "id=\"fleet-boots-hour\"><span class=\"v\">3<"));
  EXPECT_TRUE(Has(fleet, "id=\"fleet-boots-total\"><span class=\"v\">7<"));
  // Online by firmware, summed over the other labels, largest first; none
  // online under "unknown": no row.
  const size_t a = fleet.find(">2.4.1</td><td class=\"n\">5<");
  const size_t b = fleet.find(">70p</td><td class=\"n\">3<");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_FALSE(Has(fleet, ">unknown<"));
}

TEST(StatusPageTest, SlowestTableUsesTheSharedRanking) {
  const Snapshot s = MakeSnapshot();
  const std::string slowest = Section(Render(&s).html, "slowest");
  // Hostile: 0 + 10 * 0.25 = 2.5; SLOW 1.5; FAST 0.12; IDLE 0; RARE below 10 requests.
  const size_t hostile = slowest.find(kHostileEscaped);
  const size_t slow = slowest.find(">SLOW<");
  const size_t fast = slowest.find(">FAST<");
  const size_t idle = slowest.find(">IDLE<");
  ASSERT_NE(hostile, std::string::npos);
  ASSERT_NE(idle, std::string::npos);
  EXPECT_LT(hostile, slow);
  EXPECT_LT(slow, fast);
  EXPECT_LT(fast, idle);
  EXPECT_FALSE(Has(slowest, "RARE"));
  EXPECT_TRUE(Has(slowest,
                  ">SLOW</td><td class=\"mono\">crypto</td><td class=\"n\">1.50 s</td>"
                  "<td class=\"n\">1.98 s</td><td class=\"n\">0.0 %</td><td class=\"n\">20</td>"));
  EXPECT_TRUE(Has(slowest,
                  ">FAST</td><td class=\"mono\">stock</td><td class=\"n\">120 ms</td>"
                  "<td class=\"n\">200 ms<"));
  EXPECT_TRUE(Has(slowest, ">IDLE</td><td class=\"mono\">unknown</td>"));
  Snapshot quick;
  quick.symbols = {Window("QUICK", 0.00031, 0.0042, 0, 10)};
  EXPECT_TRUE(Has(Section(Render(&quick).html, "slowest"),
                  ">QUICK</td><td class=\"mono\">unknown</td><td class=\"n\">0.3 ms</td>"
                  "<td class=\"n\">4.2 ms<"));
  EXPECT_TRUE(Has(slowest, "<td class=\"n\">25.0 %</td><td class=\"n\">12</td>"));
  EXPECT_TRUE(Has(slowest, "Over the last 300 s, symbols with at least 10 requests"));
}

TEST(StatusPageTest, LatencyChartsOfTheRankedSymbols) {
  const Snapshot s = MakeSnapshot();
  const std::string latency = Section(Render(&s).html, "latency");
  // SLOW and FAST have answers; the hostile symbol and IDLE none: no chart.
  EXPECT_EQ(latency.find("<svg"), latency.find("<svg", 0));
  size_t charts = 0;
  for (size_t at = latency.find("<svg"); at != std::string::npos;
       at = latency.find("<svg", at + 1)) {
    ++charts;
  }
  EXPECT_EQ(charts, 2u);
  EXPECT_LT(latency.find("<figcaption class=\"mono\">SLOW<"),
            latency.find("<figcaption class=\"mono\">FAST<"));
  EXPECT_TRUE(Has(latency, "<title>\u22641 s: 2 answers</title>"));
  EXPECT_TRUE(Has(latency, "<title>\u22642 s: 17 answers</title>"));
  EXPECT_TRUE(Has(latency, ">&gt;2</text>"));
  // Buckets from 1 s up are the "slow" ones.
  EXPECT_TRUE(Has(latency, "class=\"bar slow\""));
}

// Per backend from the snapshot's typed totals: only backends with requests,
// in the engine's order; p50/p95 are histogram estimates and say so.
TEST(StatusPageTest, BackendsSection) {
  const Snapshot s = MakeSnapshot();
  const std::string backends = Section(Render(&s).html, "backends");
  EXPECT_TRUE(Has(backends, "<h2>Backends</h2>"));
  EXPECT_TRUE(Has(backends, "estimates from the latency histogram"));
  EXPECT_TRUE(Has(backends,
                  "<tr id=\"backend-stock\"><td class=\"mono\">stock</td><td class=\"n\">100</td>"
                  "<td class=\"n\">92.8 %</td><td class=\"n\">450 ms</td><td class=\"n\">1.55 s"
                  "</td><td class=\"n\">5</td><td class=\"n\">2</td></tr>"));
  // Every answer above the highest bound: the estimate says so.
  EXPECT_TRUE(Has(backends,
                  "<tr id=\"backend-crypto\"><td class=\"mono\">crypto</td><td class=\"n\">20</td>"
                  "<td class=\"n\">50.0 %</td><td class=\"n\">&gt; 2.00 s</td>"
                  "<td class=\"n\">&gt; 2.00 s</td><td class=\"n\">10</td><td class=\"n\">0</td>"));
  // Nothing answered: no latency, answer rate 0 of the one that ended.
  EXPECT_TRUE(Has(backends,
                  "<tr id=\"backend-unknown\"><td class=\"mono\">unknown</td><td class=\"n\">3</td>"
                  "<td class=\"n\">0.0 %</td><td class=\"n\">\u2013</td><td class=\"n\">\u2013"
                  "</td><td class=\"n\">0</td><td class=\"n\">2</td></tr>"));
  EXPECT_FALSE(Has(backends, "backend-page"));
  EXPECT_LT(backends.find("backend-stock"), backends.find("backend-crypto"));
  EXPECT_LT(backends.find("backend-crypto"), backends.find("backend-unknown"));

  Snapshot none = MakeSnapshot();
  none.backends = Backends({}, 4);
  EXPECT_TRUE(Has(Section(Render(&none).html, "backends"), "id=\"backends-empty\""));
}

TEST(StatusPageTest, RecentTimeouts) {
  const Snapshot s = MakeSnapshot();
  const std::string timeouts = Section(Render(&s).html, "timeouts");
  EXPECT_TRUE(Has(timeouts,
                  ">5 s ago</td><td class=\"mono\"><a href=\"/?device=A1B2C3D4E5F6\">"
                  "A1B2C3D4E5F6</a></td><td class=\"mono\">MSFT</td>"));
  EXPECT_TRUE(Has(timeouts,
                  ">2 min ago</td><td class=\"mono\"><a href=\"/?device=%3Cdev%3E\">"
                  "&lt;dev&gt;</a></td><td class=\"mono\">A&amp;B</td>"));
  Snapshot empty = MakeSnapshot();
  empty.recent_timeouts.clear();
  EXPECT_TRUE(Has(Section(Render(&empty).html, "timeouts"), "id=\"timeouts-empty\""));
}

TEST(StatusPageTest, PluginHealth) {
  const Snapshot s = MakeSnapshot();
  const std::string health = Section(Render(&s).html, "health");
  EXPECT_TRUE(Has(health, "id=\"health-messages\"><span class=\"v\">1290<"));
  EXPECT_TRUE(Has(health, "class=\"tile bad\" id=\"health-invalid\"><span class=\"v\">3<"));
  EXPECT_TRUE(Has(health, "class=\"tile bad\" id=\"health-caps\"><span class=\"v\">4<"));
  EXPECT_TRUE(Has(health,
                  "class=\"tile\" id=\"health-observations-dropped\"><span "
                  "class=\"v\">0<"));
  EXPECT_TRUE(Has(health, "class=\"tile bad\" id=\"health-restarts\"><span class=\"v\">1<"));
  EXPECT_TRUE(Has(health, ">stock_request</td><td class=\"n\">1234<"));
  EXPECT_TRUE(Has(health, ">heartbeat</td><td class=\"n\">56<"));
  EXPECT_TRUE(Has(health, ">stock_request / json</td><td class=\"n\">3<"));
  EXPECT_FALSE(Has(health, "heartbeat / field"));
  EXPECT_TRUE(Has(health, "<tr class=\"bad\"><td class=\"mono\">symbols</td><td class=\"n\">4<"));
  EXPECT_TRUE(Has(health, "tkmprom 0.1.0-test in mosquitto 2.0.11"));
}

TEST(StatusPageTest, LinksTheOtherEndpoints) {
  const Snapshot s = MakeSnapshot();
  const std::string endpoints = Section(Render(&s).html, "endpoints");
  for (const char* link :
       {"href=\"/metrics\"", "href=\"/healthz\"", "href=\"/api/v1/symbols/slowest\"",
        "/api/v1/devices/&lt;device_id&gt;"}) {
    EXPECT_TRUE(Has(endpoints, link)) << link;
  }
}

// Every tag in `html` is one the page writes itself, none has an event
// handler or a style attribute, and there is no script.
void ExpectOnlyOwnMarkup(const std::string& html) {
  static const std::set<std::string> kAllowed = {
      "!DOCTYPE", "html",    "head",       "meta", "title", "style", "body", "header", "div",
      "h1",       "h2",      "h3",         "span", "p",     "a",     "form", "label",  "input",
      "button",   "section", "strong",     "code", "table", "tr",    "th",   "td",     "ul",
      "li",       "figure",  "figcaption", "svg",  "line",  "rect",  "text"};
  for (size_t at = html.find('<'); at != std::string::npos; at = html.find('<', at + 1)) {
    size_t name_start = at + 1;
    if (html[name_start] == '/') ++name_start;
    size_t name_end = name_start;
    while (name_end < html.size() && (std::isalnum(static_cast<unsigned char>(html[name_end])) ||
                                      html[name_end] == '!' || html[name_end] == 'D')) {
      ++name_end;
    }
    const std::string name = html.substr(name_start, name_end - name_start);
    ASSERT_TRUE(kAllowed.count(name))
        << "unexpected tag <" << name << "> at " << html.substr(at, 60);
    // The tag's attribute names: the tag without its quoted values (which
    // cannot hold a quote of their own when escaping works).
    std::string tag;
    bool quoted = false;
    for (size_t i = at; i < html.size() && (quoted || html[i] != '>'); ++i) {
      if (html[i] == '"') quoted = !quoted;
      if (!quoted && html[i] != '"') tag += html[i];
    }
    EXPECT_FALSE(Has(tag, " on")) << tag;
    EXPECT_FALSE(Has(tag, "style=")) << tag;
    EXPECT_FALSE(Has(tag, "javascript:")) << tag;
    if (name == "style") at = html.find("</style>", at);  // CSS has no tags
  }
}

TEST(StatusPageTest, EscapesEveryValueFromTraffic) {
  const Snapshot s = MakeSnapshot();
  const std::string html = Render(&s).html;
  EXPECT_FALSE(Has(html, kHostile));
  EXPECT_FALSE(Has(html, "<img"));
  EXPECT_FALSE(Has(html, "<dev>"));
  EXPECT_TRUE(Has(html, kHostileEscaped));  // firmware and symbol, as text
  ExpectOnlyOwnMarkup(html);

  // The hostile device looked up: its id in the input's value, the heading
  // and the JSON link, its firmware and symbol in the table.
  const StatusPage page = Render(&s, Query(kHostile));
  EXPECT_EQ(page.status, 200u);
  EXPECT_FALSE(Has(page.html, kHostile));
  EXPECT_TRUE(Has(page.html, std::string("name=\"device\" value=\"") + kHostileEscaped + "\""));
  EXPECT_TRUE(Has(page.html, std::string("id=\"device-firmware\">") + kHostileEscaped + "<"));
  EXPECT_TRUE(Has(page.html,
                  "href=\"/api/v1/devices/%3Cimg%20src%3Dx%20onerror%3D%22alert%281%29"
                  "%22%3E%26%27\""));
  ExpectOnlyOwnMarkup(page.html);

  // And not found.
  const StatusPage missing = Render(&s, Query("\"><script>alert(1)</script>"));
  EXPECT_EQ(missing.status, 404u);
  EXPECT_FALSE(Has(missing.html, "<script"));
  EXPECT_TRUE(Has(missing.html, "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
  ExpectOnlyOwnMarkup(missing.html);
}

// Backend names come from the engine's fixed set; the page escapes them anyway.
TEST(StatusPageTest, BackendNamesAreEscaped) {
  Snapshot s;
  s.latency_bounds = {1};
  s.backends = {Totals(kHostile, 1, 1, 0, 0, 0, {1, 0})};
  s.symbols = {Window("X", 0.5, 0.5, 0, 10, {1, 0}, kHostile)};
  const std::string html = Render(&s).html;
  EXPECT_FALSE(Has(html, kHostile));
  EXPECT_TRUE(Has(Section(html, "backends"), kHostileEscaped));
  EXPECT_TRUE(Has(Section(html, "slowest"), kHostileEscaped));
  ExpectOnlyOwnMarkup(html);
}

TEST(StatusPageTest, AutoRefreshOnByDefaultAndOffWithRefreshZero) {
  const Snapshot s = MakeSnapshot();
  const std::string on = Render(&s).html;
  EXPECT_TRUE(Has(on, "<meta http-equiv=\"refresh\" content=\"10\">"));
  EXPECT_TRUE(Has(on, "<a id=\"refresh-toggle\" href=\"/?refresh=0\">stop auto-refresh</a>"));
  EXPECT_FALSE(Has(on, "name=\"refresh\""));

  const std::string off = Render(&s, Query(nullptr, "0")).html;
  EXPECT_FALSE(Has(off, "http-equiv=\"refresh\""));
  EXPECT_TRUE(Has(off, "<a id=\"refresh-toggle\" href=\"/\">turn on</a>"));
  // The lookup form and the device links keep it off.
  EXPECT_TRUE(Has(off, "<input type=\"hidden\" name=\"refresh\" value=\"0\">"));
  EXPECT_TRUE(Has(off, "href=\"/?device=A1B2C3D4E5F6&amp;refresh=0\""));

  // With a device: the toggles keep the device.
  const std::string device_on = Render(&s, Query("A1B2C3D4E5F6")).html;
  EXPECT_TRUE(Has(device_on, "<meta http-equiv=\"refresh\" content=\"10\">"));
  EXPECT_TRUE(Has(device_on, "href=\"/?device=A1B2C3D4E5F6&amp;refresh=0\">stop auto-refresh"));
  const std::string device_off = Render(&s, Query("A1B2C3D4E5F6", "0")).html;
  EXPECT_TRUE(Has(device_off, "href=\"/?device=A1B2C3D4E5F6\">turn on"));

  for (const char* other : {"1", "", "yes", "00"}) {
    EXPECT_TRUE(Query(nullptr, other).refresh) << other;
  }
}

TEST(StatusPageTest, DeviceLookupFound) {
  const Snapshot s = MakeSnapshot();
  const StatusPage page = Render(&s, Query("  A1B2C3D4E5F6 "));
  EXPECT_EQ(page.status, 200u);
  const std::string device = Section(page.html, "device-result");
  ASSERT_NE(device, "");
  EXPECT_TRUE(Has(device, "Device <code>A1B2C3D4E5F6</code> &mdash; online"));
  EXPECT_EQ(ById(device, "device-firmware"), "70p");
  EXPECT_EQ(ById(device, "device-inner-version"), "elec+HB");
  EXPECT_EQ(ById(device, "device-flash-id"), "C84016");
  EXPECT_EQ(ById(device, "device-last-seen"), "12 s ago");
  EXPECT_EQ(ById(device, "device-last-heartbeat"), "30 s ago");
  EXPECT_EQ(ById(device, "device-battery"), "87 %");
  EXPECT_EQ(ById(device, "device-charging"), "no");
  EXPECT_EQ(ById(device, "device-vin"), "1830");
  EXPECT_EQ(ById(device, "device-uptime"), "24.0 h");
  EXPECT_EQ(ById(device, "device-wifi"), "3");
  EXPECT_EQ(ById(device, "device-xmc"), "1");
  EXPECT_EQ(ById(device, "device-boots"), "4");
  EXPECT_EQ(ById(device, "device-requests"), "100");
  EXPECT_EQ(ById(device, "device-responses"), "95");
  EXPECT_EQ(ById(device, "device-errors"), "2");
  EXPECT_EQ(ById(device, "device-timeouts"), "1");
  EXPECT_EQ(ById(device, "device-pending"), "2");
  EXPECT_EQ(ById(device, "device-last-symbol"), "AAPL");
  EXPECT_TRUE(Has(device, "href=\"/api/v1/devices/A1B2C3D4E5F6\""));
  // The input shows what was looked up; the rest of the page is still there.
  EXPECT_TRUE(Has(page.html, "name=\"device\" value=\"A1B2C3D4E5F6\""));
  EXPECT_NE(Section(page.html, "slowest"), "");
}

TEST(StatusPageTest, DeviceNeverReportedShowsDashes) {
  Snapshot s;
  DeviceState d;
  d.device_id = "000000000001";
  s.devices.push_back(d);
  const std::string device = Section(Render(&s, Query("000000000001")).html, "device-result");
  EXPECT_TRUE(Has(device, "&mdash; offline"));
  EXPECT_EQ(ById(device, "device-firmware"), "\u2013");
  EXPECT_EQ(ById(device, "device-battery"), "\u2013");
  EXPECT_EQ(ById(device, "device-last-heartbeat"), "never");
}

TEST(StatusPageTest, DeviceLookupNotFound) {
  const Snapshot s = MakeSnapshot();
  const StatusPage page = Render(&s, Query("FFFFFFFFFFFF"));
  EXPECT_EQ(page.status, 404u);
  const std::string device = Section(page.html, "device-result");
  EXPECT_TRUE(Has(device, "id=\"device-not-found\""));
  EXPECT_TRUE(Has(device, "Device not found:</strong> no device <code>FFFFFFFFFFFF</code>"));
  EXPECT_NE(Section(page.html, "fleet"), "");
  // An empty or blank query is no lookup at all.
  EXPECT_EQ(Render(&s, Query("   ")).status, 200u);
  EXPECT_FALSE(Has(Render(&s, Query("")).html, "device-result"));
}

TEST(StatusPageTest, BeforeTheFirstSnapshot) {
  const StatusPage page = Render(nullptr);
  EXPECT_EQ(page.status, 200u);
  EXPECT_TRUE(Has(page.html, "id=\"no-snapshot\""));
  EXPECT_NE(Section(page.html, "endpoints"), "");
  EXPECT_EQ(Section(page.html, "fleet"), "");
  EXPECT_EQ(Render(nullptr, Query("A1B2C3D4E5F6")).status, 503u);
  ExpectOnlyOwnMarkup(page.html);
}

TEST(StatusPageTest, EmptySnapshot) {
  const Snapshot s;
  const std::string html = Render(&s).html;
  EXPECT_TRUE(Has(html, "id=\"slowest-empty\""));
  EXPECT_TRUE(Has(html, "no device online"));
  EXPECT_TRUE(Has(html, "id=\"timeouts-empty\""));
  EXPECT_TRUE(Has(html, "id=\"invalid-none\""));
  ExpectOnlyOwnMarkup(html);
}

TEST(StatusPageTest, StrictContentSecurityPolicyAllowsExactlyTheStylesheet) {
  const std::string csp = StatusPageCsp();
  EXPECT_EQ(csp.rfind("default-src 'none'; ", 0), 0u);
  EXPECT_TRUE(Has(csp, std::string("style-src ") + kStatusPageCssHash + ";"));
  EXPECT_TRUE(Has(csp, "form-action 'self'"));
  EXPECT_TRUE(Has(csp, "frame-ancestors 'none'"));
  EXPECT_FALSE(Has(csp, "unsafe"));
  EXPECT_FALSE(Has(csp, "script-src"));
  EXPECT_EQ(std::string(kStatusPageCssHash).rfind("'sha256-", 0), 0u);
  // The hash covers the <style> element's text, byte for byte.
  const Snapshot s = MakeSnapshot();
  EXPECT_TRUE(Has(Render(&s).html, std::string("<style>") + kStatusPageCss + "</style>"));
}

TEST(LatencyChartTest, BucketLabels) {
  const std::vector<double> bounds = {0.1, 0.5, 60};
  EXPECT_EQ(BucketLabel(bounds, 0), "\u22640.1");
  EXPECT_EQ(BucketLabel(bounds, 2), "\u226460");
  EXPECT_EQ(BucketLabel(bounds, 3), ">60");
  EXPECT_EQ(BucketLabel({}, 0), "all");
}

TEST(LatencyChartTest, NothingWithoutAnswers) {
  std::string out;
  AppendLatencyChart(Window("X", kNaN, kNaN, 1, 5, {0, 0, 0}), {1, 2}, &out);
  EXPECT_EQ(out, "");
  AppendLatencyChart(Window("X", kNaN, kNaN, 1, 5), {1, 2}, &out);
  EXPECT_EQ(out, "");
}

// As Prometheus' histogram_quantile(): linear within the bucket holding the
// rank, the first bucket from 0, above every bound +Inf (shown as "> bound").
TEST(LatencyChartTest, HistogramQuantileEstimate) {
  const std::vector<double> bounds = {0.5, 1, 2};
  EXPECT_TRUE(std::isnan(EstimateHistogramQuantile(bounds, {0, 0, 0, 0}, 0.5)));
  EXPECT_TRUE(std::isnan(EstimateHistogramQuantile(bounds, {}, 0.5)));
  EXPECT_DOUBLE_EQ(EstimateHistogramQuantile(bounds, {50, 30, 10, 0}, 0.5), 0.45);
  EXPECT_DOUBLE_EQ(EstimateHistogramQuantile(bounds, {50, 30, 10, 0}, 0.95), 1.55);
  // A rank at a bucket's upper edge is that bucket's upper bound.
  EXPECT_DOUBLE_EQ(EstimateHistogramQuantile(bounds, {2, 0, 2, 0}, 0.5), 0.5);
  // Empty buckets in between are skipped.
  EXPECT_DOUBLE_EQ(EstimateHistogramQuantile(bounds, {0, 0, 4, 0}, 0.5), 1.5);
  EXPECT_DOUBLE_EQ(EstimateHistogramQuantile(bounds, {0, 0, 4, 0}, 1.0), 2.0);
  EXPECT_TRUE(std::isinf(EstimateHistogramQuantile(bounds, {1, 0, 0, 1}, 0.95)));
  EXPECT_TRUE(std::isinf(EstimateHistogramQuantile({}, {3}, 0.5)));
}

TEST(LatencyChartTest, TallestBarIsFullHeightAndSmallOnesStayVisible) {
  std::string out;
  AppendLatencyChart(Window("X", 1, 1, 0, 1001, {1000, 1, 0}), {1, 2}, &out);
  EXPECT_TRUE(Has(out, "height=\"72\"><title>\u22641 s: 1000 answers</title>"));
  EXPECT_TRUE(Has(out, "height=\"1\"><title>\u22642 s: 1 answer</title>"));
  EXPECT_EQ(out.find("rect", out.find(">&gt;2</text>")), std::string::npos);
}

}  // namespace
}  // namespace tkmprom
