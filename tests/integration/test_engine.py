"""A scripted conversation of several devices through a real broker and the
exact metrics the contract implies (issue: the TickrMeter engine)."""

import json
import subprocess
import time
import unittest

from harness import Broker, PROMTOOL, close, publish_all, series, value

D1, D2, D3, D4, D5 = ("A00000000001", "A00000000002", "A00000000003", "A00000000004",
                      "A00000000005")


def request(device, symbol=None):
    body = {"type": "UPDATE", "device": device}
    if symbol is not None:
        body["symbol"] = symbol
    return ("STOCKPRICEUPDATE", json.dumps(body, separators=(",", ":")), 1, False)


def single_answer(device, symbol, kind="UPDATE"):
    return (device, json.dumps({"symbol": symbol, "price": "$1.00", "p": 1.0, "isPlaylist": False,
                                "type": kind, "interval": "300"}), 1, False)


def playlist_answer(device, symbol, symbols, index, kind="UPDATE"):
    return (device, json.dumps({"symbol": symbol, "price": "$1", "p": 1.0, "isPlaylist": True,
                                "type": kind, "symbols": symbols, "symbolIndex": index,
                                "updateInterval": "120"}), 1, False)


def typed_answer(device, symbol, symbol_type):
    """A playlist UPDATE with symbolIndex -1 (matched by its symbol) naming
    a quote backend; symbol_type as sent (a number or a string)."""
    return (device, json.dumps({"symbol": symbol, "price": "$1", "p": 1.0, "isPlaylist": True,
                                "type": "UPDATE", "symbols": "", "symbolIndex": -1,
                                "symbolType": symbol_type, "updateInterval": "120"}), 1, False)


def error_answer(device):
    return (device, '{"type":"NO_CONFIG","success":false,"message":"No configuration found."}',
            1, False)


def boot(device, topic="TICKRMETERBOOT"):
    return (topic, '{"type":"BOOT","device":"%s"}' % device, 1, False)


HEARTBEAT = ("DEVICESTATUS_RES",
             '{"status":"online","firmware_version":"70p","device":"%s","battery":"87",'
             '"vin":"1830","uptime":"86400","isCharging":"0","wflct":"3","iv":"elec+HB", '
             '"xmc":"1", "flashID":"C84016"}' % D1, 1, False)

LEDGER = ["tickrmeter_stock_update_responses_total", "tickrmeter_stock_update_errors_total",
          "tickrmeter_symbol_timeout_total", "tickrmeter_stock_update_superseded_total",
          "tickrmeter_stock_update_pending"]


