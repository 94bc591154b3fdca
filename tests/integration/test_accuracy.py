"""Accuracy: the fleet simulator publishes through a real broker with the
plugin; the plugin's numbers must equal the simulator's ground truth where the
contract makes them decidable (issue: performance — accuracy test, small size).

Exact: publishes by kind; per symbol requests, responses, errors, timeouts,
superseded (symbols the simulator marks ambiguous — an event within its
ambiguity margin of a decision point — are compared only as a ledger).
Quantiles: the summary's 0.5/0.9/0.95/0.99 per symbol against the exact
quantiles of the simulator's latencies of the same answers, at the sketch's
rank floor(q*(n-1)), within 1 % plus 3 ms: the simulator times a reply on its
own clock, the plugin on the broker's, and loopback transit differs by a
fraction of a millisecond.
"""

import json
import math
import os
import subprocess
import tempfile
import unittest

from harness import Broker, series, value, wait_until

FLEETSIM = os.environ.get("FLEETSIM", "")
QUANTILES = (0.5, 0.9, 0.95, 0.99)
COUNTERS = {
    "requests": "tickrmeter_stock_update_requests_total",
    "responses": "tickrmeter_stock_update_responses_total",
    "errors": "tickrmeter_stock_update_errors_total",
    "timeouts": "tickrmeter_symbol_timeout_total",
    "superseded": "tickrmeter_stock_update_superseded_total",
}


@unittest.skipUnless(FLEETSIM and os.path.exists(FLEETSIM), "fleetsim not built")
class AccuracyTest(unittest.TestCase):

    def test_plugin_matches_the_simulators_ground_truth(self):
        timeout = 5
        options = {"request_timeout": str(timeout), "quantile_window": "3600",
                   "ranking_min_requests": "1"}
        with Broker(options=options) as b, tempfile.TemporaryDirectory() as tmp:
            truth_path = os.path.join(tmp, "truth.json")
            subprocess.run(
                [FLEETSIM, "--host", "127.0.0.1", "--port", str(b.port), "--devices", "300",
                 "--symbols", "60", "--rate-scale", "6", "--duration", "50",
                 "--request-timeout", str(timeout), "--latency-cap", "2.5",
                 "--late-after", str(timeout + 2), "--duplicates", "2", "--seed", "7",
                 "--summary", truth_path],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
            with open(truth_path) as f:
                truth = json.load(f)
            sent = sum(truth["totals"].values())
            self.assertGreater(sent, 5000)

            def all_counted():
                m = b.metrics()
                return m if sum(series(m, "tickrmeter_messages_total").values()) == sent else None
            m = wait_until(all_counted, timeout=30, interval=0.5, what="every publish counted")
            # Everything resolved: the simulator drained past the timeout.
            m = wait_until(lambda: (lambda mm: mm if sum(series(
                mm, "tickrmeter_stock_update_pending").values()) == 0 else None)(b.metrics()),
                timeout=3 * timeout, interval=0.5, what="nothing pending")

            for kind, n in truth["totals"].items():
                self.assertEqual(value(m, "tickrmeter_messages_total", kind=kind), n, kind)
            self.assertEqual(value(m, "tickrmeter_observations_dropped_total"), 0)

            compared = ambiguous = quantiles_checked = 0
            for label, t in truth["symbols"].items():
                got = {k: value(m, name, symbol=label) or 0 for k, name in COUNTERS.items()}
                self.assertEqual(got["requests"], t["requests"], label)
                self.assertEqual(got["requests"], got["responses"] + got["errors"] +
                                 got["timeouts"] + got["superseded"], label)
                if t["ambiguous"]:
                    ambiguous += 1
                    continue
                compared += 1
                for k in COUNTERS:
                    self.assertEqual(got[k], t[k], "%s %s" % (label, k))
                values = t["latency"]["values"]
                if not values:
                    continue
                for q in QUANTILES:
                    exact = values[int(math.floor(q * (len(values) - 1)))]
                    est = value(m, "tickrmeter_symbol_latency_seconds", symbol=label,
                                quantile=str(q))
                    self.assertLessEqual(abs(est - exact), 0.01 * exact + 0.003,
                                         "%s q=%s: plugin %r, truth %r" % (label, q, est, exact))
                    quantiles_checked += 1
            self.assertGreater(compared, 0.8 * (compared + ambiguous),
                               "too few decidable symbols: %d of %d" % (compared,
                                                                        compared + ambiguous))
            print("\naccuracy: %d publishes, %d symbols compared exactly (%d ambiguous), "
                  "%d quantiles within 1 %% + 3 ms" % (sent, compared, ambiguous,
                                                      quantiles_checked))


if __name__ == "__main__":
    unittest.main(verbosity=2)
