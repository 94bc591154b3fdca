"""The broker's lifecycle with the plugin, through a real broker (issue:
hardening): daemonised, reloaded, stopped during a scrape, and its companion
and supervisor killed. The broker's MQTT clients never notice."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

from harness import MOSQUITTO, Broker, restarts, value, wait_until
from hostile_tools import (RawPublisher, descendants_of, is_gone, processes, promtool_problems,
                           round_trip)

DEV = "A1B2C3D4E5F6"


def boots(n, start=0):
    return [("TICKRMETERBOOT", '{"type":"BOOT","device":"B%011X"}' % i)
            for i in range(start, start + n)]


class LifecycleTestCase(unittest.TestCase):

    def start(self, **kwargs):
        b = Broker(**kwargs)
        self.addCleanup(b.cleanup)
        return b.start()

    def publish(self, b, messages):
        pub = RawPublisher(b.port)
        pub.publish_many(messages)
        pub.barrier()
        pub.close()


class DaemonTest(LifecycleTestCase):

    def test_daemonised_broker_serves_metrics_and_takes_the_companion_along(self):
        b = Broker()
        pid_file = os.path.join(b.dir, "mosquitto.pid")
        with open(b.conf, "a") as f:
            f.write("pid_file %s\n" % pid_file)
        daemon = None
        try:
            # The foreground process forks the daemon and exits 0.
            r = subprocess.run([MOSQUITTO, "-c", b.conf, "-d"], timeout=10, env=b.env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 0)
            def read_pid():
                try:
                    with open(pid_file) as f:
                        return int(f.read().strip() or 0)
                except (OSError, ValueError):
                    return 0
            daemon = wait_until(read_pid, what="pid file")
            wait_until(lambda: b.http_status("/healthz") == 200, what="companion /healthz")
            # The plugin serves before the broker opens its MQTT listeners
            # (mosquitto loads plugins first).
            wait_until(b._mqtt_up, what="the daemon's MQTT listener")
            # The companion is the daemon's grandchild: started after daemonising.
            tree = wait_until(lambda: len(descendants_of(daemon)) == 2 and
                              descendants_of(daemon), what="supervisor and companion")
            self.assertEqual(sorted(c for _, c in tree), ["tkmprom", "tkmprom-sup"])
            sup = [p for p, c in tree if c == "tkmprom-sup"][0]
            comp = [p for p, c in tree if c == "tkmprom"][0]
            self.assertIn((comp, sup), [(p, pp) for p, pp, _, _ in processes()])
            self.publish(b, boots(3))
            b.wait_metric("tickrmeter_messages_total", 3.0, kind="boot")
            self.assertEqual(promtool_problems(b.metrics_text()), "")
            round_trip(b)
            os.kill(daemon, signal.SIGKILL)
            for pid in (daemon, sup, comp):
                wait_until(lambda: is_gone(pid), what="process %d to end" % pid)
            self.assertIsNone(b.http_status("/healthz"))
        finally:
            if daemon and not is_gone(daemon):
                os.kill(daemon, signal.SIGKILL)
            b.cleanup()


class ReloadTest(LifecycleTestCase):

    def test_sighup_reload_keeps_one_companion_counting(self):
        b = self.start()
        self.publish(b, boots(5))
        b.wait_metric("tickrmeter_messages_total", 5.0, kind="boot")
        before = sorted(b.descendants())
        for _ in range(3):
            b.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: b.log().count("Reloading config") >= 1, what="the reload")
            time.sleep(0.5)
        wait_until(lambda: b.log().count("Reloading config") >= 3, what="three reloads")
        self.assertIsNone(b.proc.poll())
        round_trip(b)
        self.publish(b, boots(5, start=5))
        m = b.wait_metric("tickrmeter_messages_total", 10.0, kind="boot")
        self.assertEqual(restarts(m), 0)
        self.assertEqual(sorted(b.descendants()), before)
        self.assertEqual(b.thread_count(), 1)


class ShutdownTest(LifecycleTestCase):

    def test_sigterm_during_a_large_scrape_exits_promptly_and_cleanly(self):
        b = self.start()
        # 2,000 symbols: a /metrics of about a megabyte.
        self.publish(b, [("STOCKPRICEUPDATE",
                          '{"type":"UPDATE","device":"C%011X","symbol":"SYMBOL%05d"}'
                          % (i % 1000, i)) for i in range(2000)])
        wait_until(lambda: len(b.metrics_text()) > 500000, what="a large /metrics")
        tree = [p for p, _ in b.descendants()]
        # A scrape that reads slowly: the companion is mid-response.
        sock = socket.create_connection(("127.0.0.1", b.http_port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(sock.recv(1024).startswith(b"HTTP/1.1 200"))
        # And scrapes in a loop from another thread.
        stop = threading.Event()

        def scrape():
            while not stop.is_set():
                b.http("/metrics")
        t = threading.Thread(target=scrape)
        t.start()
        try:
            time.sleep(0.3)
            started = time.monotonic()
            b.proc.send_signal(signal.SIGTERM)
            rc = b.proc.wait(timeout=15)
            took = time.monotonic() - started
        finally:
            stop.set()
            t.join()
            sock.close()
        sys.stderr.write("\n  SIGTERM during a scrape: exited %d after %.2f s\n" % (rc, took))
        self.assertEqual(rc, 0)
        self.assertLess(took, 10)
        for pid in tree:
            wait_until(lambda: is_gone(pid), what="process %d to end" % pid)
        self.assertEqual([p for p, _, c, s in processes() if p in tree and s != "Z"], [])


class CompanionCrashTest(LifecycleTestCase):

    def kill_companion_and_check(self, b, sig, expected):
        first = wait_until(b.companion_pid, what="companion")
        os.kill(first, sig)
        # While the companion is down the broker serves its clients.
        round_trip(b)
        wait_until(lambda: b.companion_pid() not in (None, first), what="a new companion")
        round_trip(b)
        b.wait_restarts(float(expected), reason="signal")
        wait_until(lambda: "companion (pid %d) was killed by signal %d" % (first, sig)
                   in b.log(), what="the restart's log line")

    def test_sigkill_and_sigsegv_of_the_companion(self):
        b = self.start()
        self.kill_companion_and_check(b, signal.SIGKILL, 1)
        self.kill_companion_and_check(b, signal.SIGSEGV, 2)
        self.publish(b, boots(4))
        b.wait_metric("tickrmeter_messages_total", 4.0, kind="boot")
        self.assertEqual(promtool_problems(b.metrics_text()), "")
        self.assertEqual(b.thread_count(), 1)
        self.assertIsNone(b.proc.poll())

    def test_crash_loop_backs_off_without_touching_the_brokers_clients(self):
        b = self.start()
        stop = threading.Event()
        rtts, failures = [], []

        def clients():
            # A real client's round trips, all through the crash loop.
            while not stop.is_set():
                try:
                    rtts.append(round_trip(b, timeout=3))
                except AssertionError as e:
                    failures.append(str(e))
                time.sleep(0.1)
        t = threading.Thread(target=clients)
        t.start()
        try:
            killed = []
            for _ in range(4):
                pid = wait_until(lambda: b.companion_pid() not in [None] + killed and
                                 b.companion_pid(), timeout=30, what="a new companion")
                os.kill(pid, signal.SIGSEGV)
                killed.append(pid)
            wait_until(lambda: b.companion_pid() not in [None] + killed, timeout=30,
                       what="the last companion")
            b.wait_restarts(4.0, reason="signal")
        finally:
            stop.set()
            t.join()
        waits = [int(x) for x in re.findall(r"restarting the companion \(reason signal\) in (\d+) ms",
                                            b.log())]
        sys.stderr.write("\n  backoff %s ms; %d round trips, slowest %.3f s\n" % (
            waits, len(rtts), max(rtts)))
        self.assertEqual(waits, [1000, 2000, 4000, 8000])
        self.assertEqual(failures, [])
        self.assertGreaterEqual(len(rtts), 5)
        self.assertLess(max(rtts), 1.0)
        self.assertIsNone(b.proc.poll())


class SupervisorCrashTest(LifecycleTestCase):

    def test_killed_supervisor_is_replaced_with_its_companion(self):
        b = self.start()
        tree = dict((c, p) for p, c in b.descendants())
        # The broker replaces a dead supervisor at its next housekeeping (by
        # posix_spawn, never a fork of itself); only one that keeps dying
        # within a minute waits longer.
        os.kill(tree["tkmprom-sup"], signal.SIGKILL)
        started = time.monotonic()
        wait_until(lambda: is_gone(tree["tkmprom"]), what="the companion to follow")
        round_trip(b)
        new = wait_until(lambda: len(b.descendants()) == 2 and
                         tree["tkmprom-sup"] not in [p for p, _ in b.descendants()] and
                         dict((c, p) for p, c in b.descendants()), timeout=12,
                         what="a new supervisor and companion")
        self.assertLess(time.monotonic() - started, 10)
        self.assertNotEqual(new["tkmprom"], tree["tkmprom"])
        wait_until(lambda: b.http_status("/healthz") == 200, what="/healthz back")
        b.wait_restarts(1.0, reason="signal")
        log = b.log()
        self.assertIn("supervisor (pid %d) was killed by signal 9" % tree["tkmprom-sup"], log)
        self.assertIn("tkmprom: supervisor and companion started again", log)
        self.publish(b, boots(2))
        b.wait_metric("tickrmeter_messages_total", 2.0, kind="boot")
        round_trip(b)


if __name__ == "__main__":
    unittest.main(verbosity=2)
