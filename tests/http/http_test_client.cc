#include "tests/http/http_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>

namespace tkmprom {
namespace {

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string TestHttpResponse::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

TestHttpClient::~TestHttpClient() { Close(); }

void TestHttpClient::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool TestHttpClient::Connect() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Close();
    return false;
  }
  return true;
}

bool TestHttpClient::ReadHeaders(std::string* head, std::string* rest) {
  std::string buffer;
  char chunk[16384];
  for (;;) {
    size_t end = buffer.find("\r\n\r\n");
    if (end != std::string::npos) {
      *head = buffer.substr(0, end);
      *rest = buffer.substr(end + 4);
      return true;
    }
    ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

TestHttpResponse TestHttpClient::Request(std::string_view method, std::string_view target,
                                         const std::vector<std::string>& headers, bool keep_alive,
                                         std::string_view body) {
  TestHttpResponse response;
  if (fd_ < 0 && !Connect()) return response;
  std::string request;
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  for (const std::string& h : headers) request.append(h).append("\r\n");
  if (!keep_alive) request.append("Connection: close\r\n");
  if (!body.empty()) request.append("Content-Length: " + std::to_string(body.size()) + "\r\n");
  request.append("\r\n").append(body);
  std::string head;
  std::string rest;
  if (!WriteAll(fd_, request) || !ReadHeaders(&head, &rest)) {
    Close();
    return response;
  }

  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) {
    Close();
    return response;
  }
  int status = std::atoi(status_line.c_str() + 9);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      size_t value = line.find_first_not_of(' ', colon + 1);
      response.headers[Lower(line.substr(0, colon))] =
          value == std::string::npos ? "" : line.substr(value);
    }
    pos = end + 2;
  }

  char chunk[65536];
  auto length = response.headers.find("content-length");
  if (method == "HEAD" || status == 204 || status == 304) {
    // No body follows, whatever Content-Length says.
  } else if (length != response.headers.end()) {
    size_t want = std::stoull(length->second);
    response.body = std::move(rest);
    response.body.reserve(want);
    while (response.body.size() < want) {
      ssize_t n = recv(fd_, chunk, std::min(sizeof(chunk), want - response.body.size()), 0);
      if (n <= 0) {
        Close();
        return response;
      }
      response.body.append(chunk, static_cast<size_t>(n));
    }
  } else {
    response.body = std::move(rest);
    for (;;) {
      ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) break;
      response.body.append(chunk, static_cast<size_t>(n));
    }
  }
  response.status = status;
  if (!keep_alive || Lower(response.Header("connection")) == "close") Close();
  return response;
}

bool GunzipForTest(std::string_view in, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return false;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out->clear();
  char chunk[65536];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out->append(chunk, sizeof(chunk) - zs.avail_out);
  } while (rc != Z_STREAM_END);
  inflateEnd(&zs);
  return rc == Z_STREAM_END && zs.avail_in == 0;
}

int ListenOnLoopback(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

int ConnectFrom(const char* source, uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string ReadUntilClosed(int fd, int timeout_ms, bool* closed) {
  std::string data;
  *closed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return data;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buffer[4096];
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      *closed = true;
      return data;
    }
    data.append(buffer, static_cast<size_t>(n));
  }
}

std::string RawGet(const char* source, uint16_t port, const std::string& path,
                   const std::vector<std::string>& headers) {
  const int fd = ConnectFrom(source, port);
  if (fd < 0) return "";
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
  for (const std::string& h : headers) request += h + "\r\n";
  request += "\r\n";
  std::string answer;
  bool closed = false;
  if (WriteAll(fd, request)) answer = ReadUntilClosed(fd, 5000, &closed);
  close(fd);
  return answer;
}

}  // namespace tkmprom
