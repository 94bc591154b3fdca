// HttpServer: the companion's HTTP listener (libmicrohttpd), serving the
// endpoints of the plugin contract §3 from the latest published Snapshot:
//   /metrics                          exposition, from MetricsCache
//   /healthz                          "ok"
//   /                                 the operator status page (status_page.h)
//   /api/v1/symbols/slowest?limit=N   JSON (api_json.h)
//   /api/v1/devices/<id>              JSON (api_json.h)
// GET and HEAD only (405 otherwise); anything else is 404.
//
// With users in the HttpSecurity, every path but /healthz needs HTTP basic
// auth (401 with `WWW-Authenticate: Basic realm="tkmprom"` otherwise; 429
// with Retry-After to an address whose checks keep failing or that already
// has one running, 503 with Retry-After while every bcrypt slot is taken by
// other addresses; see basic_auth.h). With a certificate, the listener
// speaks TLS only. Every response carries `X-Content-Type-Options: nosniff`
// and `Cache-Control: no-store`.
//
// HttpLimits bound connections overall and per client address, and a
// ConnectionTable (connection_table.h) keeps idle or slow clients from
// exhausting the listener or stalling scrapes: at a limit, a new connection
// closes the one open longest without completing a request; a request's
// headers must arrive within a total deadline however slowly they trickle
// (a sweeper thread closes the late ones); and libmicrohttpd closes a
// connection idle for longer than the timeout.
//
// The listening socket is bound by the broker before the companion is forked
// and stays the caller's: the server serves on a duplicate of it, and
// neither closes nor shuts down the caller's descriptor.
//
// Thread safety: Start(), Reload() and Stop() (and the destructor) are called
// by the thread that owns the server, never concurrently with each other.
// PrepareRenders() may be called from any thread, at any time, also before
// Start() and after Stop(). Requests are handled on libmicrohttpd's threads,
// which read the SnapshotHolder and the MetricsCache and update the
// ConnectionTable and BasicAuth (both thread-safe); the sweeper thread,
// running between Start() and Stop(), touches only the ConnectionTable.
#ifndef TKMPROM_SRC_HTTP_HTTP_SERVER_H_
#define TKMPROM_SRC_HTTP_HTTP_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "src/http/basic_auth.h"
#include "src/http/connection_table.h"
#include "src/http/http_security.h"
#include "src/http/metrics_cache.h"
#include "src/http/scrape_schedule.h"
#include "src/http/snapshot_holder.h"
#include "tkmprom/config.h"
#include "tkmprom/snapshot.h"

struct MHD_Daemon;

