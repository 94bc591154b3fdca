#include "src/http/http_server.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "src/exposition/negotiation.h"
#include "src/exposition/text_writer.h"
#include "src/http/api_json.h"
#include "src/http/client_address.h"
#include "src/http/status_page.h"

namespace tkmprom {
namespace {

// CLOCK_MONOTONIC nanoseconds (libstdc++'s steady_clock reads it).
int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr unsigned kThreadPoolSize = 2;
constexpr char kRealm[] = "tkmprom";

constexpr char kTextPlain[] = "text/plain; charset=utf-8";
constexpr char kTextHtml[] = "text/html; charset=utf-8";
constexpr char kJson[] = "application/json";
constexpr char kDevicesPrefix[] = "/api/v1/devices/";

struct Header {
  const char* name;
  const char* value;
};

// Every response: no content sniffing, and nothing kept by caches (metrics,
// device state and error pages are all live data; a 401 must not be reused).
constexpr Header kSecurityHeaders[] = {{"X-Content-Type-Options", "nosniff"},
                                       {MHD_HTTP_HEADER_CACHE_CONTROL, "no-store"}};

bool AddHeaders(MHD_Response* response, const char* content_type,
                std::initializer_list<Header> extra) {
  if (MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES) {
    return false;
  }
  for (const Header& h : extra) {
    if (MHD_add_response_header(response, h.name, h.value) != MHD_YES) return false;
  }
  for (const Header& h : kSecurityHeaders) {
    bool given = false;
    for (const Header& e : extra) given = given || strcasecmp(e.name, h.name) == 0;
    if (!given && MHD_add_response_header(response, h.name, h.value) != MHD_YES) return false;
  }
  return true;
}

// 401 with `WWW-Authenticate: Basic realm="tkmprom"`.
MHD_Result QueueUnauthorized(MHD_Connection* connection) {
  static constexpr char kBody[] = "unauthorized\n";
  MHD_Response* response = MHD_create_response_from_buffer(
      sizeof(kBody) - 1, const_cast<char*>(kBody), MHD_RESPMEM_PERSISTENT);
  if (response == nullptr) return MHD_NO;
  if (!AddHeaders(response, "text/plain; charset=utf-8", {})) {
    MHD_destroy_response(response);
    return MHD_NO;
  }
  MHD_Result result = MHD_queue_basic_auth_fail_response(connection, kRealm, response);
  MHD_destroy_response(response);
  return result;
}

struct MhdFree {
  void operator()(char* p) const {
    if (p != nullptr) {
      explicit_bzero(p, std::strlen(p));
      MHD_free(p);
    }
  }
};

MHD_Result QueueAndRelease(MHD_Connection* connection, unsigned status, MHD_Response* response) {
  MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);  // the queued response holds its own reference
  return result;
}

// A small response whose bytes libmicrohttpd copies.
MHD_Result QueueCopy(MHD_Connection* connection, unsigned status, std::string_view body,
                     const char* content_type, std::initializer_list<Header> extra = {}) {
  MHD_Response* response = MHD_create_response_from_buffer(
      body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  if (!AddHeaders(response, content_type, extra)) {
    MHD_destroy_response(response);
    return MHD_NO;
  }
  return QueueAndRelease(connection, status, response);
}

void ReleaseBody(void* cls) { delete static_cast<std::shared_ptr<const RenderedBody>*>(cls); }

// A response that points into the cached body without copying it; the body
// stays alive until libmicrohttpd destroys the response (after the last byte
// is sent, or when the connection dies).
MHD_Result QueueCached(MHD_Connection* connection, std::shared_ptr<const RenderedBody> body,
                       std::initializer_list<Header> extra) {
  auto pin = std::make_unique<std::shared_ptr<const RenderedBody>>(std::move(body));
  const std::string& bytes = (*pin)->bytes;
  MHD_Response* response = MHD_create_response_from_buffer_with_free_callback_cls(
      bytes.size(), const_cast<char*>(bytes.data()), &ReleaseBody, pin.get());
  if (response == nullptr) return MHD_NO;
  const RenderedBody& rendered = **pin;
  pin.release();  // owned by the response from here on
  if (!AddHeaders(response, ContentType(rendered.format), extra) ||
      (rendered.gzip &&
       MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip") != MHD_YES)) {
    MHD_destroy_response(response);
    return MHD_NO;
  }
  return QueueAndRelease(connection, MHD_HTTP_OK, response);
}

std::string_view HeaderValue(MHD_Connection* connection, MHD_ValueKind kind, const char* name) {
  const char* value = MHD_lookup_connection_value(connection, kind, name);
  return value == nullptr ? std::string_view() : std::string_view(value);
}

// "" when `fd` is a listening IPv4 or IPv6 TCP socket, else why not.
std::string CheckListeningSocket(int fd) {
  int domain = 0;
  int type = 0;
  int listening = 0;
  socklen_t len = sizeof(int);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) {
    return std::string("HTTP listening socket unusable: ") + std::strerror(errno);
  }
  len = sizeof(int);
  getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
  len = sizeof(int);
  getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
  if ((domain != AF_INET && domain != AF_INET6) || type != SOCK_STREAM) {
    return "HTTP listening socket is not a TCP socket";
  }
  if (listening == 0) return "HTTP listening socket is not listening";
  return "";
}

// libmicrohttpd's own connection limit is twice ours: connections the
// ConnectionTable closed to make room are still draining when the newcomer
// that evicted them is accepted, and libmicrohttpd, at its limit, would
// refuse the newcomer before the table could make room (it checks its limit
// before any callback runs). The thread pool splits this limit between its
// threads, so each can hold all of ours.
ConnectionTableLimits TableLimits(const HttpLimits& limits) {
  ConnectionTableLimits t;
  t.connection_limit = std::max(limits.connection_limit, 1u);
  t.capacity = 2 * t.connection_limit;
  t.per_address_limit = limits.per_ip_connection_limit;
  t.header_deadline_ns = int64_t{limits.header_deadline_ms} * 1000000;
  return t;
}

// Makes libmicrohttpd close a connection it owns: the next read sees end of
// stream and the next write fails, so its thread closes the connection and
// reports it closed (and only then closes the descriptor). The socket's
// pending data is dropped; nothing else about the descriptor changes.
void ShutDownConnection(int fd) { shutdown(fd, SHUT_RDWR); }

// A ConnectionTable slot stored in libmicrohttpd's per-connection pointer:
// slot + 1, so that null means untracked.
void* SlotContext(int slot) {
  return slot < 0 ? nullptr : reinterpret_cast<void*>(static_cast<intptr_t>(slot) + 1);
}
int SlotOf(void* context) {
  return context == nullptr ? ConnectionTable::kUntracked
                            : static_cast<int>(reinterpret_cast<intptr_t>(context) - 1);
}
int SlotOf(MHD_Connection* connection) {
  const MHD_ConnectionInfo* info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info == nullptr ? ConnectionTable::kUntracked : SlotOf(info->socket_context);
}

}  // namespace

struct HttpServer::Handlers {
  // *con_cls of a GET or HEAD admitted at its first call.
  static inline char kAdmitted = 0;

