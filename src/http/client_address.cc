#include "src/http/client_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace tkmprom {
namespace {

constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

ClientAddress ClientAddress::FromSockaddr(const sockaddr* addr) {
  ClientAddress a;
  if (addr == nullptr) return a;
  if (addr->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(addr);
    a.bytes_[0] = 4;
    std::memcpy(&a.bytes_[1], &v4->sin_addr, 4);
  } else if (addr->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(addr);
    const unsigned char* b = v6->sin6_addr.s6_addr;
    if (std::memcmp(b, kMappedPrefix, sizeof(kMappedPrefix)) == 0) {
      a.bytes_[0] = 4;
      std::memcpy(&a.bytes_[1], b + 12, 4);
    } else {
      a.bytes_[0] = 6;
      std::memcpy(&a.bytes_[1], b, 8);
    }
  }
  return a;
}

ClientAddress ClientAddress::FromText(const char* text) {
  sockaddr_in v4{};
  if (inet_pton(AF_INET, text, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    return FromSockaddr(reinterpret_cast<const sockaddr*>(&v4));
  }
  sockaddr_in6 v6{};
  if (inet_pton(AF_INET6, text, &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    return FromSockaddr(reinterpret_cast<const sockaddr*>(&v6));
  }
  return ClientAddress();
}

std::string ClientAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = "";
  if (bytes_[0] == 4) {
    inet_ntop(AF_INET, &bytes_[1], text, sizeof(text));
    return text;
  }
  if (bytes_[0] == 6) {
    unsigned char full[16] = {};
    std::memcpy(full, &bytes_[1], 8);
    inet_ntop(AF_INET6, full, text, sizeof(text));
    return std::string(text) + "/64";
  }
  return "unknown";
}

size_t ClientAddress::Hash::operator()(const ClientAddress& a) const {
  // FNV-1a: nine bytes, no need for more.
  size_t h = 1469598103934665603ull;
  for (unsigned char c : a.bytes_) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace tkmprom
