// LoadHttpSecurity against real files in a temporary directory; the TLS
// cases use a key pair `openssl` generates at test time.
#include "src/http/http_security.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/http/tls_test_files.h"

namespace tkmprom {
namespace {

constexpr char kAlice[] = "alice:$2y$04$eQdr3Ft3vsobCQGS3RA4DeUXPWwbb0BKyYTdPUJdjsh3p/GisoPoy\n";

class HttpSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }

  std::string Write(const std::string& name, const std::string& text) {
    return dir_.Write(name, text);
  }

  TempDir dir_;
};

TEST_F(HttpSecurityTest, NothingConfiguredIsPlainAndOpen) {
  HttpSecurity s;
  EXPECT_EQ(LoadHttpSecurity(Config(), &s), "");
  EXPECT_FALSE(s.AuthEnabled());
  EXPECT_FALSE(s.TlsEnabled());
}

TEST_F(HttpSecurityTest, ReadsTheUsers) {
  Config c;
  c.http_auth_file = Write("htpasswd", std::string("# scrapers\n") + kAlice);
  HttpSecurity s;
  ASSERT_EQ(LoadHttpSecurity(c, &s), "");
  ASSERT_TRUE(s.AuthEnabled());
  EXPECT_EQ(s.users[0].user, "alice");
}

TEST_F(HttpSecurityTest, MissingFileNamesOptionPathAndReader) {
  Config c;
  c.http_auth_file = dir_.path() + "/absent";
  HttpSecurity s;
  const std::string m = LoadHttpSecurity(c, &s);
  EXPECT_NE(m.find("plugin_opt_http_auth_file '" + c.http_auth_file + "'"), std::string::npos) << m;
  EXPECT_NE(m.find("No such file"), std::string::npos) << m;
  EXPECT_NE(m.find("read as "), std::string::npos) << m;
}

TEST_F(HttpSecurityTest, DirectoryIsNotAFile) {
  Config c;
  c.http_auth_file = dir_.path();
  HttpSecurity s;
  EXPECT_NE(LoadHttpSecurity(c, &s).find("not a regular file"), std::string::npos);
}

TEST_F(HttpSecurityTest, FileTheServingUserCannotReadFails) {
  Config c;
  c.http_auth_file = Write("htpasswd", kAlice);
  ASSERT_EQ(chmod(c.http_auth_file.c_str(), 0600), 0);
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  // As root, drop to nobody the way the broker drops to mosquitto, in a child.
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipe_fds[0]);
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(2);
    if (geteuid() != 0) chmod(c.http_auth_file.c_str(), 0);
    HttpSecurity s;
    const std::string m = LoadHttpSecurity(c, &s);
    (void)!write(pipe_fds[1], m.data(), m.size());
    _exit(0);
  }
  close(pipe_fds[1]);
  std::string m;
  char buffer[512];
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0) m.append(buffer, n);
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(m.find("cannot read plugin_opt_http_auth_file '" + c.http_auth_file + "'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("Permission denied"), std::string::npos) << m;
}

TEST_F(HttpSecurityTest, UnusableLineIsNamed) {
  Config c;
  c.http_auth_file = Write("htpasswd", std::string(kAlice) + "carol:$apr1$TSzx50AL$ZKsCFo4SYNYN\n");
  HttpSecurity s;
  const std::string m = LoadHttpSecurity(c, &s);
  EXPECT_NE(m.find("plugin_opt_http_auth_file '" + c.http_auth_file + "'"), std::string::npos) << m;
  EXPECT_NE(m.find("line 2"), std::string::npos) << m;
  EXPECT_FALSE(s.AuthEnabled());
}

TEST_F(HttpSecurityTest, EmptyFileHasNoUsableLine) {
  Config c;
  c.http_auth_file = Write("htpasswd", "");
  HttpSecurity s;
  EXPECT_NE(LoadHttpSecurity(c, &s).find("no user:bcrypt-hash line"), std::string::npos);
}

TEST_F(HttpSecurityTest, ReadsAMatchingCertificateAndKey) {
  Config c;
  ASSERT_TRUE(MakeSelfSignedCertificate(dir_.path(), "a", &c.http_tls_cert, &c.http_tls_key));
  HttpSecurity s;
  ASSERT_EQ(LoadHttpSecurity(c, &s), "");
  EXPECT_TRUE(s.TlsEnabled());
  EXPECT_NE(s.tls_cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(s.tls_key_pem.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(HttpSecurityTest, KeyOfAnotherCertificateIsRefused) {
  Config c;
  std::string other_cert;
  ASSERT_TRUE(MakeSelfSignedCertificate(dir_.path(), "a", &c.http_tls_cert, &c.http_tls_key));
  ASSERT_TRUE(MakeSelfSignedCertificate(dir_.path(), "b", &other_cert, &c.http_tls_key));
  HttpSecurity s;
  const std::string m = LoadHttpSecurity(c, &s);
  EXPECT_NE(m.find("plugin_opt_http_tls_cert '" + c.http_tls_cert + "'"), std::string::npos) << m;
  EXPECT_NE(m.find("plugin_opt_http_tls_key '" + c.http_tls_key + "'"), std::string::npos) << m;
  EXPECT_FALSE(s.TlsEnabled());
}

TEST_F(HttpSecurityTest, EmptyOrGarbageTlsFilesAreRefused) {
  Config c;
  std::string key;
  ASSERT_TRUE(MakeSelfSignedCertificate(dir_.path(), "a", &c.http_tls_cert, &key));
  c.http_tls_key = Write("empty.pem", "");
  HttpSecurity s;
  std::string m = LoadHttpSecurity(c, &s);
  EXPECT_NE(m.find("plugin_opt_http_tls_key '" + c.http_tls_key + "': the file is empty"),
            std::string::npos)
      << m;
  c.http_tls_key = key;
  c.http_tls_cert = Write("garbage.pem", "not a certificate\n");
  m = LoadHttpSecurity(c, &s);
  EXPECT_NE(m.find("plugin_opt_http_tls_cert '" + c.http_tls_cert + "'"), std::string::npos) << m;
  c.http_tls_cert = dir_.path() + "/absent.pem";
  m = LoadHttpSecurity(c, &s);
  EXPECT_NE(m.find("cannot read plugin_opt_http_tls_cert"), std::string::npos) << m;
}

}  // namespace
}  // namespace tkmprom