  static MHD_Result Access(void* cls, MHD_Connection* connection, const char* url,
                           const char* method, const char* /*version*/, const char* /*upload_data*/,
                           size_t* upload_data_size, void** con_cls) {
    // Nothing may unwind into libmicrohttpd's C frames.
    try {
      auto* server = static_cast<HttpServer*>(cls);
      if (*con_cls == nullptr) {
        // Called once the request's headers are complete: the connection is
        // no longer one that holds a place without asking for anything.
        server->connections_.RequestStarted(SlotOf(connection));
        // Authentication first, so that nothing about the server (not even
        // which methods it allows) is told to a stranger.
        MHD_Result refused;
        if (server->auth_ != nullptr && std::string_view(url == nullptr ? "" : url) != "/healthz" &&
            Refuse(server, connection, &refused)) {
          return refused;
        }
        if (std::strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
            std::strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
          return QueueCopy(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
                           kTextPlain, {{MHD_HTTP_HEADER_ALLOW, "GET, HEAD"}});
        }
        // Answered once the whole request has been read: libmicrohttpd
        // closes a connection whose response was queued before that, and a
        // scraper's next request would need a new one.
        *con_cls = &kAdmitted;
        return MHD_YES;
      }
      if (*upload_data_size != 0) {
        *upload_data_size = 0;  // a body nobody asked for, dropped
        return MHD_YES;
      }
      return Route(server, connection, url == nullptr ? "" : url);
    } catch (...) {
      try {
        return QueueCopy(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n",
                         kTextPlain);
      } catch (...) {
        return MHD_NO;  // libmicrohttpd closes the connection
      }
    }
  }

