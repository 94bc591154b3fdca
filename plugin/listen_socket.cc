#include "plugin/listen_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tkmprom {

int BindListenSocket(const Config& config, std::string* error) {
  const std::string where = (config.http_ipv6 ? "[" + config.http_host + "]" : config.http_host) +
                            ":" + std::to_string(config.http_port);
  const int family = config.http_ipv6 ? AF_INET6 : AF_INET;
  const int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = "tkmprom: cannot create the HTTP socket for " + where + ": " + std::strerror(errno);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int rc;
  if (config.http_ipv6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(config.http_port);
    inet_pton(AF_INET6, config.http_host.c_str(), &addr.sin6_addr);
    rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(config.http_port);
    inet_pton(AF_INET, config.http_host.c_str(), &addr.sin_addr);
    rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
  if (rc != 0 || listen(fd, 128) != 0) {
    const int err = errno;
    close(fd);
    *error = "tkmprom: cannot listen on plugin_opt_http_listen " + where + ": " +
             std::strerror(err) +
             (err == EADDRINUSE ? " (another process has this address; choose a free port)"
              : err == EACCES   ? " (ports below 1024 need privileges the broker has dropped)"
                                : "");
    return -1;
  }
  return fd;
}

}  // namespace tkmprom
