"""Safe in a production broker (issue 12, plugin-contract.md §7.1), through
a real broker: every process the plugin starts runs tkmprom-companion (the
supervisor: the small tkmprom-supervisor beside it), also after all of them
were killed, and without tkmprom-supervisor the supervisor runs in
tkmprom-companion; without ticks from traffic or $SYS the plugin
comes back by itself; a hung companion is replaced and counted `hung`; a
SIGHUP rotates the HTTP password without disconnecting any MQTT client; and
what the broker cannot use fails its start with one line."""

import base64
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import paho.mqtt.client as mqtt

from harness import MOSQUITTO, PLUGIN, Broker, parse_metrics, restarts, wait_until
from hostile_tools import RawPublisher, descendants_of, is_gone, round_trip

COMPANION = os.path.join(os.path.dirname(os.path.realpath(PLUGIN)), "tkmprom-companion")
SUPERVISOR = os.path.join(os.path.dirname(os.path.realpath(PLUGIN)), "tkmprom-supervisor")
USER = "prometheus"


def exe(pid):
    try:
        return os.path.realpath("/proc/%d/exe" % pid)
    except OSError:
        return None


def basic(user, password):
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return {"Authorization": "Basic " + token}


def htpasswd_line(user, password):
    return subprocess.run(["htpasswd", "-nbB", "-C", "4", user, password], check=True,
                          stdout=subprocess.PIPE).stdout.decode().strip()


class SafetyTestCase(unittest.TestCase):

    def start(self, **kwargs):
        b = Broker(**kwargs)
        self.addCleanup(b.cleanup)
        return b.start()

    def plugin_processes(self, b):
        return [(pid, comm) for pid, comm in descendants_of(b.proc.pid)]

    def assert_all_run_the_companion(self, b, companion=COMPANION, supervisor=SUPERVISOR):
        procs = self.plugin_processes(b)
        self.assertEqual(sorted(c for _, c in procs), ["tkmprom", "tkmprom-sup"])
        for pid, comm in procs:
            expected = supervisor if comm == "tkmprom-sup" else companion
            self.assertEqual(exe(pid), os.path.realpath(expected), "%s (pid %d)" % (comm, pid))
        self.assertEqual(exe(b.proc.pid), os.path.realpath(MOSQUITTO))
        return procs


class ProcessTest(SafetyTestCase):

    def test_every_process_runs_the_companion_and_comes_back_without_ticks_from_traffic(self):
        # sys_interval 0 and no client: nothing but the plugin's own tick
        # request wakes mosquitto 2.1's loop.
        b = self.start(extra_conf="sys_interval 0")
        before = self.assert_all_run_the_companion(b)
        killed_at = time.monotonic()
        for pid, _ in before:
            os.kill(pid, signal.SIGKILL)
        for pid, _ in before:
            wait_until(lambda: is_gone(pid), what="pid %d to die" % pid)
        wait_until(lambda: b.http_status("/healthz") == 200, timeout=3.0,
                   what="/healthz within 3 s of losing every process")
        back_after = time.monotonic() - killed_at
        after = self.assert_all_run_the_companion(b)
        self.assertFalse(set(after) & set(before))
        self.assertEqual(b.thread_count(), 1)
        m = b.wait_restarts(1.0, reason="signal")
        self.assertEqual(restarts(m), 1.0)
        print("served again %.2f s after every process was killed" % back_after)

    def test_without_tkmprom_supervisor_the_companion_supervises_in_process(self):
        # A tkmprom-companion alone in its folder (companion_path): the
        # supervisor cannot exec the small image and keeps running the
        # companion's, with the same name, and still replaces the companion.
        alone = tempfile.mkdtemp(prefix="tkmprom-alone-")
        self.addCleanup(shutil.rmtree, alone, True)
        companion = os.path.join(alone, "tkmprom-companion")
        shutil.copy2(COMPANION, companion)
        b = self.start(options={"companion_path": companion})
        procs = self.assert_all_run_the_companion(b, companion=companion, supervisor=companion)
        self.assertIn("no tkmprom-supervisor beside tkmprom-companion", b.log())
        first = [p for p, c in procs if c == "tkmprom"][0]
        os.kill(first, signal.SIGKILL)
        wait_until(lambda: b.companion_pid() not in (None, first), timeout=10,
                   what="a new companion")
        wait_until(lambda: b.http_status("/healthz") == 200, what="/healthz again")
        self.assert_all_run_the_companion(b, companion=companion, supervisor=companion)

    def test_missing_companion_path_stops_the_broker_with_one_line(self):
        b = Broker(options={"companion_path": "/nonexistent/tkmprom-companion"})
        self.addCleanup(b.cleanup)
        self.assertNotEqual(b.run_expecting_failure(), 0)
        self.assertIn("invalid value '/nonexistent/tkmprom-companion' for "
                      "plugin_opt_companion_path", b.log())

    def test_pattern_re2_cannot_compile_stops_the_broker_with_one_line(self):
        b = Broker(options={"device_id_pattern": "^(a)\\1$"})
        self.addCleanup(b.cleanup)
        self.assertNotEqual(b.run_expecting_failure(), 0)
        lines = [l for l in b.log().splitlines() if "plugin_opt_device_id_pattern" in l]
        self.assertEqual(len(lines), 1, b.log())
        self.assertIn("invalid value '^(a)\\1$'", lines[0])
        self.assertIn("backreference", lines[0])
        # Nothing of the plugin stays behind.
        self.assertEqual(descendants_of(b.proc.pid), [])