  // Checks the request's basic credentials. When they do not admit it,
  // queues the answer (401; 429 to an address locked out or with a check
  // running; 503 while every bcrypt slot is taken) into `*result` and
  // returns true.
  static bool Refuse(HttpServer* server, MHD_Connection* connection, MHD_Result* result) {
    char* password_raw = nullptr;
    std::unique_ptr<char, MhdFree> user(
        MHD_basic_auth_get_username_password(connection, &password_raw));
    std::unique_ptr<char, MhdFree> password(password_raw);
    BasicAuth::Result verdict = BasicAuth::Result::kDenied;
    int retry_after_s = 1;
    if (user != nullptr && password != nullptr) {
      const MHD_ConnectionInfo* info =
          MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
      const ClientAddress client =
          ClientAddress::FromSockaddr(info == nullptr ? nullptr : info->client_addr);
      verdict = server->auth_->Check(client, user.get(), password.get(), &retry_after_s);
    }
    const std::string retry_after = std::to_string(retry_after_s);
    switch (verdict) {
      case BasicAuth::Result::kAllowed:
        return false;
      case BasicAuth::Result::kBusy:
        *result = QueueCopy(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                            "every password check slot is busy; retry shortly\n", kTextPlain,
                            {{MHD_HTTP_HEADER_RETRY_AFTER, retry_after.c_str()}});
        return true;
      case BasicAuth::Result::kThrottled:
        *result = QueueCopy(connection, MHD_HTTP_TOO_MANY_REQUESTS,
                            "too many password checks from your address; retry later\n", kTextPlain,
                            {{MHD_HTTP_HEADER_RETRY_AFTER, retry_after.c_str()}});
        return true;
      case BasicAuth::Result::kDenied:
        break;
    }
    *result = QueueUnauthorized(connection);
    return true;
  }

  static MHD_Result Route(HttpServer* server, MHD_Connection* connection, std::string_view url) {
    if (url == "/metrics") return Metrics(server, connection);
    if (url == "/healthz") return Health(server, connection);
    if (url == "/") return Status(server, connection);
    if (url == "/api/v1/symbols/slowest") return Slowest(server, connection);
    if (url.substr(0, sizeof(kDevicesPrefix) - 1) == kDevicesPrefix) {
      return Device(server, connection, url.substr(sizeof(kDevicesPrefix) - 1));
    }
    return QueueCopy(connection, MHD_HTTP_NOT_FOUND, "not found\n", kTextPlain);
  }

  // 200 "ok", or 503 with the reason while the engine thread is stalled
  // (plugin-contract.md §7.1): its loop runs every few milliseconds, so a
  // loop older than kStalledAfterNs means it hangs.
  static MHD_Result Health(HttpServer* server, MHD_Connection* connection) {
    const std::atomic<int64_t>* liveness = server->liveness_.load(std::memory_order_acquire);
    if (liveness != nullptr) {
      const int64_t stalled_ns = SteadyNanos() - liveness->load(std::memory_order_relaxed);
      if (stalled_ns > kStalledAfterNs) {
        return QueueCopy(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                         "engine stalled " + std::to_string(stalled_ns / 1000000000) + " s\n",
                         kTextPlain);
      }
    }
    return QueueCopy(connection, MHD_HTTP_OK, "ok\n", kTextPlain);
  }

  static MHD_Result NoSnapshot(MHD_Connection* connection) {
    return QueueCopy(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                     "no snapshot yet: the engine has not published its first one\n", kTextPlain,
                     {{MHD_HTTP_HEADER_RETRY_AFTER, "1"}});
  }