class EngineConversationTest(unittest.TestCase):

    def test_scripted_conversation_yields_the_contracts_counts(self):
        options = {"request_timeout": "2", "latency_buckets": "0.5,5", "quantile_window": "60",
                   "ranking_min_requests": "1"}
        with Broker(options=options) as b:
            dev = b.client("devices")
            backend = b.client("mqttjs_backend1")
            # D1, single mode: the first symbol-less request is "unknown"; its
            # answer teaches AAPL, so the second counts under AAPL.
            publish_all(dev, [request(D1), HEARTBEAT])
            publish_all(backend, [single_answer(D1, "AAPL")])
            publish_all(dev, [request(D1)])
            time.sleep(1.0)
            publish_all(backend, [single_answer(D1, "AAPL")])
            # D2, playlist: entry 0 answered twice (NEW + UPDATE as BTC), a
            # duplicate, and MSFT never answered in time.
            publish_all(dev, [request(D2), request(D2, "BTC/USD"), request(D2, "MSFT")])
            publish_all(backend, [
                playlist_answer(D2, "BTC", "BTC/USD,MSFT", 0, kind="NEW"),
                playlist_answer(D2, "BTC", "BTC/USD,MSFT", 0),
                playlist_answer(D2, "BTC", "BTC/USD,MSFT", 0)])
            # D3: an error answer.
            publish_all(dev, [request(D3)])
            publish_all(backend, [error_answer(D3)])
            # D4: one boot announced three times, echoed twice; an answer on
            # its topic (a boot answer, unsolicited), then a new boot.
            publish_all(dev, [boot(D4), boot(D4), boot(D4)])
            publish_all(backend, [boot(D4, "DEVICE_BOOTED"), boot(D4, "DEVICE_BOOTED"),
                                  single_answer(D4, "IBM", kind="NEW")])
            publish_all(dev, [boot(D4)])
            # D5: a push nobody asked for.
            publish_all(backend, [single_answer(D5, "TSLA", kind="NEW")])
            # MSFT times out after 2 s; then its answer arrives late.
            b.wait_metric("tickrmeter_symbol_timeout_total", 1.0, symbol="MSFT")
            publish_all(backend, [playlist_answer(D2, "MSFT", "BTC/USD,MSFT", 1)])
            m = b.wait_metric("tickrmeter_stock_update_unmatched_responses_total", 1.0,
                              reason="late")
            close(dev)
            close(backend)

            def v(name, **labels):
                return value(m, name, **labels)

            self.assertEqual(series(m, "tickrmeter_stock_update_requests_total"), {
                (("symbol", "unknown"),): 3.0, (("symbol", "AAPL"),): 1.0,
                (("symbol", "BTC/USD"),): 1.0, (("symbol", "MSFT"),): 1.0})
            self.assertEqual(v("tickrmeter_stock_update_responses_total", symbol="unknown"), 2)
            self.assertEqual(v("tickrmeter_stock_update_responses_total", symbol="AAPL"), 1)
            self.assertEqual(v("tickrmeter_stock_update_responses_total", symbol="BTC/USD"), 1)
            self.assertEqual(v("tickrmeter_stock_update_responses_total", symbol="MSFT"), 0)
            self.assertEqual(v("tickrmeter_stock_update_errors_total", symbol="unknown"), 1)
            self.assertEqual(v("tickrmeter_symbol_timeout_total", symbol="MSFT"), 1)
            self.assertEqual(v("tickrmeter_symbol_timeout_total", symbol="unknown"), 0)
            for reason, n in (("late", 1), ("duplicate", 1), ("unsolicited", 2)):
                self.assertEqual(
                    v("tickrmeter_stock_update_unmatched_responses_total", reason=reason), n,
                    reason)
            # The ledger adds up for every symbol, with nothing pending.
            for labels, requests in series(m, "tickrmeter_stock_update_requests_total").items():
                parts = [value(m, name, **dict(labels)) or 0 for name in LEDGER]
                self.assertEqual(requests, sum(parts), labels)
                self.assertEqual(value(m, "tickrmeter_stock_update_pending", **dict(labels)), 0)
            # Latency buckets: immediate answers below 0.5 s, AAPL's after 1 s.
            h = "tickrmeter_stock_update_latency_seconds_bucket"
            self.assertEqual(v(h, symbol="unknown", le="0.5"), 2)
            self.assertEqual(v(h, symbol="unknown", le="+Inf"), 2)
            self.assertEqual(v(h, symbol="AAPL", le="0.5"), 0)
            self.assertEqual(v(h, symbol="AAPL", le="5"), 1)
            self.assertEqual(v(h, symbol="BTC/USD", le="0.5"), 1)
            self.assertEqual(v("tickrmeter_stock_update_latency_seconds_count", symbol="MSFT"), 0)
            aapl = v("tickrmeter_symbol_avg_latency_seconds", symbol="AAPL")
            self.assertTrue(1.0 <= aapl < 5, aapl)
            self.assertEqual(v("tickrmeter_symbol_latency_seconds", symbol="AAPL",
                               quantile="0.5"), aapl)
            # Boots: resends and echoes once; a boot after an answer again.
            self.assertEqual(v("tickrmeter_device_boots_total", firmware_version="unknown"), 2)
            self.assertEqual(v("tickrmeter_messages_total", kind="boot"), 4)
            self.assertEqual(v("tickrmeter_messages_total", kind="booted"), 2)
            # Devices: D1 from its heartbeat, the others under unknown labels.
            self.assertEqual(v("tickrmeter_devices_online", firmware_version="70p",
                               inner_version="elec+HB", flash_id="C84016"), 1)
            self.assertEqual(v("tickrmeter_devices_charging"), 0)
            # No device_id label without per_device_metrics.
            self.assertFalse(any("device_id" in dict(k[1]) for k in m))

            status, _, body = b.http("/api/v1/symbols/slowest?limit=2")
            self.assertEqual(status, 200)
            ranking = json.loads(body)
            self.assertEqual(ranking[0]["symbol"], "MSFT")  # timeout rate 1 → score 10
            self.assertEqual(ranking[0]["timeout_rate"], 1)
            self.assertIsNone(ranking[0]["avg_latency_seconds"])
            self.assertEqual(ranking[1]["symbol"], "AAPL")
            status, _, body = b.http("/api/v1/devices/" + D1)
            self.assertEqual(status, 200)
            d1 = json.loads(body)
            self.assertEqual(d1["firmware_version"], "70p")
            self.assertEqual(d1["battery"], 87)
            self.assertEqual(b.http("/api/v1/devices/FFFFFFFFFFFF")[0], 404)

            if PROMTOOL:
                r = subprocess.run([PROMTOOL, "check", "metrics"],
                                   input=b.metrics_text().encode(), capture_output=True)
                self.assertEqual((r.returncode, r.stdout + r.stderr), (0, b""))

    def test_tail_quantiles_case_blind_matching_and_backends(self):
        """Issue 14: seven answers after 0.3 s and one after 3.0 s give
        p90 = p95 = p99 = 3.0 s in /metrics, the API and the page; a playlist
        entry btc/usd answered as BTC with symbolIndex -1 is a response; the
        tickrmeter_backend_* families learn and add up."""
        brent = ["C000000000%02d" % i for i in range(8)]
        crypto_dev = "C00000000099"
        options = {"ranking_min_requests": "1", "request_timeout": "10"}
        with Broker(options=options) as b:
            dev = b.client("devices")
            backend = b.client("mqttjs_backend1")
            publish_all(dev, [request(d, "BRENT") for d in brent] +
                        [request(crypto_dev, "btc/usd")])
            time.sleep(0.3)
            publish_all(backend, [typed_answer(d, "BRENT", 6) for d in brent[:7]] +
                        [typed_answer(crypto_dev, "BTC", "2")])
            time.sleep(2.7)
            publish_all(backend, [typed_answer(brent[7], "BRENT", 6)])
            m = b.wait_metric("tickrmeter_stock_update_responses_total", 8.0, symbol="BRENT")

            def q(quantile):
                return value(m, "tickrmeter_symbol_latency_seconds", symbol="BRENT",
                             quantile=quantile)
            # The slowest answer is the sketch's exact maximum: all three equal.
            tail = q("0.9")
            self.assertTrue(3.0 <= tail < 3.2, tail)
            self.assertEqual(q("0.95"), tail)
            self.assertEqual(q("0.99"), tail)
            self.assertTrue(0.3 * 0.99 <= q("0.5") < 0.45, q("0.5"))
            avg = value(m, "tickrmeter_symbol_avg_latency_seconds", symbol="BRENT")
            self.assertLess(avg, tail)

            status, _, body = b.http("/api/v1/symbols/slowest")
            self.assertEqual(status, 200)
            rows = {r["symbol"]: r for r in json.loads(body)}
            self.assertEqual(rows["BRENT"]["p95_latency_seconds"], tail)
            self.assertEqual(rows["BRENT"]["backend"], "commodity")
            self.assertEqual(rows["btc/usd"]["backend"], "crypto")
            status, _, page = b.http("/?refresh=0")
            self.assertEqual(status, 200)
            self.assertIn(">BRENT</td><td class=\"mono\">commodity</td>", page.decode())
            self.assertIn("<td class=\"n\">%.2f s</td>" % tail, page.decode())
            self.assertIn('<tr id="backend-unknown">', page.decode())

            # Case-blind: btc/usd was answered by BTC, under its own label.
            self.assertEqual(value(m, "tickrmeter_stock_update_responses_total",
                                   symbol="btc/usd"), 1)
            self.assertIsNone(value(m, "tickrmeter_stock_update_requests_total", symbol="BTC"))
            self.assertEqual(value(m, "tickrmeter_stock_update_unmatched_responses_total",
                                   reason="unsolicited"), 0)

            # The first requests counted under unknown; the answers taught
            # the symbols their backends (symbolType 6 and "2").
            publish_all(dev, [request(brent[0], "BRENT"), request(crypto_dev, "btc/usd")])
            publish_all(backend, [typed_answer(brent[0], "BRENT", 6)])
            m = b.wait_metric("tickrmeter_backend_responses_total", 1.0, backend="commodity")
            close(dev)
            close(backend)
            self.assertEqual(value(m, "tickrmeter_backend_requests_total", backend="unknown"), 9)
            self.assertEqual(value(m, "tickrmeter_backend_responses_total", backend="unknown"), 9)
            self.assertEqual(value(m, "tickrmeter_backend_requests_total", backend="commodity"), 1)
            self.assertEqual(value(m, "tickrmeter_backend_requests_total", backend="crypto"), 1)
            self.assertEqual(value(m, "tickrmeter_backend_pending", backend="crypto"), 1)
            backends = ("stock", "crypto", "forex", "index", "etf", "commodity", "top10",
                        "electricity", "option", "custom_api", "music", "fxon", "page",
                        "unknown")
            self.assertEqual({dict(k)["backend"] for k in
                              series(m, "tickrmeter_backend_requests_total")}, set(backends))
            ledger = ["tickrmeter_backend_responses_total", "tickrmeter_backend_errors_total",
                      "tickrmeter_backend_timeouts_total",
                      "tickrmeter_backend_superseded_total", "tickrmeter_backend_pending"]
            for name in backends:
                parts = [value(m, n, backend=name) for n in ledger]
                self.assertEqual(value(m, "tickrmeter_backend_requests_total", backend=name),
                                 sum(parts), name)
                self.assertEqual(value(m, "tickrmeter_backend_latency_seconds_count",
                                       backend=name),
                                 value(m, "tickrmeter_backend_responses_total", backend=name))
            self.assertEqual(value(m, "tickrmeter_backend_latency_seconds_bucket",
                                   backend="unknown", le="5"), 9)
            self.assertEqual(value(m, "tickrmeter_backend_latency_seconds_bucket",
                                   backend="unknown", le="2"), 8)
            if PROMTOOL:
                r = subprocess.run([PROMTOOL, "check", "metrics"],
                                   input=b.metrics_text().encode(), capture_output=True)
                self.assertEqual((r.returncode, r.stdout + r.stderr), (0, b""))

    def test_per_device_metrics_adds_device_id_series(self):
        with Broker(options={"per_device_metrics": "true"}) as b:
            c = b.client()
            publish_all(c, [HEARTBEAT])
            close(c)
            m = b.wait_metric("tickrmeter_device_battery_level", 87.0, device_id=D1)
            self.assertEqual(value(m, "tickrmeter_device_vin_level", device_id=D1), 1830)
            self.assertEqual(value(m, "tickrmeter_device_uptime_seconds", device_id=D1), 86400)
            self.assertEqual(value(m, "tickrmeter_device_charging", device_id=D1), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
