"""The foundation through a real broker: loading, counting, exposing,
supervising (issue: walking skeleton)."""

import gzip
import os
import signal
import subprocess
import unittest

from harness import Broker, PROMTOOL, close, publish_all, restarts, series, value, wait_until

DEVICE = "A1B2C3D4E5F6"

# One publish per kind, at QoS 0, 1 and 2 and retained, with the expected kinds.
KNOWN_PUBLISHES = [
    ("STOCKPRICEUPDATE", '{"type":"UPDATE","device":"%s"}' % DEVICE, 0, False, "stock_request"),
    ("STOCKPRICEUPDATE", '{"type":"UPDATE","device":"%s","symbol":"BTC/USD"}' % DEVICE, 1,
     False, "stock_request"),
    (DEVICE, '{"type":"NO_CONFIG","success":false,"message":"No configuration found."}', 2,
     False, "device_message"),
    ("DEVICESTATUS_RES", '{"status":"online","firmware_version":"70p","device":"%s",'
     '"battery":"87"}' % DEVICE, 0, False, "heartbeat"),
    ("DEVICESTATUS", '{"action":"status"}', 1, False, "status_poll"),
    ("TICKRMETERBOOT", '{"type":"BOOT","device":"%s"}' % DEVICE, 0, False, "boot"),
    ("DEVICE_BOOTED", '{"type":"BOOT","device":"%s"}' % DEVICE, 0, False, "booted"),
    ("HTTPSTREAMSTOCKS", '{"device":"%s","params":{}}' % DEVICE, 0, False, "http_stream"),
    ("LOG/" + DEVICE, "SR lock check start.|", 0, False, "log"),
    ("ALERT/" + DEVICE, '{"type":"DISABLE"}', 1, False, "alert"),
    ("FIRMWAREUPDATE/" + DEVICE, '{"version":"70p","url":"x"}', 1, True, "firmware_update"),
    ("FIRMWAREUPDATE/" + DEVICE, "", 0, True, "firmware_update"),
    ("ON_TV_SYMBOL_SUBSCRIBE", '["NASDAQ:AAPL"]', 2, True, "other"),
    ("some/other/topic", "x", 0, False, "other"),
]

ALL_KINDS = ["stock_request", "device_message", "heartbeat", "status_poll", "boot", "booted",
             "http_stream", "log", "alert", "firmware_update", "other"]


def expected_counts(publishes, times=1):
    counts = {k: 0 for k in ALL_KINDS}
    for p in publishes:
        counts[p[4]] += times
    return counts