  static MHD_Result Metrics(HttpServer* server, MHD_Connection* connection) {
    const int64_t now = SteadyNanos();
    server->scrape_schedule_.OnScrape(now);
    ExpositionFormat format =
        NegotiateFormat(HeaderValue(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
    bool gzip =
        AcceptsGzip(HeaderValue(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
    // A render of a fresh enough snapshot is served even while a newer one
    // is being rendered.
    if (auto body = server->cache_.GetIfFresh(format, gzip, now - server->max_age_ns_)) {
      return QueueCached(connection, std::move(body),
                         {{MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding"}});
    }
    std::shared_ptr<const Snapshot> snapshot = server->FreshSnapshot(now);
    if (snapshot == nullptr) {
      // No snapshot in time (the engine is busy, or hung until the
      // supervisor restarts it): the last render, however old.
      if (auto stale = server->cache_.GetIfFresh(format, gzip, INT64_MIN)) {
        return QueueCached(connection, std::move(stale),
                           {{MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding"}});
      }
      return NoSnapshot(connection);
    }
    std::shared_ptr<const RenderedBody> body = server->cache_.Get(snapshot, format, gzip);
    // Rendered: the cached bodies answer the scrapes within the bound.
    server->holder_->Release(snapshot);
    return QueueCached(connection, std::move(body),
                       {{MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding"}});
  }

  static MHD_Result Slowest(HttpServer* server, MHD_Connection* connection) {
    size_t limit = kDefaultSlowestLimit;
    // NULL both when absent and when given without '=': the default either way.
    if (const char* text =
            MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "limit")) {
      std::optional<size_t> parsed = ParseSlowestLimit(text);
      if (!parsed) {
        return QueueCopy(connection, MHD_HTTP_BAD_REQUEST,
                         JsonError("limit must be an integer (1 to 1000)"), kJson);
      }
      limit = *parsed;
    }
    std::shared_ptr<const Snapshot> snapshot = server->FreshSnapshot(SteadyNanos());
    if (snapshot == nullptr) return NoSnapshot(connection);
    return QueueCopy(connection, MHD_HTTP_OK,
                     SlowestSymbolsJson(*snapshot, limit, server->ranking_min_requests_), kJson);
  }

  static MHD_Result Device(HttpServer* server, MHD_Connection* connection, std::string_view id) {
    std::shared_ptr<const Snapshot> snapshot = server->FreshSnapshot(SteadyNanos());
    if (snapshot == nullptr) return NoSnapshot(connection);
    std::optional<std::string> json = DeviceJson(*snapshot, id);
    if (!json) return QueueCopy(connection, MHD_HTTP_NOT_FOUND, JsonError("unknown device"), kJson);
    return QueueCopy(connection, MHD_HTTP_OK, *json, kJson);
  }

  static MHD_Result Status(HttpServer* server, MHD_Connection* connection) {
    std::shared_ptr<const Snapshot> snapshot = server->FreshSnapshot(SteadyNanos());
    const StatusPageQuery query = ParseStatusPageQuery(
        MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "device"),
        MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "refresh"));
    const StatusPageOptions options{server->ranking_min_requests_, server->quantile_window_s_};
    const StatusPage page = RenderStatusPage(snapshot.get(), options, query);
    return QueueCopy(
        connection, page.status, page.html, kTextHtml,
        {{"Content-Security-Policy", StatusPageCsp()}, {"Referrer-Policy", "no-referrer"}});
  }

  // A connection accepted (STARTED) or about to be closed (CLOSED): the
  // ConnectionTable follows it, and may close older ones to make room.
  static void ConnectionNotice(void* cls, MHD_Connection* connection, void** socket_context,
                               MHD_ConnectionNotificationCode code) {
    auto* server = static_cast<HttpServer*>(cls);
    try {
      if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const MHD_ConnectionInfo* fd =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        const MHD_ConnectionInfo* address =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (fd == nullptr) return;
        const int slot = server->connections_.Opened(
            fd->connect_fd,
            ClientAddress::FromSockaddr(address == nullptr ? nullptr : address->client_addr),
            SteadyNanos());
        *socket_context = SlotContext(slot);
      } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        server->connections_.Closed(SlotOf(*socket_context));
        *socket_context = nullptr;
      }
    } catch (...) {
    }
  }

  // A request answered (or abandoned): its connection waits for the next
  // request's headers from now on.
  static void RequestDone(void* cls, MHD_Connection* connection, void** /*con_cls*/,
                          MHD_RequestTerminationCode /*code*/) {
    try {
      static_cast<HttpServer*>(cls)->connections_.RequestCompleted(SlotOf(connection),
                                                                   SteadyNanos());
    } catch (...) {
    }
  }

  // libmicrohttpd's messages: kept (the last one) for Start()'s error line,
  // never printed; the companion's stderr is /dev/null.
  static void Log(void* cls, const char* format, va_list args) {
    try {
      char buffer[512];
      int n = std::vsnprintf(buffer, sizeof(buffer), format, args);
      if (n < 0) return;
      std::string_view message(buffer, std::min(static_cast<size_t>(n), sizeof(buffer) - 1));
      while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
        message.remove_suffix(1);
      }
      auto* server = static_cast<HttpServer*>(cls);
      std::lock_guard<std::mutex> lock(server->log_mu_);
      server->last_log_.assign(message);
    } catch (...) {
    }
  }
};

HttpServer::HttpServer(const Config& config, SnapshotHolder* holder, const HttpSecurity& security,
                       const HttpLimits& limits, const BasicAuthOptions& auth_options)
    : ranking_min_requests_(config.ranking_min_requests),
      quantile_window_s_(config.quantile_window_s),
      max_age_ns_(Config::ToNanos(config.snapshot_max_age_s)),
      holder_(holder),
      limits_(limits),
      auth_options_(auth_options),
      tls_cert_pem_(security.tls_cert_pem),
      tls_key_pem_(security.tls_key_pem),
      auth_(security.AuthEnabled() ? std::make_unique<BasicAuth>(security.users, auth_options_)
                                   : nullptr),
      connections_(TableLimits(limits), &ShutDownConnection) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::set_liveness(const std::atomic<int64_t>* last_loop_ns) {
  liveness_.store(last_loop_ns, std::memory_order_release);
}

std::string HttpServer::Reload(const HttpSecurity& security) {
  const int listen_fd = listen_fd_;
  if (daemon_ == nullptr || listen_fd < 0) return "the HTTP server is not running";
  // The daemon reads the certificate and the users only while it starts, so
  // a reload is a restart on the same socket: connections waiting to be
  // accepted wait in the kernel meanwhile; requests in flight are finished.
  Stop();
  std::string old_cert = tls_cert_pem_;
  std::string old_key = tls_key_pem_;
  std::unique_ptr<BasicAuth> old_auth = std::move(auth_);
  tls_cert_pem_ = security.tls_cert_pem;
  tls_key_pem_ = security.tls_key_pem;
  auth_ =
      security.AuthEnabled() ? std::make_unique<BasicAuth>(security.users, auth_options_) : nullptr;
  std::string error = Start(listen_fd);
  if (error.empty()) return "";
  tls_cert_pem_ = std::move(old_cert);
  tls_key_pem_ = std::move(old_key);
  auth_ = std::move(old_auth);
  const std::string again = Start(listen_fd);
  return error + (again.empty() ? "" : "; and the previous credentials failed too: " + again);
}

std::string HttpServer::Start(int listen_fd) {
  if (daemon_ != nullptr) return "HTTP server already started";
  // libmicrohttpd 0.9.75 accepts any descriptor here (a pipe, an unbound
  // socket) and then serves nothing: check it is what the contract says.
  if (std::string problem = CheckListeningSocket(listen_fd); !problem.empty()) return problem;
  const bool tls = !tls_cert_pem_.empty();
  if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
    return "TLS asked for, but libmicrohttpd was built without TLS support";
  }
  int flags = fcntl(listen_fd, F_GETFL);
  if (flags < 0) {
    return std::string("HTTP listening socket unusable: ") + std::strerror(errno);
  }
  // libmicrohttpd closes the socket it serves on when it stops: give it a
  // duplicate, so the caller's descriptor survives (a restarted companion, or
  // a test, serves on it again).
  int dup_fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 3);
  if (dup_fd < 0) {
    return std::string("cannot duplicate the HTTP listening socket: ") + std::strerror(errno);
  }
  {
    std::lock_guard<std::mutex> lock(log_mu_);
    last_log_.clear();
  }
  // MHD_USE_ITC: Stop() then wakes the threads through an eventfd instead of
  // shutdown() on the listening socket, which would break it for its owner.
  unsigned mhd_flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  mhd_flags |=
      MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_AUTO;
  if (tls) mhd_flags |= MHD_USE_TLS;
  // libmicrohttpd reads the PEM strings while it starts; they are members,
  // so they outlive the daemon anyway.
  const MHD_OptionItem tls_options[] = {
      {MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(tls_cert_pem_.c_str())},
      {MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(tls_key_pem_.c_str())},
      {MHD_OPTION_END, 0, nullptr}};
  const MHD_OptionItem no_options[] = {{MHD_OPTION_END, 0, nullptr}};
  // clang-format off
  daemon_ = MHD_start_daemon(
      mhd_flags, 0, nullptr, nullptr, &Handlers::Access, this,
      // The logger first, so that no startup message reaches stderr.
      MHD_OPTION_EXTERNAL_LOGGER, &Handlers::Log, this,
      MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(dup_fd),
      MHD_OPTION_THREAD_POOL_SIZE, kThreadPoolSize,
      // The ConnectionTable enforces connection_limit and the per-address
      // limit by closing old connections; libmicrohttpd's own limits would
      // refuse the new one instead (its per-address limit is left off).
      MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned>(TableLimits(limits_).capacity),
      MHD_OPTION_NOTIFY_CONNECTION, &Handlers::ConnectionNotice, this,
      MHD_OPTION_NOTIFY_COMPLETED, &Handlers::RequestDone, this,
      MHD_OPTION_CONNECTION_TIMEOUT, limits_.connection_timeout_s,
      MHD_OPTION_ARRAY, tls ? tls_options : no_options,
      MHD_OPTION_END);
  // clang-format on
  if (daemon_ == nullptr) {
    // Depending on where it failed, libmicrohttpd may have closed it already.
    if (fcntl(dup_fd, F_GETFD) >= 0) close(dup_fd);
    fcntl(listen_fd, F_SETFL, flags);
    std::lock_guard<std::mutex> lock(log_mu_);
    return "cannot start the HTTP server" + (last_log_.empty() ? "" : ": " + last_log_);
  }
  listen_fd_ = listen_fd;
  saved_fd_flags_ = flags;
  if (limits_.header_deadline_ms > 0) {
    {
      std::lock_guard<std::mutex> lock(sweep_mu_);
      sweep_stop_ = false;
    }
    try {
      sweeper_ = std::thread(&HttpServer::Sweep, this);
    } catch (const std::system_error& e) {
      Stop();
      return std::string("cannot start the HTTP server's sweeper thread: ") + e.what();
    }
  }
  return "";
}

void HttpServer::Sweep() {
  const int64_t deadline_ns = int64_t{limits_.header_deadline_ms} * 1000000;
  std::unique_lock<std::mutex> lock(sweep_mu_);
  while (!sweep_stop_) {
    const int64_t now = SteadyNanos();
    // A connection opened after this pass is due no sooner than one whole
    // deadline from now, so waking then at the latest misses none.
    const int64_t next = std::min(connections_.CloseOverdue(now), now + deadline_ns);
    sweep_cv_.wait_for(lock, std::chrono::nanoseconds(next - now), [this] { return sweep_stop_; });
  }
}

void HttpServer::StopSweeper() {
  if (!sweeper_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(sweep_mu_);
    sweep_stop_ = true;
  }
  sweep_cv_.notify_all();
  sweeper_.join();
}

void HttpServer::Stop() {
  StopSweeper();
  if (daemon_ == nullptr) return;
  // Quiescing hands the (duplicate) listening socket back, so stopping
  // neither shuts it down nor closes it; it is closed here instead.
  MHD_socket quiesced = MHD_quiesce_daemon(daemon_);
  MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
  if (quiesced != MHD_INVALID_SOCKET) close(quiesced);
  // libmicrohttpd made the socket non-blocking; that flag lives in the open
  // file description the caller shares, so put the caller's flags back.
  fcntl(listen_fd_, F_SETFL, saved_fd_flags_);
  listen_fd_ = -1;
  saved_fd_flags_ = -1;
}

std::shared_ptr<const Snapshot> HttpServer::FreshSnapshot(int64_t now_ns) {
  return holder_->GetFresh(now_ns, max_age_ns_, kSnapshotWaitNs);
}

void HttpServer::PrepareRenders(const std::shared_ptr<const Snapshot>& snapshot) {
  if (snapshot == nullptr) return;
  try {
    cache_.Prepare(snapshot);
  } catch (...) {
    // Out of memory: a scrape will try again on its own path.
    return;
  }
  holder_->Release(snapshot);
}

}  // namespace tkmprom
