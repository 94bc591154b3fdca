#include "src/http/client_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

namespace tkmprom {
namespace {

TEST(ClientAddressTest, IPv4AddressesAreKeptWhole) {
  EXPECT_EQ(ClientAddress::FromText("127.0.0.1").ToString(), "127.0.0.1");
  EXPECT_EQ(ClientAddress::FromText("127.0.0.1"), ClientAddress::FromText("127.0.0.1"));
  EXPECT_NE(ClientAddress::FromText("127.0.0.1"), ClientAddress::FromText("127.0.0.2"));
}

TEST(ClientAddressTest, IPv6AddressesCountByTheirSlash64) {
  const ClientAddress a = ClientAddress::FromText("2001:db8:0:1::1");
  EXPECT_EQ(a, ClientAddress::FromText("2001:db8:0:1:ffff:ffff:ffff:ffff"));
  EXPECT_NE(a, ClientAddress::FromText("2001:db8:0:2::1"));
  EXPECT_EQ(a.ToString(), "2001:db8:0:1::/64");
}

TEST(ClientAddressTest, MappedIPv4IsTheIPv4Address) {
  EXPECT_EQ(ClientAddress::FromText("::ffff:192.0.2.7"), ClientAddress::FromText("192.0.2.7"));
  EXPECT_NE(ClientAddress::FromText("::ffff:192.0.2.7"), ClientAddress::FromText("::192.0.2.7"));
}

TEST(ClientAddressTest, FromSockaddr) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(1234);
  inet_pton(AF_INET, "10.1.2.3", &v4.sin_addr);
  EXPECT_EQ(ClientAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&v4)),
            ClientAddress::FromText("10.1.2.3"));
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8::5", &v6.sin6_addr);
  EXPECT_EQ(ClientAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&v6)),
            ClientAddress::FromText("2001:db8::7"));
}

TEST(ClientAddressTest, AnythingElseIsTheOneUnknownAddress) {
  sockaddr unix_address{};
  unix_address.sa_family = AF_UNIX;
  EXPECT_EQ(ClientAddress::FromSockaddr(nullptr), ClientAddress());
  EXPECT_EQ(ClientAddress::FromSockaddr(&unix_address), ClientAddress());
  EXPECT_EQ(ClientAddress::FromText("not an address"), ClientAddress());
  EXPECT_EQ(ClientAddress().ToString(), "unknown");
  EXPECT_NE(ClientAddress(), ClientAddress::FromText("0.0.0.0"));
}

TEST(ClientAddressTest, HashFollowsEquality) {
  ClientAddress::Hash hash;
  EXPECT_EQ(hash(ClientAddress::FromText("2001:db8::1")),
            hash(ClientAddress::FromText("2001:db8::2")));
  EXPECT_NE(hash(ClientAddress::FromText("127.0.0.1")), hash(ClientAddress::FromText("127.0.0.2")));
}

}  // namespace
}  // namespace tkmprom
