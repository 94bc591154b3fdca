// ClientAddress: the part of an HTTP client's address that per-address
// limits count by (connection_table.h, auth_throttle.h): an IPv4 address,
// or the /64 prefix of an IPv6 one. A single host is usually handed a whole
// /64, so counting full IPv6 addresses would give one client 2^64 identities.
// An IPv4-mapped IPv6 address (an IPv4 client of a dual-stack listener)
// counts as that IPv4 address.
//
// A small value without allocation; thread-compatible like an int.
#ifndef TKMPROM_SRC_HTTP_CLIENT_ADDRESS_H_
#define TKMPROM_SRC_HTTP_CLIENT_ADDRESS_H_

#include <array>
#include <cstddef>
#include <string>

struct sockaddr;

namespace tkmprom {

class ClientAddress {
 public:
  // The unknown address: every client whose address could not be read.
  ClientAddress() = default;

  // From what accept() returned; null or a non-IP family: the unknown address.
  static ClientAddress FromSockaddr(const sockaddr* addr);
  // From text ("127.0.0.1", "2001:db8::1"); unparsable: the unknown address.
  static ClientAddress FromText(const char* text);

  // "127.0.0.1", "2001:db8:0:1::/64" or "unknown".
  std::string ToString() const;

  bool operator==(const ClientAddress& other) const { return bytes_ == other.bytes_; }
  bool operator!=(const ClientAddress& other) const { return bytes_ != other.bytes_; }

  // For std::unordered_map.
  struct Hash {
    size_t operator()(const ClientAddress& a) const;
  };

 private:
  // [0]: 0 (unknown), 4 or 6; then 4 (IPv4) or 8 (IPv6 /64) address bytes,
  // the rest zero.
  std::array<unsigned char, 9> bytes_{};
};

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_CLIENT_ADDRESS_H_
