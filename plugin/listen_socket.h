// Binds the HTTP listening socket at plugin init, in the broker, so that a
// taken address fails the broker's start and a restarted companion serves on
// the same socket.
//
// Thread safety: call from one thread.
#ifndef TKMPROM_PLUGIN_LISTEN_SOCKET_H_
#define TKMPROM_PLUGIN_LISTEN_SOCKET_H_

#include <string>

#include "tkmprom/config.h"

namespace tkmprom {

// A bound, listening, non-blocking TCP socket for config.http_host:http_port,
// or -1 and one log line in *error.
int BindListenSocket(const Config& config, std::string* error);

}  // namespace tkmprom

#endif  // TKMPROM_PLUGIN_LISTEN_SOCKET_H_
