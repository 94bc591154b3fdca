"""Every tickrmeter_* name the dashboard, the alert rules and the README's
PromQL use is one the plugin exports.

The exported names come from live scrapes of the built plugin with traffic
(so per-symbol and per-device families exist): once with the default options,
once with per_device_metrics true. Histogram and summary sample suffixes
(_bucket/_sum/_count) are accepted only on families of those types. The
contract's §4 and §7.5 names must all be among the scraped ones, so a rename
in the plugin fails here rather than in an operator's Grafana. Also checks that the
committed dashboard JSON is what conf/make-grafana-dashboard.py writes.
"""

import json
import os
import re
import subprocess
import sys
import unittest

from harness import Broker, close
import fleet_traffic as ft

SOURCE_ROOT = os.environ.get("TKMPROM_SOURCE_ROOT",
                             os.path.join(os.path.dirname(__file__), "..", ".."))
CONF = os.path.join(SOURCE_ROOT, "conf")

# plugin-contract.md §4 (default configuration and per_device_metrics true)
# and §7.5.
CONTRACT_NAMES = {
    "tickrmeter_stock_update_requests_total": "counter",
    "tickrmeter_stock_update_responses_total": "counter",
    "tickrmeter_stock_update_errors_total": "counter",
    "tickrmeter_symbol_timeout_total": "counter",
    "tickrmeter_stock_update_latency_seconds": "histogram",
    "tickrmeter_symbol_avg_latency_seconds": "gauge",
    "tickrmeter_symbol_latency_seconds": "summary",
    "tickrmeter_stock_update_superseded_total": "counter",
    "tickrmeter_stock_update_pending": "gauge",
    "tickrmeter_stock_update_unmatched_responses_total": "counter",
    "tickrmeter_devices_online": "gauge",
    "tickrmeter_devices_tracked": "gauge",
    "tickrmeter_devices_charging": "gauge",
    "tickrmeter_device_boots_total": "counter",
    "tickrmeter_devices_battery_level": "gauge",
    "tickrmeter_devices_uptime_seconds": "gauge",
    "tickrmeter_device_battery_level": "gauge",
    "tickrmeter_device_uptime_seconds": "gauge",
    "tickrmeter_device_vin_level": "gauge",
    "tickrmeter_device_wifi_disconnects": "gauge",
    "tickrmeter_device_charging": "gauge",
    "tickrmeter_device_last_seen_timestamp_seconds": "gauge",
    "tickrmeter_messages_total": "counter",
    "tickrmeter_messages_invalid_total": "counter",
    "tickrmeter_tracking_dropped_total": "counter",
    "tickrmeter_observations_dropped_total": "counter",
    "tickrmeter_companion_restarts_total": "counter",
    "tickrmeter_build_info": "gauge",
    # §7.5, per quote backend.
    "tickrmeter_backend_requests_total": "counter",
    "tickrmeter_backend_responses_total": "counter",
    "tickrmeter_backend_errors_total": "counter",
    "tickrmeter_backend_timeouts_total": "counter",
    "tickrmeter_backend_superseded_total": "counter",
    "tickrmeter_backend_pending": "gauge",
    "tickrmeter_backend_latency_seconds": "histogram",
}

SAMPLE_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
NAME = re.compile(r"(?<![A-Za-z0-9_:])tickrmeter_[A-Za-z0-9_]+")


def families_of(text):
    """{family name: type} from the # TYPE lines of a text exposition."""
    return dict(re.findall(r"(?m)^# TYPE (\S+) (\S+)$", text))


def unknown_names(text, families):
    """tickrmeter_* names in text that are neither a family nor a sample
    name its type allows (a histogram's _bucket, ...)."""
    unknown = set()
    for name in NAME.findall(text):
        if name in families:
            continue
        ok = False
        for kind, suffixes in SAMPLE_SUFFIXES.items():
            for suffix in suffixes:
                if name.endswith(suffix) and families.get(name[:-len(suffix)]) == kind:
                    ok = True
        if not ok:
            unknown.add(name)
    return unknown


