#include "src/http/http_security.h"

#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace tkmprom {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;

// "user 'mosquitto'", the identity the file was read as.
std::string ReaderName() {
  const uid_t uid = geteuid();
  passwd pw;
  passwd* result = nullptr;
  char buffer[1024];
  if (getpwuid_r(uid, &pw, buffer, sizeof(buffer), &result) == 0 && result != nullptr) {
    return std::string("user '") + result->pw_name + "'";
  }
  return "uid " + std::to_string(uid);
}

std::string CannotRead(const char* option, const std::string& path, const std::string& why) {
  return std::string("tkmprom: cannot read plugin_opt_") + option + " '" + path + "': " + why;
}

// Checks the pair the way libmicrohttpd will load it, so that a bad file
// fails the broker's start rather than every companion start.
std::string CheckTlsPair(const HttpSecurity& s, const Config& config) {
  gnutls_certificate_credentials_t credentials = nullptr;
  if (gnutls_certificate_allocate_credentials(&credentials) != GNUTLS_E_SUCCESS) {
    return "tkmprom: cannot check plugin_opt_http_tls_cert: out of memory";
  }
  gnutls_datum_t cert{reinterpret_cast<unsigned char*>(const_cast<char*>(s.tls_cert_pem.data())),
                      static_cast<unsigned>(s.tls_cert_pem.size())};
  gnutls_datum_t key{reinterpret_cast<unsigned char*>(const_cast<char*>(s.tls_key_pem.data())),
                     static_cast<unsigned>(s.tls_key_pem.size())};
  const int rc = gnutls_certificate_set_x509_key_mem(credentials, &cert, &key, GNUTLS_X509_FMT_PEM);
  gnutls_certificate_free_credentials(credentials);
  if (rc < 0) {
    return "tkmprom: plugin_opt_http_tls_cert '" + config.http_tls_cert +
           "' and plugin_opt_http_tls_key '" + config.http_tls_key +
           "' are not a PEM certificate and its unencrypted private key: " + gnutls_strerror(rc);
  }
  return "";
}

}  // namespace

std::string ReadSmallFile(const std::string& path, std::string* contents) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return std::strerror(errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    close(fd);
    return std::strerror(e);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return "not a regular file";
  }
  std::string data;
  char chunk[16384];
  for (;;) {
    const ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      close(fd);
      return std::strerror(e);
    }
    if (n == 0) break;
    data.append(chunk, static_cast<size_t>(n));
    if (data.size() > kMaxFileBytes) {
      close(fd);
      return "larger than 1 MiB";
    }
  }
  close(fd);
  *contents = std::move(data);
  return "";
}

std::string LoadHttpSecurity(const Config& config, HttpSecurity* out) {
  HttpSecurity s;
  if (!config.http_auth_file.empty()) {
    std::string text;
    std::string why = ReadSmallFile(config.http_auth_file, &text);
    if (!why.empty()) {
      return CannotRead("http_auth_file", config.http_auth_file,
                        why + " (read as " + ReaderName() + ")");
    }
    if (!ParseHtpasswd(text, &s.users, &why)) {
      return "tkmprom: unusable plugin_opt_http_auth_file '" + config.http_auth_file + "': " + why;
    }
  }
  if (!config.http_tls_cert.empty() || !config.http_tls_key.empty()) {
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
      return "tkmprom: plugin_opt_http_tls_cert is set but this libmicrohttpd was built without "
             "TLS support";
    }
    struct File {
      const char* option;
      const std::string& path;
      std::string* contents;
    };
    for (const File& f : {File{"http_tls_cert", config.http_tls_cert, &s.tls_cert_pem},
                          File{"http_tls_key", config.http_tls_key, &s.tls_key_pem}}) {
      std::string why = ReadSmallFile(f.path, f.contents);
      if (!why.empty()) {
        return CannotRead(f.option, f.path, why + " (read as " + ReaderName() + ")");
      }
      if (f.contents->empty()) return CannotRead(f.option, f.path, "the file is empty");
    }
    if (std::string problem = CheckTlsPair(s, config); !problem.empty()) return problem;
  }
  *out = std::move(s);
  return "";
}

}  // namespace tkmprom
