"""A real Prometheus scraping a real broker with the plugin, under traffic.

Prometheus (Debian's /usr/bin/prometheus) runs on a free port with a temporary
TSDB, scrape and evaluation interval 1 s, and the shipped alert rules with
their `for:` durations and range windows shortened for a test. Traffic: a
symbol whose requests are never answered (request_timeout 1 s, so they time
out) and one answered at once, plus heartbeats and boots. Proves, within a
bounded time: the target is up, every shipped rule evaluates without error,
every dashboard expression (and every README PromQL line) is valid PromQL
and the dashboard's expressions return data, and TickrMeterSymbolTimeouts
fires for the failing symbol and not for the answered one.
"""

import json
import os
import re
import threading
import time
import unittest
import urllib.parse
import urllib.request

import yaml

from harness import PROMETHEUS, Broker, Prometheus, close, wait_until
import fleet_traffic as ft

SOURCE_ROOT = os.environ.get("TKMPROM_SOURCE_ROOT",
                             os.path.join(os.path.dirname(__file__), "..", ".."))
DEADLINE_S = 120
FAILING, ANSWERED = "FAIL", "AAPL"
PLAYLIST = [ANSWERED, FAILING, "BTC/USD"]
DEVICES = [ft.device_id(n) for n in range(8)]


def shorten_rules(rules):
    """The shipped rules with test-sized durations: every `for:` 3 s, every
    range window 10 s, every offset 30 s."""
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "3s"
            rule["expr"] = re.sub(r"\[\d+[smhdwy]\]", "[10s]", rule["expr"])
            rule["expr"] = re.sub(r"offset \d+[smhdwy]", "offset 30s", rule["expr"])
    return rules


def dashboard_exprs():
    """(panel title, expr) of every panel target, Grafana variables replaced
    the way Grafana would with "All" selected and the top 10."""
    with open(os.path.join(SOURCE_ROOT, "conf", "grafana-dashboard.json")) as f:
        dashboard = json.load(f)
    out = []
    for panel in dashboard["panels"]:
        for t in panel.get("targets", []):
            expr = t["expr"]
            for var, val in (("$__rate_interval", "10s"), ("$topk", "10"), ("$job", ".*"),
                             ("$instance", ".*"), ("$symbol", ".*")):
                expr = expr.replace(var, val)
            assert "$" not in expr, expr
            out.append((panel["title"], expr))
    return out


def readme_exprs():
    """The README's ```promql blocks, one expression per line that starts
    unindented (indented lines continue the previous one)."""
    with open(os.path.join(SOURCE_ROOT, "README.md")) as f:
        blocks = re.findall(r"```promql\n(.*?)```", f.read(), re.S)
    exprs = []
    for block in blocks:
        for line in block.splitlines():
            if not line.strip():
                continue
            if line[0].isspace() and exprs:
                exprs[-1] += "\n" + line
            else:
                exprs.append(line)
    return exprs


