#!/usr/bin/env python3
"""Writes conf/grafana-dashboard.json, the tkmprom Grafana dashboard.

    python3 conf/make-grafana-dashboard.py > conf/grafana-dashboard.json

Edit the panels here, not in the JSON: the ops tests check that the committed
JSON is what this script writes, that every tickrmeter_* name in it is one the
plugin exports, and (with a real Prometheus) that the key expressions return
data. Importable into Grafana 9/10 (schemaVersion 38); the data source is the
input/variable DS_PROMETHEUS.
"""

import json
import sys

DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
# Every selector narrows to the chosen job and instance; per-symbol ones also
# to the chosen symbols.
SEL = 'job=~"$job",instance=~"$instance"'
SYM = SEL + ',symbol=~"$symbol"'
RI = "$__rate_interval"


class Layout:
    """Hands out panel ids and grid positions, row by row (24 columns)."""

    def __init__(self):
        self.panels = []
        self.next_id = 1
        self.x = 0
        self.y = 0
        self.row_h = 0

    def _id(self):
        self.next_id += 1
        return self.next_id - 1

    def row(self, title):
        self._newline()
        self.panels.append({"type": "row", "title": title, "id": self._id(), "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1

    def _newline(self):
        if self.x:
            self.y += self.row_h
            self.x = 0
            self.row_h = 0

    def add(self, panel, w=12, h=8):
        if self.x + w > 24:
            self._newline()
        panel["id"] = self._id()
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        panel.setdefault("datasource", DS)
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)


def target(expr, legend="", ref="A", instant=False, fmt="time_series"):
    t = {"datasource": DS, "expr": expr, "legendFormat": legend or "__auto", "refId": ref,
         "range": not instant, "instant": instant, "format": fmt}
    return t


def timeseries(title, targets, unit="short", description="", stack=False, min0=True):
    custom = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if not stack else 60,
              "showPoints": "never", "spanNulls": False,
              "stacking": {"mode": "normal" if stack else "none", "group": "A"}}
    defaults = {"unit": unit, "custom": custom}
    if min0:
        defaults["min"] = 0
    return {"type": "timeseries", "title": title, "description": description,
            "targets": targets,
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {"legend": {"displayMode": "table", "placement": "right",
                                   "showLegend": True, "calcs": ["lastNotNull", "max"]},
                        "tooltip": {"mode": "multi", "sort": "desc"}}}


def stat(title, targets, unit="short", description="", thresholds=None):
    steps = thresholds or [{"color": "green", "value": None}]
    return {"type": "stat", "title": title, "description": description, "targets": targets,
            "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute",
                                                                      "steps": steps}},
                            "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "",
                                          "values": False},
                        "colorMode": "value", "graphMode": "area", "textMode": "auto",
                        "orientation": "auto", "justifyMode": "auto"}}


def bargauge(title, targets, unit="short", description=""):
    return {"type": "bargauge", "title": title, "description": description, "targets": targets,
            "fieldConfig": {"defaults": {"unit": unit, "min": 0,
                                         "thresholds": {"mode": "absolute", "steps": [
                                             {"color": "blue", "value": None}]}},
                            "overrides": []},
            "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "",
                                          "values": False},
                        "orientation": "horizontal", "displayMode": "gradient",
                        "showUnfilled": True}}


