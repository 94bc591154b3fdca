#include "tests/http/tls_test_files.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

namespace tkmprom {

TempDir::TempDir() {
  const char* tmp = getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/tkmprom-http-test-XXXXXX";
  if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
  if (!path_.empty()) RunCommand("rm -rf '" + path_ + "'");
}

std::string TempDir::Write(const std::string& name, const std::string& text) const {
  const std::string file = path_ + "/" + name;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  return file;
}

bool RunCommand(const std::string& command, std::string* out) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return false;
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) text.append(buffer, n);
  const int status = pclose(pipe);
  if (out != nullptr) *out = text;
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool MakeSelfSignedCertificate(const std::string& dir, const std::string& name,
                               std::string* cert_path, std::string* key_path) {
  *cert_path = dir + "/" + name + "-cert.pem";
  *key_path = dir + "/" + name + "-key.pem";
  return RunCommand(
      "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout '" +
      *key_path + "' -out '" + *cert_path + "' 2>/dev/null");
}

bool MakeHtpasswdLine(const std::string& user, const std::string& password, std::string* line) {
  if (!RunCommand("htpasswd -nbB -C 4 '" + user + "' '" + password + "' 2>/dev/null", line)) {
    return false;
  }
  while (!line->empty() && (line->back() == '\n' || line->back() == '\r')) line->pop_back();
  return !line->empty();
}

}  // namespace tkmprom
