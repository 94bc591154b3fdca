"""The Debian package, end to end on this machine: build it with
packaging/build-deb, install it with dpkg -i, check what it put where, start
the packaged broker configuration (as root; mosquitto drops to its own user
before loading the plugin) and scrape it, then purge the package.

Needs root (exit 77 = skipped otherwise). Leaves the machine as found: an
interrupted run leaves a marker, and the next run purges what it installed; a
tkmprom package installed by someone else is never touched (skipped).
"""

import fcntl
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

from harness import (MOSQUITTO, PROMTOOL, close, free_port, parse_metrics, publish_all,
                     stop_process, value, wait_until)
import fleet_traffic as ft

SOURCE_ROOT = os.environ.get("TKMPROM_SOURCE_ROOT",
                             os.path.join(os.path.dirname(__file__), "..", ".."))
MARKER = "/var/tmp/tkmprom-package-test.installed"
LOCK = "/var/tmp/tkmprom-package-test.lock"
SNIPPET = "/etc/mosquitto/conf.d/tkmprom.conf"
BROKER_CONF = "/etc/mosquitto/mosquitto.conf"


def run(*args, check=True, **kwargs):
    r = subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       **kwargs)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s" % (" ".join(args), r.returncode, r.stdout))
    return r


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def package_status():
    r = run("dpkg-query", "-W", "-f=${Status}", "tkmprom", check=False)
    return r.stdout.strip() if r.returncode == 0 else ""


