// The floor for /metrics latency: a minimal libmicrohttpd server handing out
// two prepared buffers, with the daemon flags and thread pool size of
// tkmprom's HTTP server (src/http/http_server.cc). What it costs to serve
// them is the cost of moving the bytes; broker_bench.py compares tkmprom's
// /metrics p99 with this server's, in the same run, for bodies of the same
// size.
//
//   floor_server --port P --plain FILE --gzip FILE
//
// GET /plain answers FILE's bytes as text/plain; version=0.0.4, GET /gzip
// answers the other file's with Content-Encoding: gzip. Prints "ready" on
// stdout once listening; stops on SIGTERM or SIGINT.

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace {

// As kThreadPoolSize in src/http/http_server.cc.
constexpr unsigned kThreadPoolSize = 2;

struct Bodies {
  MHD_Response* plain = nullptr;
  MHD_Response* gzip = nullptr;
  MHD_Response* not_found = nullptr;
};

bool ReadFile(const char* path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

// The same headers tkmprom sends with /metrics, so the responses differ only
// in who produced them.
MHD_Response* Prepared(const std::string& bytes, bool gzip) {
  MHD_Response* response = MHD_create_response_from_buffer(
      bytes.size(), const_cast<char*>(bytes.data()), MHD_RESPMEM_PERSISTENT);
  if (response == nullptr) return nullptr;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                          "text/plain; version=0.0.4; charset=utf-8");
  MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  MHD_add_response_header(response, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
  if (gzip) MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
  return response;
}

MHD_Result Access(void* cls, MHD_Connection* connection, const char* url, const char* method,
                  const char* /*version*/, const char* /*upload_data*/, size_t* upload_data_size,
                  void** con_cls) {
  const Bodies* bodies = static_cast<const Bodies*>(cls);
  // libmicrohttpd's usual pattern: the first call only marks the request as
  // seen and the response is queued on the second (libmicrohttpd 0.9.75 adds
  // Connection: close to a response queued on the first call).
  static int first_call_marker;
  if (*con_cls == nullptr) {
    *con_cls = &first_call_marker;
    return MHD_YES;
  }
  if (*upload_data_size != 0) return MHD_NO;  // GET only
  MHD_Response* response = bodies->not_found;
  unsigned status = MHD_HTTP_NOT_FOUND;
  if (std::strcmp(method, MHD_HTTP_METHOD_GET) == 0) {
    if (std::strcmp(url, "/plain") == 0) {
      response = bodies->plain;
      status = MHD_HTTP_OK;
    } else if (std::strcmp(url, "/gzip") == 0) {
      response = bodies->gzip;
      status = MHD_HTTP_OK;
    }
  }
  return MHD_queue_response(connection, status, response);
}

void Usage() { std::fprintf(stderr, "usage: floor_server --port P --plain FILE --gzip FILE\n"); }

}  // namespace

int main(int argc, char** argv) {
  long port = -1;
  const char* plain_path = nullptr;
  const char* gzip_path = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) {
      char* end = nullptr;
      port = std::strtol(argv[i + 1], &end, 10);
      if (*end != '\0') port = -1;
    } else if (std::strcmp(argv[i], "--plain") == 0) {
      plain_path = argv[i + 1];
    } else if (std::strcmp(argv[i], "--gzip") == 0) {
      gzip_path = argv[i + 1];
    } else {
      Usage();
      return 2;
    }
  }
  if (argc % 2 != 1 || port < 1 || port > 65535 || plain_path == nullptr || gzip_path == nullptr) {
    Usage();
    return 2;
  }
  // Read once; the buffers live until exit (MHD_RESPMEM_PERSISTENT).
  static std::string plain;
  static std::string gzip;
  if (!ReadFile(plain_path, &plain) || !ReadFile(gzip_path, &gzip)) {
    std::fprintf(stderr, "floor_server: cannot read %s or %s\n", plain_path, gzip_path);
    return 1;
  }
  static const char kNotFound[] = "not found\n";
  Bodies bodies;
  bodies.plain = Prepared(plain, false);
  bodies.gzip = Prepared(gzip, true);
  bodies.not_found = MHD_create_response_from_buffer(
      sizeof(kNotFound) - 1, const_cast<char*>(kNotFound), MHD_RESPMEM_PERSISTENT);
  if (bodies.plain == nullptr || bodies.gzip == nullptr || bodies.not_found == nullptr) {
    std::fprintf(stderr, "floor_server: cannot create the responses\n");
    return 1;
  }

  // The pool's threads inherit this mask; main waits for the signals below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // tkmprom's flags: internal polling thread, ITC, epoll where supported.
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_AUTO;
  MHD_Daemon* daemon =
      MHD_start_daemon(flags, 0, nullptr, nullptr, &Access, &bodies, MHD_OPTION_SOCK_ADDR,
                       reinterpret_cast<const sockaddr*>(&addr), MHD_OPTION_THREAD_POOL_SIZE,
                       kThreadPoolSize, MHD_OPTION_END);
  if (daemon == nullptr) {
    std::fprintf(stderr, "floor_server: cannot listen on 127.0.0.1:%ld\n", port);
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  MHD_stop_daemon(daemon);
  MHD_destroy_response(bodies.plain);
  MHD_destroy_response(bodies.gzip);
  MHD_destroy_response(bodies.not_found);
  return 0;
}
