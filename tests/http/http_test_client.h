// A tiny blocking HTTP/1.1 client for the HTTP tests and the scrape latency
// benchmark: one request per call, over a fresh or a kept-alive connection,
// with the body read by Content-Length (or to EOF without one).
//
// Thread safety: a TestHttpClient is used by one thread.
#ifndef TKMPROM_TESTS_HTTP_HTTP_TEST_CLIENT_H_
#define TKMPROM_TESTS_HTTP_HTTP_TEST_CLIENT_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tkmprom {

struct TestHttpResponse {
  int status = 0;                              // 0 when the exchange failed
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  // The header's value, "" when absent.
  std::string Header(const std::string& lower_name) const;
};

class TestHttpClient {
 public:
  explicit TestHttpClient(uint16_t port) : port_(port) {}
  ~TestHttpClient();
  TestHttpClient(const TestHttpClient&) = delete;
  TestHttpClient& operator=(const TestHttpClient&) = delete;

  // Sends `method target` with `headers` ("Name: value" lines) and reads the
  // answer. With keep_alive, reuses the connection across calls.
  TestHttpResponse Request(std::string_view method, std::string_view target,
                           const std::vector<std::string>& headers = {}, bool keep_alive = false,
                           std::string_view body = {});

 private:
  bool Connect();
  void Close();
  bool ReadHeaders(std::string* head, std::string* rest);

  uint16_t port_;
  int fd_ = -1;
};

// Decompresses a gzip stream; false if it is not one.
bool GunzipForTest(std::string_view in, std::string* out);

// Opens a TCP socket bound to 127.0.0.1 on an ephemeral port, listening.
// Returns the descriptor (or -1) and stores the port.
int ListenOnLoopback(uint16_t* port);

// A TCP connection to 127.0.0.1:port from `source` (any 127.x address:
// loopback accepts them all as a source); -1 on failure.
int ConnectFrom(const char* source, uint16_t port);

// Everything the peer sends until it closes or `timeout_ms` passes;
// *closed tells which.
std::string ReadUntilClosed(int fd, int timeout_ms, bool* closed);

// One request over a fresh connection from `source` (with `headers`,
// "Name: value" lines); the raw answer, "" when none came.
std::string RawGet(const char* source, uint16_t port, const std::string& path,
                   const std::vector<std::string>& headers = {});

}  // namespace tkmprom

#endif  // TKMPROM_TESTS_HTTP_HTTP_TEST_CLIENT_H_