class Traffic(threading.Thread):
    """Publishes until stopped: every 0.25 s a request for FAILING from the
    next of 8 devices (each device asks again only after 2 s, so nothing is
    superseded) and a request for ANSWERED answered at once; heartbeats each
    second; a boot now and then."""

    def __init__(self, broker):
        super().__init__(daemon=True)
        self.client = broker.client("ops-prometheus-traffic")
        self.stop_event = threading.Event()
        self.error = None

    def run(self):
        try:
            i = 0
            while not self.stop_event.is_set():
                d = DEVICES[i % len(DEVICES)]
                messages = [ft.request(d, FAILING), ft.request(d, ANSWERED),
                            ft.playlist_answer(d, ANSWERED, PLAYLIST)]
                if i % 4 == 0:
                    for n, dev in enumerate(DEVICES):
                        messages.append(ft.heartbeat(
                            dev, firmware="70p" if n % 2 else "65d", battery=10 + 11 * n,
                            uptime=3000 + 100000 * n + i, charging=1 if n == 0 else 0))
                if i % 40 == 0:
                    messages.append(ft.boot(DEVICES[(i // 40) % len(DEVICES)]))
                for topic, payload, qos, retain in messages:
                    self.client.publish(topic, payload, qos=qos, retain=retain)
                i += 1
                self.stop_event.wait(0.25)
        except Exception as e:  # reported by the test
            self.error = e

    def stop(self):
        self.stop_event.set()
        self.join(timeout=5)
        close(self.client)


class PrometheusTest(unittest.TestCase):

    def setUp(self):
        if not os.path.exists(PROMETHEUS):
            self.skipTest("prometheus not installed")
        self.broker = Broker({"request_timeout": "1"})
        self.broker.start()
        self.addCleanup(self.broker.cleanup)
        with open(os.path.join(SOURCE_ROOT, "conf", "tkmprom-rules.yml")) as f:
            rules = shorten_rules(yaml.safe_load(f))
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s",
                       "scrape_timeout": "1s"},
            "rule_files": ["rules.yml"],
            "scrape_configs": [{"job_name": "tkmprom", "static_configs": [
                {"targets": ["127.0.0.1:%d" % self.broker.http_port]}]}],
        }
        self.prom = Prometheus(config, files={"rules.yml": rules})
        self.addCleanup(self.prom.stop)
        self.traffic = Traffic(self.broker)
        self.traffic.start()
        self.addCleanup(self.traffic.stop)

    def api(self, path, **params):
        return self.prom.api(path, **params)

    def query(self, expr):
        return self.prom.query(expr)

    def until(self, deadline, predicate, what):
        remaining = deadline - time.monotonic()
        try:
            return wait_until(lambda: not self.prom.alive() or predicate(),
                              timeout=max(remaining, 1), interval=0.5, what=what)
        finally:
            self.assertTrue(self.prom.alive(), "prometheus exited:\n" + self.prom.log_text())
            self.assertIsNone(self.traffic.error)

    def test_scrape_dashboard_and_timeout_alert(self):
        deadline = time.monotonic() + DEADLINE_S
        self.until(deadline, lambda: urllib_ok("http://%s/-/ready" % self.prom.address),
                   "prometheus ready")

        def up():
            r = self.query('up{job="tkmprom"}')
            return r and r["status"] == "success" and [
                s for s in r["data"]["result"] if s["value"][1] == "1"]
        self.until(deadline, up, "up{job=\"tkmprom\"} == 1")

        def firing():
            r = self.api("/api/v1/alerts")
            if not r or r["status"] != "success":
                return None
            alerts = [a for a in r["data"]["alerts"] if a["state"] == "firing"]
            if any(a["labels"]["alertname"] == "TickrMeterSymbolTimeouts"
                   and a["labels"].get("symbol") == FAILING for a in alerts):
                return alerts
            return None
        alerts = self.until(deadline, firing, "TickrMeterSymbolTimeouts firing for " + FAILING)
        timeouts = [a for a in alerts if a["labels"]["alertname"] == "TickrMeterSymbolTimeouts"]
        self.assertEqual([a["labels"]["symbol"] for a in timeouts], [FAILING])
        a = timeouts[0]
        self.assertEqual(a["labels"]["severity"], "critical")
        self.assertEqual(a["labels"]["job"], "tkmprom")
        self.assertIn("Requests for %s are timing out" % FAILING, a["annotations"]["summary"])
        # Half of the resolved requests time out: the answer-rate alert is right
        # to fire too, and so is the per-backend one (the answers carry no
        # symbolType, so every request counts under backend "unknown"); nothing
        # else may (no slow answers, drops, restarts, ...).
        names = {x["labels"]["alertname"] for x in alerts}
        self.assertLessEqual(names, {"TickrMeterSymbolTimeouts", "TickrMeterAnswerRateLow",
                                     "TickrMeterBackendTimeouts"}, alerts)

        # Every shipped rule loaded and evaluates without error on real data.
        rules = self.api("/api/v1/rules")
        loaded = [r for g in rules["data"]["groups"] for r in g["rules"]]
        with open(os.path.join(SOURCE_ROOT, "conf", "tkmprom-rules.yml")) as f:
            shipped = [r["alert"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
        self.assertEqual(sorted(r["name"] for r in loaded), sorted(shipped))
        for r in loaded:
            self.assertEqual(r["health"], "ok", (r["name"], r.get("lastError")))

        # The dashboard: every expression is valid PromQL and returns data.
        def all_dashboard_data():
            empty = []
            for title, expr in dashboard_exprs():
                r = self.query(expr)
                self.assertIsNotNone(r, expr)
                self.assertEqual(r["status"], "success", (title, expr, r.get("error")))
                if not r["data"]["result"]:
                    empty.append((title, expr))
            state["empty"] = empty
            return not empty
        state = {}
        try:
            self.until(deadline, all_dashboard_data, "every dashboard expression to return data")
        except AssertionError:
            self.fail("dashboard expressions without data: %r" % state.get("empty"))

        # The panels an operator opens first, by value.
        def first(expr):
            return float(self.query(expr)["data"]["result"][0]["value"][1])
        self.assertGreater(first('sum(rate(tickrmeter_symbol_timeout_total{symbol="%s"}[10s]))'
                                 % FAILING), 1)
        self.assertEqual(first('sum(rate(tickrmeter_symbol_timeout_total{symbol="%s"}[10s]))'
                               % ANSWERED), 0)
        self.assertGreater(first('sum(rate(tickrmeter_stock_update_responses_total{symbol="%s"}'
                                 '[10s]))' % ANSWERED), 1)
        self.assertEqual(first("sum(tickrmeter_devices_online)"), len(DEVICES))
        self.assertEqual(first('sum(tickrmeter_devices_battery_level{upper_bound="100"})'),
                         len(DEVICES))
        self.assertEqual(first("sum(tickrmeter_devices_charging)"), 1)

        # The README's walk-through is valid PromQL too.
        exprs = readme_exprs()
        self.assertGreater(len(exprs), 8)
        for expr in exprs:
            r = self.query(expr)
            self.assertEqual(r and r["status"], "success", (expr, r))


def urllib_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


if __name__ == "__main__":
    unittest.main(verbosity=2)