class WatchdogTest(SafetyTestCase):

    def test_a_stopped_companion_under_traffic_is_replaced_and_counted_hung(self):
        b = self.start()
        first = wait_until(b.companion_pid, what="companion")
        os.kill(first, signal.SIGSTOP)
        stopped_at = time.monotonic()
        self.addCleanup(lambda: is_gone(first) or os.kill(first, signal.SIGKILL))
        stop = threading.Event()

        def traffic():
            pub = RawPublisher(b.port)
            i = 0
            while not stop.is_set():
                pub.publish_many([("TICKRMETERBOOT", '{"type":"BOOT","device":"C%011X"}' % i)])
                i += 1
                time.sleep(0.05)
            pub.close()

        t = threading.Thread(target=traffic)
        t.start()
        try:
            wait_until(lambda: b.companion_pid() not in (None, first), timeout=30,
                       what="a new companion within 30 s")
            replaced_after = time.monotonic() - stopped_at
        finally:
            stop.set()
            t.join()
        self.assertTrue(is_gone(first))
        m = b.wait_restarts(1.0, reason="hung")
        self.assertEqual(restarts(m), 1.0)
        round_trip(b)
        log = b.log()
        self.assertEqual(log.count("made no progress"), 1, log)
        self.assertIn("companion (pid %d) made no progress for 10 s" % first, log)
        print("a stopped companion was replaced after %.1f s" % replaced_after)


class ReloadTest(SafetyTestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tkmprom-it-reload-")
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.htpasswd = os.path.join(self.dir, "htpasswd")
        self.write_htpasswd(htpasswd_line(USER, "old-password"))

    def write_htpasswd(self, text):
        # Replaced by a rename, as configuration management does.
        tmp = self.htpasswd + ".new"
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.chmod(tmp, 0o644)
        os.rename(tmp, self.htpasswd)

    def status(self, b, password):
        return b.http("/metrics", headers=basic(USER, password))[0]

    def test_sighup_rotates_the_password_and_keeps_mqtt_clients_connected(self):
        b = self.start(options={"http_auth_file": self.htpasswd})
        self.assertEqual(self.status(b, "old-password"), 200)
        disconnects = []
        client = mqtt.Client(client_id="stays-connected", clean_session=True)
        client.on_disconnect = lambda *a: disconnects.append(a)
        received = []
        client.on_message = lambda c, u, msg: received.append(msg.payload)
        client.connect("127.0.0.1", b.port, keepalive=30)
        client.loop_start()
        self.addCleanup(client.loop_stop)
        wait_until(client.is_connected, what="client connected")
        client.subscribe("reload/echo", qos=1)
        before = self.plugin_processes(b)

        self.write_htpasswd(htpasswd_line(USER, "new-password"))
        os.kill(b.proc.pid, signal.SIGHUP)
        wait_until(lambda: self.status(b, "new-password") == 200, what="the new password")
        self.assertEqual(self.status(b, "old-password"), 401)

        # A broken file keeps the last good credentials, with one line.
        self.write_htpasswd("prometheus:not-a-bcrypt-hash")
        os.kill(b.proc.pid, signal.SIGHUP)
        wait_until(lambda: "keeping the previous credentials" in b.log(),
                   what="the reload's refusal in the log")
        self.assertEqual(self.status(b, "new-password"), 200)
        self.assertEqual(self.status(b, "old-password"), 401)
        self.assertEqual(b.log().count("keeping the previous credentials"), 1)

        client.publish("reload/echo", b"still here", qos=1).wait_for_publish()
        wait_until(lambda: received == [b"still here"], what="the echo")
        self.assertTrue(client.is_connected())
        self.assertEqual(disconnects, [])
        self.assertEqual(self.plugin_processes(b), before)  # nothing was restarted
        self.assertEqual(restarts(parse_metrics(b.metrics_text(basic(USER, "new-password")))), 0)
        client.disconnect()


if __name__ == "__main__":
    unittest.main(verbosity=2)
