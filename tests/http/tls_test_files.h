// Test helpers for the HTTP security tests: a temporary directory, and
// files made by the tools an operator would use (`openssl req` for a
// self-signed certificate, `htpasswd -B` for users), run at test time.
//
// Thread safety: none needed; used by one test thread.
#ifndef TKMPROM_TESTS_HTTP_TLS_TEST_FILES_H_
#define TKMPROM_TESTS_HTTP_TLS_TEST_FILES_H_

#include <string>

namespace tkmprom {

// A fresh directory under $TMPDIR (or /tmp), removed with its files.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

  // Writes `text` to path()/name; returns the file's path.
  std::string Write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

// Runs `command` through /bin/sh; true when it exits 0. Its standard output
// goes to `*out` when given.
bool RunCommand(const std::string& command, std::string* out = nullptr);

// `openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1`,
// with subjectAltName localhost and 127.0.0.1, into dir/<name>-cert.pem and
// dir/<name>-key.pem.
bool MakeSelfSignedCertificate(const std::string& dir, const std::string& name,
                               std::string* cert_path, std::string* key_path);

// One `user:hash` line from `htpasswd -nbB -C 4` (a low cost keeps tests fast).
bool MakeHtpasswdLine(const std::string& user, const std::string& password, std::string* line);

}  // namespace tkmprom

#endif  // TKMPROM_TESTS_HTTP_TLS_TEST_FILES_H_