def dpkg(*args):
    """dpkg, waiting out a lock held by another apt/dpkg for up to a minute."""
    deadline = time.monotonic() + 60
    while True:
        r = run("dpkg", *args, check=False, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if r.returncode == 0:
            return r
        if "lock" not in r.stdout or time.monotonic() > deadline:
            raise AssertionError("dpkg %s failed (%d):\n%s" % (" ".join(args), r.returncode,
                                                               r.stdout))
        time.sleep(2)


def purge():
    if package_status():
        dpkg("--purge", "tkmprom")
    if os.path.exists(MARKER):
        os.unlink(MARKER)


class PackageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="tkmprom-pkg-")
        os.chmod(cls.work, 0o755)
        cls.lock = open(LOCK, "w")
        fcntl.flock(cls.lock, fcntl.LOCK_EX)  # one package test per machine at a time
        status = package_status()
        if status and not os.path.exists(MARKER):
            shutil.rmtree(cls.work, ignore_errors=True)
            cls.lock.close()
            raise unittest.SkipTest("a tkmprom package (%s) not installed by this test is "
                                    "present; leaving it alone" % status)
        purge()  # what an interrupted earlier run left behind
        r = run(os.path.join(SOURCE_ROOT, "packaging", "build-deb"), cls.work)
        cls.deb = r.stdout.strip().splitlines()[-1]
        cls.multiarch = run("dpkg-architecture", "-qDEB_HOST_MULTIARCH").stdout.strip()
        cls.plugin = "/usr/lib/%s/mosquitto/tkmprom.so" % cls.multiarch
        cls.companion = "/usr/libexec/tkmprom/tkmprom-companion"
        cls.supervisor = "/usr/libexec/tkmprom/tkmprom-supervisor"
        with open(MARKER, "w") as f:
            f.write("installed by tests/ops/test_package.py\n")
        dpkg("-i", cls.deb)

    @classmethod
    def tearDownClass(cls):
        try:
            purge()
        finally:
            shutil.rmtree(cls.work, ignore_errors=True)
            fcntl.flock(cls.lock, fcntl.LOCK_UN)
            cls.lock.close()

    def test_1_package_name_and_metadata(self):
        meson_version = re.search(r"version:\s*'([^']+)'",
                                  read(os.path.join(SOURCE_ROOT, "meson.build"))).group(1)
        arch = run("dpkg", "--print-architecture").stdout.strip()
        self.assertEqual(os.path.basename(self.deb), "tkmprom_%s_%s.deb" % (meson_version, arch))
        self.assertEqual(package_status(), "install ok installed")
        fields = run("dpkg-query", "-W", "-f=${Version}\n${Depends}\n${Conffiles}\n",
                     "tkmprom").stdout.splitlines()
        self.assertEqual(fields[0], meson_version)
        depends = [d.strip().split(" ")[0] for d in fields[1].split(",")]
        for needed in ("mosquitto", "libc6", "libstdc++6", "libmicrohttpd12", "zlib1g", "libre2-9"):
            self.assertIn(needed, depends)
        self.assertIn(SNIPPET, " ".join(fields[2:]), "the snippet must be a conffile")

    def test_2_files_modes_and_readability(self):
        listed = set(run("dpkg", "-L", "tkmprom").stdout.split())
        expected = [self.plugin, SNIPPET, "/usr/share/tkmprom/tkmprom-rules.yml",
                    "/usr/share/tkmprom/grafana-dashboard.json",
                    "/usr/share/tkmprom/prometheus.yml", "/usr/share/doc/tkmprom/README.md",
                    "/usr/share/doc/tkmprom/copyright"]
        for path in expected:
            self.assertIn(path, listed)
            st = os.stat(path)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o644, path)
            self.assertEqual((st.st_uid, st.st_gid), (0, 0), path)
        # The executable the plugin starts (it is not beside the installed
        # module, so the plugin finds it here).
        # The supervisor's small image beside it, which it execs.
        for path in (self.companion, self.supervisor):
            self.assertIn(path, listed)
            st = os.stat(path)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o755, path)
            self.assertEqual((st.st_uid, st.st_gid), (0, 0), path)
        # The broker loads plugins after dropping to the mosquitto user.
        r = subprocess.run(["runuser", "-u", "mosquitto", "--", "head", "-c", "4", self.plugin],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual((r.returncode, r.stdout), (0, b"\x7fELF"), r.stderr)
        with open(SNIPPET) as f:
            plugin_lines = [l.split(None, 1)[1].strip() for l in f if l.startswith("plugin ")]
        self.assertEqual(plugin_lines, [self.plugin])
        if PROMTOOL:
            run(PROMTOOL, "check", "rules", "/usr/share/tkmprom/tkmprom-rules.yml")

    def test_3_packaged_broker_configuration_serves_metrics(self):
        mqtt_port, http_port = free_port(), free_port()
        confd = os.path.join(self.work, "conf.d")
        os.mkdir(confd)
        # The installed snippet with only its HTTP address moved to a free port.
        snippet = read(SNIPPET)
        moved, n = re.subn(r"(?m)^plugin_opt_http_listen .*$",
                           "plugin_opt_http_listen 127.0.0.1:%d" % http_port, snippet)
        self.assertEqual(n, 1, "the snippet sets plugin_opt_http_listen once")
        with open(os.path.join(confd, "tkmprom.conf"), "w") as f:
            f.write(moved)
        # Debian's mosquitto.conf, with the snippet folder, listener, pid file,
        # persistence and log moved out of the machine's way.
        lines = []
        with open(BROKER_CONF) as f:
            for line in f:
                word = line.split(None, 1)[0] if line.strip() else ""
                if word in ("pid_file", "persistence", "persistence_location", "log_dest",
                            "listener", "port", "user"):
                    continue
                if word == "include_dir":
                    line = "include_dir %s\n" % confd
                lines.append(line)
        self.assertTrue(any(l.startswith("include_dir ") for l in lines))
        lines += ["persistence false\n", "log_dest stderr\n", "log_type all\n",
                  "listener %d 127.0.0.1\n" % mqtt_port, "allow_anonymous true\n"]
        conf = os.path.join(self.work, "mosquitto.conf")
        with open(conf, "w") as f:
            f.writelines(lines)
        log_path = os.path.join(self.work, "broker.log")
        log = open(log_path, "w")
        broker = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=log, stderr=log)
        try:
            def healthy():
                if broker.poll() is not None:
                    return True
                r = subprocess.run(["curl", "-sf", "http://127.0.0.1:%d/healthz" % http_port],
                                   stdout=subprocess.PIPE)
                return r.returncode == 0
            wait_until(healthy, timeout=20, interval=0.2, what="packaged broker /healthz")
            self.assertIsNone(broker.poll(), read(log_path))
            self.assertIn("Loading plugin: %s" % self.plugin, read(log_path))

            # The companion serving /metrics runs as the mosquitto user.
            mosquitto_uid = pwd.getpwnam("mosquitto").pw_uid
            companions = [pid for pid in os.listdir("/proc") if pid.isdigit()
                          and _comm(pid) == "tkmprom" and _is_descendant(int(pid), broker.pid)]
            self.assertTrue(companions, "no tkmprom companion under the broker")
            for pid in companions:
                self.assertEqual(os.stat("/proc/%s" % pid).st_uid, mosquitto_uid)
                self.assertEqual(os.path.realpath("/proc/%s/exe" % pid), self.companion)
            # Its supervisor runs the small image installed beside it.
            supervisors = [pid for pid in os.listdir("/proc") if pid.isdigit()
                           and _comm(pid) == "tkmprom-sup"
                           and _is_descendant(int(pid), broker.pid)]
            self.assertEqual(len(supervisors), 1, "no tkmprom supervisor under the broker")
            self.assertEqual(os.path.realpath("/proc/%s/exe" % supervisors[0]), self.supervisor)

            import paho.mqtt.client as mqtt
            c = mqtt.Client(client_id="package-test", clean_session=True)
            c.connect("127.0.0.1", mqtt_port, keepalive=30)
            c.loop_start()
            d = ft.device_id(7)
            publish_all(c, [ft.heartbeat(d), ft.request(d, "AAPL"),
                            ft.playlist_answer(d, "AAPL", ["AAPL", "MSFT"])])
            close(c)

            def scraped():
                r = subprocess.run(["curl", "-sf", "http://127.0.0.1:%d/metrics" % http_port],
                                   stdout=subprocess.PIPE, text=True)
                if r.returncode != 0:
                    return None
                m = parse_metrics(r.stdout)
                if value(m, "tickrmeter_stock_update_responses_total", symbol="AAPL") != 1:
                    return None
                return m
            m = wait_until(scraped, timeout=15, interval=0.2, what="the answered request")
            self.assertEqual(value(m, "tickrmeter_stock_update_requests_total", symbol="AAPL"), 1)
            self.assertEqual(sum(v for k, v in m.items() if k[0] == "tickrmeter_devices_online"),
                             1)
            info = [k for k in m if k[0] == "tickrmeter_build_info"]
            self.assertEqual(len(info), 1)
            version = run("dpkg-query", "-W", "-f=${Version}", "tkmprom").stdout
            self.assertEqual(dict(info[0][1])["version"], version)
        finally:
            stop_process(broker, timeout=10)
            log.close()

    def test_4_purge_leaves_nothing(self):
        # Runs last (alphabetical order); tearDownClass purges again harmlessly.
        purge()
        self.assertEqual(package_status(), "")
        for path in (self.plugin, SNIPPET, "/usr/share/tkmprom", "/usr/share/doc/tkmprom"):
            self.assertFalse(os.path.exists(path), path)
        self.assertFalse(os.path.exists(MARKER))


def _comm(pid):
    try:
        with open("/proc/%s/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def _is_descendant(pid, ancestor):
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            with open("/proc/%d/stat" % pid) as f:
                s = f.read()
            pid = int(s[s.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            return False
    return False


def _terminate(signum, frame):
    # meson's timeout sends SIGTERM: unwind so tearDownClass purges.
    raise SystemExit("terminated by signal %d" % signum)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("SKIP: installing a package needs root")
        sys.exit(77)
    signal.signal(signal.SIGTERM, _terminate)
    result = unittest.main(exit=False, verbosity=2).result
    if result.skipped and not result.failures and not result.errors and len(
            result.skipped) >= result.testsRun:
        sys.exit(77)
    sys.exit(0 if result.wasSuccessful() else 1)
