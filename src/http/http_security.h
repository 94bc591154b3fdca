// HttpSecurity: what plugin_opt_http_auth_file and plugin_opt_http_tls_cert /
// plugin_opt_http_tls_key name, read and checked once at plugin init.
//
// The broker reads the files at init, after it dropped privileges (so as the
// user that will serve: `mosquitto` on Debian), and the forked companion
// inherits the contents; nothing is read again later, so a restarted
// companion serves with the same users and certificate. A file that cannot be
// read, an htpasswd file without a usable line, or a certificate and key that
// GnuTLS (libmicrohttpd's TLS library) refuses fail init with one line that
// names the option and the path.
//
// Thread safety: LoadHttpSecurity is called once, on the broker's thread; an
// HttpSecurity is immutable afterwards.
#ifndef TKMPROM_SRC_HTTP_HTTP_SECURITY_H_
#define TKMPROM_SRC_HTTP_HTTP_SECURITY_H_

#include <string>
#include <vector>

#include "src/http/htpasswd.h"
#include "tkmprom/config.h"

namespace tkmprom {

struct HttpSecurity {
  std::vector<HtpasswdEntry> users;  // empty: no authentication
  std::string tls_cert_pem;          // both empty: plain HTTP
  std::string tls_key_pem;

  bool AuthEnabled() const { return !users.empty(); }
  bool TlsEnabled() const { return !tls_cert_pem.empty(); }
};

// Reads the files `config` names into `*out`. Returns "" on success, else
// one log line ("tkmprom: cannot read plugin_opt_http_auth_file '/x': ...").
std::string LoadHttpSecurity(const Config& config, HttpSecurity* out);

// Reads a whole small file (at most 1 MiB); "" on success, else why not.
std::string ReadSmallFile(const std::string& path, std::string* contents);

}  // namespace tkmprom

#endif  // TKMPROM_SRC_HTTP_HTTP_SECURITY_H_
