"""HTTP authentication and TLS through a real broker (issue: HTTP
authentication, TLS, and listener limits): the plugin reads an htpasswd file
and a certificate made at test time by htpasswd and openssl, serves HTTPS
with basic auth on every path but /healthz, and a broker whose files are
unusable refuses to start with a line naming the option and the path."""

import base64
import http.client
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest

from harness import Broker, wait_until

USER = "prometheus"
PASSWORD = "integration-test-only-pw"


def basic(user, password):
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return {"Authorization": "Basic " + token}


class HttpSecurityTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tkmprom-it-sec-")
        os.chmod(cls.dir, 0o755)
        cls.cert = os.path.join(cls.dir, "cert.pem")
        cls.key = os.path.join(cls.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-subj", "/CN=localhost", "-days", "1",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", cls.key, "-out", cls.cert],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        line = subprocess.run(["htpasswd", "-nbB", "-C", "4", USER, PASSWORD], check=True,
                              stdout=subprocess.PIPE).stdout.decode().strip()
        cls.htpasswd = cls.write("htpasswd", "# scrapers\n" + line + "\n", 0o644)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def write(cls, name, text, mode):
        path = os.path.join(cls.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    @classmethod
    def read(cls, path):
        with open(path) as f:
            return f.read()

    def https(self, broker, path, headers=None, source="127.0.0.1"):
        """(status, headers, body) over TLS trusting only the test certificate,
        from the loopback address `source`."""
        context = ssl.create_default_context(cafile=self.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", broker.http_port, timeout=5,
                                           context=context, source_address=(source, 0))
        try:
            conn.request("GET", path, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        except (http.client.HTTPException, OSError):
            return None, {}, b""
        finally:
            conn.close()

    def expect_failure(self, options, user=None):
        """Starts a broker that must refuse to start; returns its log."""
        b = Broker(options=options)
        try:
            if user is not None:
                # The broker drops to `user` before it loads plugins; it then
                # writes its log as that user too.
                with open(b.conf) as f:
                    conf = f.read().replace("user root\n", "user %s\n" % user.pw_name)
                with open(b.conf, "w") as f:
                    f.write(conf)
                os.chown(b.dir, user.pw_uid, user.pw_gid)
            rc = b.run_expecting_failure()
            self.assertNotEqual(rc, 0)
            self.assertEqual(b.descendants(), [])
            return b.log()
        finally:
            b.cleanup()

    def test_https_with_basic_auth(self):
        options = {"http_auth_file": self.htpasswd, "http_tls_cert": self.cert,
                   "http_tls_key": self.key}
        b = Broker(options=options)
        try:
            b.start(expect_http=False)
            wait_until(lambda: self.https(b, "/healthz")[0] == 200, what="https /healthz")
            self.assertIn("serving metrics on https://127.0.0.1:%d/metrics (basic auth)"
                          % b.http_port, b.log())
            status, hdrs, body = self.https(b, "/healthz")
            self.assertEqual((status, body), (200, b"ok\n"))
            paths = ("/metrics", "/", "/api/v1/symbols/slowest", "/api/v1/devices/X")
            for i, path in enumerate(paths):
                status, hdrs, body = self.https(b, path)
                self.assertEqual(status, 401, path)
                self.assertEqual(hdrs.get("www-authenticate"), 'Basic realm="tkmprom"')
                self.assertEqual(hdrs.get("x-content-type-options"), "nosniff")
                self.assertEqual(hdrs.get("cache-control"), "no-store")
                # From an address per path: an address with 5 failures
                # within a minute is answered 429 (test_http_hostile.py).
                source = "127.0.0.%d" % (10 + i)
                self.assertEqual(self.https(b, path, basic(USER, "wrong"), source)[0], 401, path)
                self.assertEqual(self.https(b, path, basic("mallory", PASSWORD), source)[0], 401,
                                 path)
            status, hdrs, body = self.https(b, "/metrics", basic(USER, PASSWORD))
            self.assertEqual(status, 200)
            self.assertIn(b"tickrmeter_messages_total", body)
            status, hdrs, body = self.https(b, "/api/v1/symbols/slowest", basic(USER, PASSWORD))
            self.assertEqual(status, 200)
            self.assertEqual(hdrs.get("content-type"), "application/json")
            self.assertEqual(hdrs.get("x-content-type-options"), "nosniff")
            # Plain HTTP on the TLS port gets no HTTP answer.
            self.assertIsNone(b.http("/healthz")[0])
            with socket.create_connection(("127.0.0.1", b.http_port), timeout=5) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                try:
                    answer = s.recv(64)
                except OSError:
                    answer = b""
                self.assertFalse(answer.startswith(b"HTTP/"), answer)
        finally:
            b.cleanup()

    def test_basic_auth_over_plain_http(self):
        with Broker(options={"http_auth_file": self.htpasswd}) as b:
            self.assertIn("serving metrics on http://127.0.0.1:%d/metrics (basic auth)"
                          % b.http_port, b.log())
            self.assertEqual(b.http("/healthz")[0], 200)
            self.assertEqual(b.http("/metrics")[0], 401)
            self.assertEqual(b.http("/metrics", basic(USER, "wrong"))[0], 401)
            status, _, body = b.http("/metrics", basic(USER, PASSWORD))
            self.assertEqual(status, 200)
            self.assertIn(b"tickrmeter_messages_total", body)

    def test_auth_file_the_mosquitto_user_cannot_read_stops_the_broker(self):
        try:
            user = pwd.getpwnam("mosquitto")
        except KeyError:
            self.skipTest("no mosquitto user on this machine")
        if os.geteuid() != 0:
            self.skipTest("needs root to start a broker that drops to the mosquitto user")
        secret = self.write("htpasswd-root-only", self.read(self.htpasswd), 0o600)
        log = self.expect_failure({"http_auth_file": secret}, user=user)
        self.assertIn("cannot read plugin_opt_http_auth_file '%s': Permission denied "
                      "(read as user 'mosquitto')" % secret, log)

    def test_auth_file_with_a_weak_hash_stops_the_broker(self):
        weak = self.write("htpasswd-md5", self.read(self.htpasswd) +
                          "carol:$apr1$TSzx50AL$ZKsCFo4SYNYNN5DAYpXTL/\n", 0o644)
        log = self.expect_failure({"http_auth_file": weak})
        self.assertIn("unusable plugin_opt_http_auth_file '%s': line 3: the hash of user "
                      "'carol' is not a bcrypt hash" % weak, log)

    def test_missing_tls_key_file_stops_the_broker(self):
        absent = os.path.join(self.dir, "absent-key.pem")
        log = self.expect_failure({"http_tls_cert": self.cert, "http_tls_key": absent})
        self.assertIn("cannot read plugin_opt_http_tls_key '%s': No such file" % absent, log)

    def test_certificate_without_key_stops_the_broker(self):
        log = self.expect_failure({"http_tls_cert": self.cert})
        self.assertIn("plugin_opt_http_tls_cert and plugin_opt_http_tls_key must be given "
                      "together", log)

    def test_relative_path_is_a_bad_value(self):
        log = self.expect_failure({"http_auth_file": "htpasswd"})
        self.assertIn("invalid value 'htpasswd' for plugin_opt_http_auth_file", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