def scrape_with_traffic(options):
    with Broker(dict(options, request_timeout="1")) as b:
        c = b.client("ops-names")
        ft.small_fleet(c)
        close(c)
        # Wait for the timeouts so every per-symbol family has its samples.
        b.wait_metric("tickrmeter_symbol_timeout_total", 4.0, symbol="FAIL")
        return b.metrics_text()


def promql_blocks(markdown):
    return "\n".join(re.findall(r"```promql\n(.*?)```", markdown, re.S))


class MetricNamesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.families = {}
        for options in ({}, {"per_device_metrics": "true"}):
            cls.families.update(families_of(scrape_with_traffic(options)))

    def test_contract_names_are_exported_with_their_types(self):
        for name, kind in CONTRACT_NAMES.items():
            self.assertEqual(self.families.get(name), kind, name)

    def test_the_checker_itself(self):
        f = {"tickrmeter_a_seconds": "histogram", "tickrmeter_b": "gauge",
             "tickrmeter_c_seconds": "summary"}
        self.assertEqual(unknown_names(
            'rate(tickrmeter_a_seconds_bucket[5m]) tickrmeter_a_seconds_sum tickrmeter_b '
            'tickrmeter_c_seconds_count tickrmeter_c_seconds{quantile="0.5"}', f), set())
        self.assertEqual(unknown_names(
            'tickrmeter_b_bucket tickrmeter_c_seconds_bucket tickrmeter_d x_tickrmeter_e', f),
            {"tickrmeter_b_bucket", "tickrmeter_c_seconds_bucket", "tickrmeter_d"})

    def test_dashboard_uses_only_exported_names(self):
        with open(os.path.join(CONF, "grafana-dashboard.json")) as f:
            text = f.read()
        dashboard = json.loads(text)
        exprs = []

        def walk(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k in ("expr", "query", "definition") and isinstance(v, str):
                        exprs.append(v)
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(dashboard)
        self.assertGreater(len(exprs), 30)
        used = set(NAME.findall("\n".join(exprs)))
        self.assertGreater(len(used), 20, "the dashboard should cover most families")
        # Everything in the file, descriptions too, not only the expressions.
        self.assertEqual(unknown_names(text, self.families), set())

    def test_dashboard_is_what_the_generator_writes(self):
        generated = subprocess.run([sys.executable, os.path.join(CONF, "make-grafana-dashboard.py")],
                                   stdout=subprocess.PIPE, check=True, text=True).stdout
        with open(os.path.join(CONF, "grafana-dashboard.json")) as f:
            self.assertEqual(f.read(), generated,
                             "run: python3 conf/make-grafana-dashboard.py > conf/grafana-dashboard.json")

    def test_dashboard_shape(self):
        with open(os.path.join(CONF, "grafana-dashboard.json")) as f:
            d = json.load(f)
        self.assertEqual(d["schemaVersion"], 38)
        self.assertEqual([i["name"] for i in d["__inputs"]], ["DS_PROMETHEUS"])
        variables = {v["name"]: v for v in d["templating"]["list"]}
        self.assertEqual(variables["DS_PROMETHEUS"]["type"], "datasource")
        ids = [p["id"] for p in d["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
        for p in d["panels"]:
            if p["type"] == "row":
                continue
            self.assertEqual(p["datasource"]["uid"], "${DS_PROMETHEUS}", p["title"])
            self.assertTrue(p["targets"], p["title"])
            for t in p["targets"]:
                self.assertEqual(t["datasource"]["uid"], "${DS_PROMETHEUS}", p["title"])

    def test_rules_use_only_exported_names(self):
        import yaml
        with open(os.path.join(CONF, "tkmprom-rules.yml")) as f:
            rules = yaml.safe_load(f)
        exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
        self.assertTrue(exprs)
        for expr in exprs:
            self.assertEqual(unknown_names(expr, self.families), set(), expr)

    def test_readme_promql_uses_only_exported_names(self):
        with open(os.path.join(SOURCE_ROOT, "README.md")) as f:
            blocks = promql_blocks(f.read())
        self.assertTrue(NAME.search(blocks), "the README's walk-through has ```promql blocks")
        self.assertEqual(unknown_names(blocks, self.families), set())


if __name__ == "__main__":
    unittest.main(verbosity=2)