class FoundationTest(unittest.TestCase):

    def assert_counts(self, broker, counts):
        def check():
            m = broker.metrics()
            got = {k: value(m, "tickrmeter_messages_total", kind=k) for k in ALL_KINDS}
            return got if got == counts else None
        try:
            wait_until(check, interval=0.2, what="message counts")
        except AssertionError:
            m = broker.metrics()
            got = {k: value(m, "tickrmeter_messages_total", kind=k) for k in ALL_KINDS}
            self.assertEqual(got, counts)

    def test_counts_every_publish_exactly_once_by_kind(self):
        with Broker() as b:
            c = b.client("it-publisher")
            publish_all(c, [p[:4] for p in KNOWN_PUBLISHES] * 3)
            close(c)
            self.assert_counts(b, {k: float(v) for k, v in
                                   expected_counts(KNOWN_PUBLISHES, 3).items()})
            m = b.metrics()
            self.assertEqual(value(m, "tickrmeter_observations_dropped_total"), 0)
            self.assertEqual(restarts(m), 0)
            info = series(m, "tickrmeter_build_info")
            self.assertEqual(len(info), 1)
            self.assertEqual(list(info.values()), [1.0])
            labels = dict(list(info.keys())[0])
            self.assertTrue(labels["version"])
            self.assertTrue(labels["mosquitto_version"].startswith("2."))

    def test_every_kind_is_exported_from_the_start(self):
        with Broker() as b:
            m = b.metrics()
            for kind in ALL_KINDS:
                self.assertEqual(value(m, "tickrmeter_messages_total", kind=kind), 0, kind)

    @unittest.skipUnless(PROMTOOL, "promtool not installed")
    def test_promtool_accepts_the_live_output_silently(self):
        with Broker() as b:
            c = b.client()
            publish_all(c, [p[:4] for p in KNOWN_PUBLISHES])
            close(c)
            self.assert_counts(b, {k: float(v) for k, v in expected_counts(KNOWN_PUBLISHES).items()})
            text = b.metrics_text()
            r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                               capture_output=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual(r.stdout + r.stderr, b"")

    def test_http_endpoints(self):
        with Broker() as b:
            status, hdrs, body = b.http("/healthz")
            self.assertEqual((status, body), (200, b"ok\n"))
            status, hdrs, body = b.http("/")
            self.assertEqual(status, 200)
            self.assertIn("text/html", hdrs["content-type"])
            self.assertIn(b"/metrics", body)
            self.assertEqual(b.http("/nope")[0], 404)
            status, hdrs, body = b.http("/metrics")
            self.assertEqual(hdrs["content-type"], "text/plain; version=0.0.4; charset=utf-8")
            plain = body
            status, hdrs, body = b.http("/metrics", {"Accept-Encoding": "gzip"})
            self.assertEqual(hdrs.get("content-encoding"), "gzip")
            self.assertIn(b"tickrmeter_messages_total", gzip.decompress(body))
            status, hdrs, body = b.http(
                "/metrics", {"Accept": "application/openmetrics-text;version=1.0.0"})
            self.assertTrue(hdrs["content-type"].startswith("application/openmetrics-text"))
            self.assertTrue(body.endswith(b"# EOF\n"))
            status, hdrs, body = b.http("/metrics", method="HEAD")
            self.assertEqual(status, 200)
            self.assertEqual(body, b"")
            self.assertIn(b"# TYPE tickrmeter_messages_total counter", plain)

    def test_broker_process_keeps_exactly_one_thread(self):
        with Broker() as b:
            c = b.client()
            publish_all(c, [p[:4] for p in KNOWN_PUBLISHES])
            close(c)
            b.wait_metric("tickrmeter_messages_total", 1.0, kind="boot")
            self.assertEqual(b.thread_count(), 1)
            comms = sorted(comm for _, comm in b.descendants())
            self.assertEqual(comms, ["tkmprom", "tkmprom-sup"])

    def test_bad_option_value_stops_the_broker_with_a_clear_line(self):
        b = Broker(options={"request_timeout": "soon"})
        try:
            rc = b.run_expecting_failure()
            self.assertNotEqual(rc, 0)
            log = b.log()
            self.assertIn("invalid value 'soon' for plugin_opt_request_timeout", log)
            self.assertIn("accepted:", log)
        finally:
            b.cleanup()

    def test_unknown_option_is_a_warning(self):
        with Broker(options={"no_such_option": "1"}) as b:
            self.assertIn("unknown option plugin_opt_no_such_option", b.log())

    def test_taken_http_port_stops_the_broker_with_a_clear_line(self):
        import socket
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        b = Broker(options={"http_listen": "127.0.0.1:%d" % port})
        try:
            rc = b.run_expecting_failure()
            self.assertNotEqual(rc, 0)
            self.assertIn("cannot listen on plugin_opt_http_listen 127.0.0.1:%d" % port, b.log())
            self.assertIn("Address already in use", b.log())
            self.assertEqual(b.descendants(), [])
        finally:
            holder.close()
            b.cleanup()

    def test_per_listener_settings_counts_each_publish_once(self):
        with Broker(per_listener=True, listeners=2) as b:
            c1 = b.client("one", port=b.ports[0])
            c2 = b.client("two", port=b.ports[1])
            publish_all(c1, [p[:4] for p in KNOWN_PUBLISHES])
            publish_all(c2, [p[:4] for p in KNOWN_PUBLISHES])
            close(c1)
            close(c2)
            self.assert_counts(b, {k: float(v) for k, v in
                                   expected_counts(KNOWN_PUBLISHES, 2).items()})
            comms = sorted(comm for _, comm in b.descendants())
            self.assertEqual(comms, ["tkmprom", "tkmprom-sup"])

    def test_per_listener_settings_first_options_win_and_differences_are_named(self):
        with Broker(per_listener=True, listeners=2,
                    later_listener_options={"request_timeout": "5", "max_symbols": "7"}) as b:
            log = b.log()
            self.assertIn("differ from the first listener's (request_timeout, max_symbols)", log)
            self.assertEqual(b.http_status("/healthz"), 200)

    def test_per_listener_settings_still_forwards_log_lines_without_ticks(self):
        # mosquitto 2.0.11 never ticks with per_listener_settings true; the
        # hook's housekeeping runs every 1024 publishes instead.
        with Broker(per_listener=True, listeners=2) as b:
            first = wait_until(b.companion_pid, what="companion")
            os.kill(first, signal.SIGKILL)
            wait_until(lambda: b.companion_pid() not in (None, first), what="a new companion")
            c = b.client()
            publish_all(c, [("some/topic", "x", 0, False)] * 2100)
            close(c)
            wait_until(lambda: "companion (pid %d) was killed by signal 9" % first in b.log(),
                       what="the restart's log line")

    def test_killed_companion_is_logged_restarted_and_counted(self):
        with Broker() as b:
            first = wait_until(b.companion_pid, what="companion")
            os.kill(first, signal.SIGKILL)
            second = wait_until(lambda: (b.companion_pid() not in (None, first))
                                and b.companion_pid(), what="a new companion")
            self.assertNotEqual(first, second)
            wait_until(lambda: b.http_status("/healthz") == 200, what="healthz after restart")
            b.wait_restarts(1.0, reason="signal")
            wait_until(lambda: "companion (pid %d) was killed by signal 9" % first in b.log(),
                       what="the restart's log line")
            # Counts kept by the hook survive the restart.
            c = b.client()
            publish_all(c, [("TICKRMETERBOOT", '{"type":"BOOT","device":"%s"}' % DEVICE, 0,
                             False)])
            close(c)
            b.wait_metric("tickrmeter_messages_total", 1.0, kind="boot")

    def test_stopping_the_broker_leaves_no_process_behind(self):
        b = Broker()
        try:
            b.start()
            pids = [pid for pid, _ in b.descendants()]
            self.assertEqual(len(pids), 2)
            b.stop()
            self.assertEqual(b.proc.returncode, 0)
            for pid in pids:
                wait_until(lambda: not os.path.exists("/proc/%d" % pid) or
                           open("/proc/%d/stat" % pid).read().split(")")[1].split()[0] == "Z",
                           what="process %d to end" % pid)
        finally:
            b.cleanup()

    def test_killed_broker_takes_its_processes_along(self):
        b = Broker()
        try:
            b.start()
            pids = [pid for pid, _ in b.descendants()]
            b.proc.kill()
            b.proc.wait()
            for pid in pids:
                wait_until(lambda: not os.path.exists("/proc/%d" % pid),
                           what="process %d to end" % pid)
        finally:
            b.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