def build():
    L = Layout()

    # ------------------------------------------------------------------ backend
    L.row("Backend: quote requests and answers per symbol")
    L.add(stat("Answered share of resolved requests", [target(
        'sum(rate(tickrmeter_stock_update_responses_total{%s}[5m])) / ('
        'sum(rate(tickrmeter_stock_update_responses_total{%s}[5m])) + '
        'sum(rate(tickrmeter_stock_update_errors_total{%s}[5m])) + '
        'sum(rate(tickrmeter_symbol_timeout_total{%s}[5m])))' % (SEL, SEL, SEL, SEL),
        "answered")], unit="percentunit",
        description="Answered ÷ (answered + error replies + timeouts) over 5 minutes, all "
                    "symbols. TickrMeterAnswerRateLow fires below 90 %.",
        thresholds=[{"color": "red", "value": None}, {"color": "orange", "value": 0.9},
                    {"color": "green", "value": 0.97}]), w=6, h=6)
    L.add(stat("Requests /s", [target(
        'sum(rate(tickrmeter_stock_update_requests_total{%s}[%s]))' % (SEL, RI), "requests")],
        unit="reqps"), w=6, h=6)
    L.add(stat("Timeouts /s", [target(
        'sum(rate(tickrmeter_symbol_timeout_total{%s}[%s]))' % (SEL, RI), "timeouts")],
        unit="reqps", thresholds=[{"color": "green", "value": None},
                                  {"color": "red", "value": 0.1}]), w=6, h=6)
    L.add(stat("Pending now", [target(
        'sum(tickrmeter_stock_update_pending{%s})' % SEL, "pending")],
        description="Requests waiting for an answer (at most request_timeout old)."), w=6, h=6)

    per_symbol = [
        ("Requests /s by symbol (top $topk)", "tickrmeter_stock_update_requests_total",
         "Stock update requests seen on STOCKPRICEUPDATE."),
        ("Answers /s by symbol (top $topk)", "tickrmeter_stock_update_responses_total",
         "Requests answered by a quote on the device topic."),
        ("Error replies /s by symbol (top $topk)", "tickrmeter_stock_update_errors_total",
         "Requests answered by an error reply (NO_CONFIG, page error, ...)."),
        ("Timeouts /s by symbol (top $topk)", "tickrmeter_symbol_timeout_total",
         "Requests unanswered after plugin_opt_request_timeout. "
         "TickrMeterSymbolTimeouts fires above 0.1/s for 2 minutes."),
    ]
    for title, metric, description in per_symbol:
        L.add(timeseries(title, [target(
            'topk($topk, sum by (symbol) (rate(%s{%s}[%s])))' % (metric, SYM, RI),
            "{{symbol}}")], unit="reqps", description=description))

    L.add({"type": "table", "title": "Slowest symbols now (top $topk by windowed average)",
           "description": "The plugin's windowed average latency "
                          "(tickrmeter_symbol_avg_latency_seconds, over "
                          "plugin_opt_quantile_window), its p95, and the timeout rate over "
                          "5 minutes. Symbols without an answer in the window have no "
                          "average. The plugin's /api/v1/symbols/slowest ranks the same way.",
           "targets": [
               target('topk($topk, tickrmeter_symbol_avg_latency_seconds{%s})' % SYM,
                      ref="A", instant=True, fmt="table"),
               target('tickrmeter_symbol_latency_seconds{%s,quantile="0.95"} and on '
                      '(job, instance, symbol) topk($topk, '
                      'tickrmeter_symbol_avg_latency_seconds{%s})' % (SYM, SYM),
                      ref="B", instant=True, fmt="table"),
               target('sum by (job, instance, symbol) (rate(tickrmeter_symbol_timeout_total'
                      '{%s}[5m])) and on (job, instance, symbol) topk($topk, '
                      'tickrmeter_symbol_avg_latency_seconds{%s})' % (SYM, SYM),
                      ref="C", instant=True, fmt="table"),
           ],
           "transformations": [
               {"id": "merge", "options": {}},
               {"id": "organize", "options": {
                   "excludeByName": {"Time": True, "__name__": True, "quantile": True},
                   "renameByName": {"Value #A": "avg latency", "Value #B": "p95 latency",
                                    "Value #C": "timeouts /s"}}},
               {"id": "sortBy", "options": {"sort": [{"field": "avg latency", "desc": True}]}},
           ],
           "fieldConfig": {"defaults": {"unit": "s"}, "overrides": [
               {"matcher": {"id": "byName", "options": "timeouts /s"},
                "properties": [{"id": "unit", "value": "reqps"}]}]},
           "options": {"showHeader": True}}, w=12, h=10)
    L.add(timeseries("Windowed average latency (top $topk)", [target(
        'topk($topk, tickrmeter_symbol_avg_latency_seconds{%s})' % SYM, "{{symbol}}")],
        unit="s", description="Mean latency of the answers in the plugin's quantile window. "
                              "TickrMeterSymbolSlow fires above 10 s for 5 minutes."),
        w=12, h=10)

    L.add(timeseries("Latency quantiles from the plugin (summary, selected symbols)", [target(
        'max by (symbol, quantile) (tickrmeter_symbol_latency_seconds{%s,quantile=~"0.5|0.95|0.99"})'
        ' and on (symbol) topk($topk, max by (symbol) (tickrmeter_symbol_avg_latency_seconds{%s}))'
        % (SYM, SYM), "{{symbol}} q{{quantile}}")], unit="s",
        description="tickrmeter_symbol_latency_seconds: quantiles over the plugin's window "
                    "within 1 % relative error, for the selected symbols with the highest "
                    "windowed average. Quantiles cannot be averaged across symbols."))
    L.add(timeseries("Latency quantiles from the histogram (selected symbols together)", [
        target('histogram_quantile(%s, sum by (le) (rate('
               'tickrmeter_stock_update_latency_seconds_bucket{%s}[%s])))' % (q, SYM, RI),
               legend, ref=ref)
        for q, legend, ref in (("0.5", "p50", "A"), ("0.9", "p90", "B"), ("0.99", "p99", "C"))] + [
        target('sum(rate(tickrmeter_stock_update_latency_seconds_sum{%s}[%s])) / '
               'sum(rate(tickrmeter_stock_update_latency_seconds_count{%s}[%s]))'
               % (SYM, RI, SYM, RI), "mean", ref="D")], unit="s",
        description="Estimated from tickrmeter_stock_update_latency_seconds buckets "
                    "(plugin_opt_latency_buckets): coarse, but aggregates across symbols "
                    "and brokers."))
    L.add({"type": "heatmap", "title": "Answer latency heatmap (selected symbols)",
           "description": "Answers per latency bucket and interval, from the histogram.",
           "targets": [target(
               'sum by (le) (increase(tickrmeter_stock_update_latency_seconds_bucket{%s}[%s]))'
               % (SYM, RI), "{{le}}", fmt="heatmap")],
           "fieldConfig": {"defaults": {}, "overrides": []},
           "options": {"calculate": False, "cellGap": 1,
                       "color": {"mode": "scheme", "scheme": "Oranges", "scale": "exponential",
                                 "exponent": 0.5, "steps": 64, "reverse": False},
                       "yAxis": {"axisPlacement": "left", "unit": "s"},
                       "rowsFrame": {"layout": "le"},
                       "tooltip": {"show": True, "yHistogram": True},
                       "legend": {"show": True}, "exemplars": {"color": "rgba(255,0,255,0.7)"},
                       "filterValues": {"le": 1e-9}}}, w=24, h=9)
    L.add(timeseries("Unmatched answers /s by reason", [target(
        'sum by (reason) (rate(tickrmeter_stock_update_unmatched_responses_total{%s}[%s]))'
        % (SEL, RI), "{{reason}}")], unit="reqps",
        description="Answers that resolved no pending request: late (after its timeout), "
                    "duplicate (already answered; several handler instances answer "
                    "each request), unsolicited."), w=8)
    L.add(timeseries("Pending by symbol (top $topk)", [target(
        'topk($topk, sum by (symbol) (tickrmeter_stock_update_pending{%s}))' % SYM,
        "{{symbol}}")], description="Requests waiting for an answer now."), w=8)
    L.add(timeseries("Superseded /s by symbol (top $topk)", [target(
        'topk($topk, sum by (symbol) (rate(tickrmeter_stock_update_superseded_total{%s}[%s])))'
        % (SYM, RI), "{{symbol}}")], unit="reqps",
        description="Requests replaced by a newer one for the same device and symbol "
                    "before any answer (the device asked again)."), w=8)

    # ----------------------------------------------------------------- backends
    # Per quote backend (the answers' symbolType, contract §7.5); backend
    # "unknown" holds requests of symbols no answer has named a backend for.
    L.row("Backends")
    L.add(timeseries("Requests /s by backend", [target(
        'sum by (backend) (rate(tickrmeter_backend_requests_total{%s}[%s]))' % (SEL, RI),
        "{{backend}}")], unit="reqps", stack=True,
        description="Stock update requests, counted under the backend their symbol's last "
                    "answer named (unknown before its first answer)."))
    share = timeseries("Answered share of resolved requests by backend", [target(
        'sum by (backend) (rate(tickrmeter_backend_responses_total{%s}[5m])) / ('
        'sum by (backend) (rate(tickrmeter_backend_responses_total{%s}[5m])) + '
        'sum by (backend) (rate(tickrmeter_backend_errors_total{%s}[5m])) + '
        'sum by (backend) (rate(tickrmeter_backend_timeouts_total{%s}[5m])))'
        % (SEL, SEL, SEL, SEL), "{{backend}}")], unit="percentunit",
        description="Answered ÷ (answered + error replies + timeouts) over 5 minutes, per "
                    "backend.")
    share["fieldConfig"]["defaults"]["max"] = 1
    L.add(share)
    L.add(timeseries("Latency p95 by backend (from the histogram)", [target(
        'histogram_quantile(0.95, sum by (backend, le) (rate('
        'tickrmeter_backend_latency_seconds_bucket{%s}[%s])))' % (SEL, RI), "{{backend}}")],
        unit="s",
        description="Estimated from tickrmeter_backend_latency_seconds buckets "
                    "(plugin_opt_latency_buckets), so coarse between bounds. "
                    "TickrMeterBackendSlow fires above 5 s for 10 minutes."))
    L.add(timeseries("Timeouts /s by backend", [target(
        'sum by (backend) (rate(tickrmeter_backend_timeouts_total{%s}[%s]))' % (SEL, RI),
        "{{backend}}")], unit="reqps",
        description="Requests unanswered after plugin_opt_request_timeout. "
                    "TickrMeterBackendTimeouts fires when more than 10 % of a backend's "
                    "resolved requests time out for 10 minutes."))

    # -------------------------------------------------------------------- fleet
    L.row("Fleet: devices")
    L.add(stat("Devices online", [target('sum(tickrmeter_devices_online{%s})' % SEL,
                                         "online")]), w=6, h=5)
    L.add(stat("Devices charging", [target('sum(tickrmeter_devices_charging{%s})' % SEL,
                                           "charging")]), w=6, h=5)
    L.add(stat("Devices tracked", [target('sum(tickrmeter_devices_tracked{%s})' % SEL,
                                          "tracked")],
               description="Devices held in memory (online or silent for less than twice "
                           "device_timeout); capped by plugin_opt_max_devices."), w=6, h=5)
    L.add(stat("Boots /h", [target(
        'sum(rate(tickrmeter_device_boots_total{%s}[1h])) * 3600' % SEL, "boots")]),
        w=6, h=5)
    L.add(timeseries("Online by firmware_version", [target(
        'sum by (firmware_version) (tickrmeter_devices_online{%s})' % SEL,
        "{{firmware_version}}")], stack=True,
        description="Labelled from each device's last heartbeat; 'unknown' until one "
                    "arrives."))
    L.add(timeseries("Online by flash_id", [target(
        'sum by (flash_id) (tickrmeter_devices_online{%s})' % SEL, "{{flash_id}}")],
        stack=True))
    L.add(timeseries("Charging", [
        target('sum(tickrmeter_devices_charging{%s})' % SEL, "charging"),
        target('sum(tickrmeter_devices_online{%s})' % SEL, "online", ref="B")]), w=8)
    L.add(bargauge("Battery level (online devices, at or below each bound, %)", [target(
        'sum by (upper_bound) (tickrmeter_devices_battery_level{%s})' % SEL,
        "≤ {{upper_bound}} %", instant=True)],
        description="Cumulative: devices whose last reported battery level is at or below "
                    "upper_bound."), w=8)
    L.add(bargauge("Uptime (online devices, at or below each bound)", [target(
        'sum by (upper_bound) (tickrmeter_devices_uptime_seconds{%s})' % SEL,
        "≤ {{upper_bound}} s", instant=True)],
        description="Cumulative: devices whose last reported uptime is at or below "
                    "upper_bound seconds (1 h, 1 d, 7 d, 30 d)."), w=8)
    L.add(timeseries("Boots /h by firmware_version", [target(
        'sum by (firmware_version) (rate(tickrmeter_device_boots_total{%s}[%s])) * 3600'
        % (SEL, RI), "{{firmware_version}}")],
        description="Each boot counted once (repeated announcements and heartbeat uptime "
                    "drops folded)."))
    L.add(timeseries("Messages /s by kind", [target(
        'sum by (kind) (rate(tickrmeter_messages_total{%s}[%s]))' % (SEL, RI), "{{kind}}")],
        unit="reqps", stack=True))

    # ------------------------------------------------------------------- plugin
    L.row("Plugin health")
    L.add(timeseries("Invalid messages /s by kind and reason", [target(
        'sum by (kind, reason) (rate(tickrmeter_messages_invalid_total{%s}[%s]))'
        % (SEL, RI), "{{kind}} {{reason}}")], unit="reqps",
        description="Messages that could not be used: json, field (missing or mistyped), "
                    "device (id not matching device_id_pattern), truncated."), w=8)
    L.add(timeseries("Turned away by a cap /s (tracking dropped)", [target(
        'sum by (table) (rate(tickrmeter_tracking_dropped_total{%s}[%s]))' % (SEL, RI),
        "{{table}}")], unit="reqps",
        description="Entries not stored because plugin_opt_max_devices / max_symbols (or "
                    "the pending table) is full."), w=8)
    L.add(timeseries("Observations dropped and companion restarts", [
        target('sum by (instance) (increase(tickrmeter_observations_dropped_total{%s}[%s]))'
               % (SEL, RI), "dropped {{instance}}"),
        target('sum by (instance) (increase(tickrmeter_companion_restarts_total{%s}[%s]))'
               % (SEL, RI), "restarts {{instance}}", ref="B")],
        description="Publishes the broker could not hand to the companion (ring full, "
                    "companion down), and companion restarts."), w=8)
    L.add({"type": "table", "title": "Build", "targets": [target(
        'tickrmeter_build_info{%s}' % SEL, instant=True, fmt="table")],
        "transformations": [{"id": "organize", "options": {
            "excludeByName": {"Time": True, "__name__": True, "Value": True}}}],
        "fieldConfig": {"defaults": {}, "overrides": []},
        "options": {"showHeader": True}}, w=24, h=4)

    templating = [
        {"type": "datasource", "name": "DS_PROMETHEUS", "label": "Data source",
         "query": "prometheus", "current": {}, "hide": 0, "refresh": 1, "regex": "",
         "options": []},
        {"type": "query", "name": "job", "label": "Job", "datasource": DS,
         "definition": "label_values(tickrmeter_build_info, job)",
         "query": {"query": "label_values(tickrmeter_build_info, job)", "refId": "job"},
         "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*",
         "current": {}, "options": [], "sort": 1, "hide": 0, "regex": ""},
        {"type": "query", "name": "instance", "label": "Broker", "datasource": DS,
         "definition": 'label_values(tickrmeter_build_info{job=~"$job"}, instance)',
         "query": {"query": 'label_values(tickrmeter_build_info{job=~"$job"}, instance)',
                   "refId": "instance"},
         "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*",
         "current": {}, "options": [], "sort": 1, "hide": 0, "regex": ""},
        {"type": "query", "name": "symbol", "label": "Symbol", "datasource": DS,
         "definition": 'label_values(tickrmeter_stock_update_requests_total{%s}, symbol)' % SEL,
         "query": {"query": 'label_values(tickrmeter_stock_update_requests_total{%s}, symbol)'
                            % SEL, "refId": "symbol"},
         "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*",
         "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
         "options": [], "sort": 1, "hide": 0, "regex": ""},
        {"type": "custom", "name": "topk", "label": "Top", "query": "5,10,20,50",
         "current": {"selected": True, "text": "10", "value": "10"},
         "options": [{"selected": v == "10", "text": v, "value": v}
                     for v in ("5", "10", "20", "50")],
         "hide": 0, "includeAll": False, "multi": False},
    ]

    return {
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus",
                      "description": "The Prometheus that scrapes tkmprom",
                      "type": "datasource", "pluginId": "prometheus",
                      "pluginName": "Prometheus"}],
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.4.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
            {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
            {"type": "panel", "id": "stat", "name": "Stat", "version": ""},
            {"type": "panel", "id": "table", "name": "Table", "version": ""},
            {"type": "panel", "id": "heatmap", "name": "Heatmap", "version": ""},
            {"type": "panel", "id": "bargauge", "name": "Bar gauge", "version": ""},
        ],
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "description": "TickrMeter fleet and quote backends, from the tkmprom Mosquitto plugin",
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [],
        "liveNow": False,
        "panels": L.panels,
        "refresh": "30s",
        "schemaVersion": 38,
        "style": "dark",
        "tags": ["tkmprom", "tickrmeter", "mqtt"],
        "templating": {"list": templating},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "",
        "title": "TickrMeter fleet (tkmprom)",
        "uid": "tkmprom-fleet",
        "version": 1,
        "weekStart": "",
    }


if __name__ == "__main__":
    json.dump(build(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