namespace tkmprom {

struct HttpLimits {
  // Open connections, all clients together. A new connection beyond it
  // closes the one open longest without completing a request.
  unsigned connection_limit = 64;
  // The same from one client address (an IPv6 /64), among that address's
  // connections; 0: no per-address limit. It closes old connections, never
  // refuses the new one, so hogs cannot keep out a scraper sharing their
  // address (Prometheus on the broker host, or behind the same NAT).
  unsigned per_ip_connection_limit = 16;
  unsigned connection_timeout_s = 10;  // a connection idle this long is closed
  // A request's headers must all have arrived this long after the accept
  // (or after the previous request on the connection was answered), however
  // slowly they trickle; libmicrohttpd's idle timer restarts with every
  // byte. 0: no deadline.
  unsigned header_deadline_ms = 10000;
};

class HttpServer {
 public:
  // `holder` must outlive the server. Only config.ranking_min_requests and
  // config.quantile_window_s are read (copied here); `security` is copied
  // too. `auth_options` (tests: a fake verifier or clock) apply to the
  // users of `security` and of every Reload().
  HttpServer(const Config& config, SnapshotHolder* holder,
             const HttpSecurity& security = HttpSecurity(), const HttpLimits& limits = HttpLimits(),
             const BasicAuthOptions& auth_options = BasicAuthOptions());
  ~HttpServer();  // Stop()s.

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves on `listen_fd`, an already bound and listening TCP socket (IPv4
  // or IPv6) that the caller keeps owning and keeps open until Stop().
  // Returns "" on success, else one error line.
  std::string Start(int listen_fd);

  // /healthz answers 503 "engine stalled N s" while *last_loop_ns (a
  // CLOCK_MONOTONIC time the engine thread stores every loop) is more than
  // kStalledAfterNs old. Null (the default): always 200. Any thread; the
  // atomic must outlive the server.
  void set_liveness(const std::atomic<int64_t>* last_loop_ns);
  static constexpr int64_t kStalledAfterNs = int64_t{10} * 1000000000;

  // Serves with new credentials and certificate (SIGHUP): a restart of the
  // daemon on the same socket. On failure the previous ones stay and the
  // error line is returned; "" on success. Called by the owning thread.
  std::string Reload(const HttpSecurity& security);

  // Stops accepting, finishes or drops the open connections, joins
  // libmicrohttpd's threads and the sweeper. The caller's socket stays open
  // and listening (its blocking mode is restored). Idempotent.
  void Stop();

  // Renders /metrics for `snapshot` (0.0.4 text, plain and gzip, and any
  // format asked for before) into the cache, off the request path: call it
  // from a thread of its own right after SnapshotHolder::Publish(snapshot),
  // so that neither the engine nor a scrape waits for it. Then the holder
  // lets go of the snapshot (SnapshotHolder::Release()). Never throws; if
  // memory runs out, the next scrape renders instead.
  void PrepareRenders(const std::shared_ptr<const Snapshot>& snapshot);

  // When /metrics is asked for (scrape_schedule.h): lets the engine thread
  // build and render snapshots ahead of the scrapes that will read them.
  // Times are std::chrono::steady_clock (CLOCK_MONOTONIC) nanoseconds. Any
  // thread.
  const ScrapeSchedule& scrape_schedule() const { return scrape_schedule_; }

  // How many connections were tracked, closed for room or for late
  // headers, or refused (tests). Any thread.
  ConnectionTable::Counts connection_counts() const { return connections_.counts(); }

 private:
  struct Handlers;  // libmicrohttpd's callbacks, defined in the .cc

  // The sweeper thread: closes connections whose headers are overdue, at
  // each deadline, until Stop().
  void Sweep();
  void StopSweeper();

  // The holder's snapshot if at most snapshot_max_age old, else a new one
  // asked of the engine thread (waiting up to kSnapshotWaitNs for it).
  std::shared_ptr<const Snapshot> FreshSnapshot(int64_t now_ns);
  static constexpr int64_t kSnapshotWaitNs = 1'000'000'000;

  const uint64_t ranking_min_requests_;
  const double quantile_window_s_;  // the status page names it
  const int64_t max_age_ns_;        // snapshot_max_age
  SnapshotHolder* const holder_;
  const HttpLimits limits_;
  const BasicAuthOptions auth_options_;
  // Replaced only by Reload(), while the daemon is stopped.
  std::string tls_cert_pem_;  // "" : plain HTTP
  std::string tls_key_pem_;
  std::unique_ptr<BasicAuth> auth_;  // null: no authentication
  MetricsCache cache_;
  ScrapeSchedule scrape_schedule_;
  ConnectionTable connections_;

  std::thread sweeper_;  // joinable between Start() and Stop()
  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  bool sweep_stop_ = false;  // guarded by sweep_mu_

  std::atomic<const std::atomic<int64_t>*> liveness_{nullptr};

  MHD_Daemon* daemon_ = nullptr;
  int listen_fd_ = -1;       // the caller's socket
  int saved_fd_flags_ = -1;  // its F_GETFL flags before Start()

  std::mutex log_mu_;
  std::string last_log_;  // guarded by log_mu_; libmicrohttpd's last message
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_HTTP_SERVER_H_
