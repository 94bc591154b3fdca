"""Accuracy: the fleet simulator publishes through a real broker with the
plugin; the plugin's numbers must equal the simulator's ground truth where the
contract makes them decidable (issue: performance — accuracy test, small size;
issue 14: quantiles, case, backends).

The fleet includes mixed-case playlist entries (`btc/usd` answered `BTC` with
symbolIndex -1, matched ignoring case, contract §7.4) and symbols of every
text quote backend, each with its own latency and failure profile.

Exact: publishes by kind; per symbol requests, responses, errors, timeouts,
superseded (symbols the simulator marks ambiguous — an event within its
ambiguity margin of a decision point — are compared only as a ledger); the
unmatched answers by reason.

Per backend (contract §7.5): the six counter/gauge families and the
histogram's _count against the ground truth; exact where the simulator counts
no ambiguous request under the backend, else within that count (a request it
cannot decide may belong to another outcome or, when its symbol's backend
changed within the margin, to another backend; requests only within the
latter). In every scrape the test takes, during the run and after, every
backend's ledger adds up: requests = responses + errors + timeouts +
superseded + pending.

Quantiles (§7.3): the summary's 0.5/0.9/0.95/0.99 per decidable symbol
against the oracle's nearest rank (rank ceil(q*n)) of the same answers'
latencies, within 1 % relative error and no absolute slack. The worst
relative error per window size (answers in the window: 1, 2-9, 10-99, 100+)
is printed. The simulator times a reply on its own clock, the plugin on the
broker's: the two differ per answer by tenths of a millisecond, a few
milliseconds when the broker was busy (printed: the largest mean difference
per symbol). So the fleet's latencies start at 3 s, where that is about
0.1 %, and what is measured is the sketch's own error (the contract's 1 %).
Rarely an answer reaches the broker noticeably later than the simulator sent
it (a queue in front of the broker); a symbol whose latency sums differ by
more than DELIVERY_SLACK is listed and left out of the quantile comparison.
When the broker sees a device's requests and the backend's answers in
another order than the simulator sent them, two requests of one symbol can
get each other's answers: counts and latency sum stay, quantiles move. Such a
symbol is listed too; there may be at most max(2, 4 %) of both kinds
together, so a sketch beyond its 1 % bound (every symbol) still fails.
"""

import json
import math
import os
import subprocess
import tempfile
import time
import unittest

from harness import Broker, series, value, wait_until

FLEETSIM = os.environ.get("FLEETSIM", "")
QUANTILES = (0.5, 0.9, 0.95, 0.99)
QUANTILE_KEYS = {0.5: "p50", 0.9: "p90", 0.95: "p95", 0.99: "p99"}
COUNTERS = {
    "requests": "tickrmeter_stock_update_requests_total",
    "responses": "tickrmeter_stock_update_responses_total",
    "errors": "tickrmeter_stock_update_errors_total",
    "timeouts": "tickrmeter_symbol_timeout_total",
    "superseded": "tickrmeter_stock_update_superseded_total",
}
BACKEND_FAMILIES = {
    "requests": "tickrmeter_backend_requests_total",
    "responses": "tickrmeter_backend_responses_total",
    "errors": "tickrmeter_backend_errors_total",
    "timeouts": "tickrmeter_backend_timeouts_total",
    "superseded": "tickrmeter_backend_superseded_total",
    "pending": "tickrmeter_backend_pending",
}
BACKEND_HISTOGRAM = "tickrmeter_backend_latency_seconds"
OUTCOMES = ("responses", "errors", "timeouts", "superseded", "pending")
WINDOW_SIZES = (("1", 1, 1), ("2-9", 2, 9), ("10-99", 10, 99), ("100+", 100, math.inf))
SHOWN = 8  # mismatches listed per assertion
# A symbol whose latency sums (plugin, truth) differ by more than this share
# had an answer queued in front of the broker (seen in CI: one answer of 22
# arriving 0.9 s after the simulator sent it): its quantiles are not
# compared, and such symbols must stay rare.
DELIVERY_SLACK = 0.002


def nearest_rank(ascending, q):
    """Contract §7.3: the value of rank ceil(q*n); 1e-9 keeps 0.95*20 at 19."""
    n = len(ascending)
    return ascending[min(n, max(1, math.ceil(q * n - 1e-9))) - 1]


def by_label(metrics, name, label):
    """{label value: sample} of one family."""
    return {dict(k)[label]: v for k, v in series(metrics, name).items() if label in dict(k)}


def ledger_breaks(metrics):
    """Backends whose requests != responses + errors + timeouts + superseded +
    pending in one scrape, as strings."""
    fams = {k: by_label(metrics, name, "backend") for k, name in BACKEND_FAMILIES.items()}
    breaks = []
    for b in sorted(set().union(*fams.values())):
        got = {k: fams[k].get(b, 0) for k in fams}
        if got["requests"] != sum(got[k] for k in OUTCOMES):
            breaks.append("%s: %s" % (b, got))
    return breaks


def listing(problems):
    more = len(problems) - SHOWN
    return "\n  ".join(problems[:SHOWN] + (["... %d more" % more] if more > 0 else []))


@unittest.skipUnless(FLEETSIM and os.path.exists(FLEETSIM), "fleetsim not built")
class AccuracyTest(unittest.TestCase):

    def test_plugin_matches_the_simulators_ground_truth(self):
        timeout = 10
        window = 3600
        options = {"request_timeout": str(timeout), "quantile_window": str(window),
                   "ranking_min_requests": "1"}
        scrapes, identity_breaks = [0], []

        with Broker(options=options) as b, tempfile.TemporaryDirectory() as tmp:
            def scrape():
                m = b.metrics()
                scrapes[0] += 1
                identity_breaks.extend("scrape %d, %s" % (scrapes[0], s)
                                       for s in ledger_breaks(m))
                return m

            truth_path = os.path.join(tmp, "truth.json")
            sim = subprocess.Popen(
                [FLEETSIM, "--host", "127.0.0.1", "--port", str(b.port), "--devices", "300",
                 "--symbols", "90", "--rate-scale", "6", "--duration", "44",
                 "--request-timeout", str(timeout), "--latency-min", "3",
                 "--latency-median", "4", "--latency-p95", "7", "--latency-cap", "8",
                 "--late-after", str(timeout + 2), "--duplicates", "2", "--seed", "7",
                 "--mixed-case-share", "0.1", "--quantile-window", str(window),
                 "--summary", truth_path],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                # The ledgers must add up while requests are in flight too.
                while sim.poll() is None:
                    scrape()
                    time.sleep(1)
            finally:
                if sim.poll() is None:
                    sim.kill()
                sim.wait()
            self.assertEqual(sim.returncode, 0, "fleetsim failed")
            with open(truth_path) as f:
                truth = json.load(f)
            sent = sum(truth["totals"].values())
            self.assertGreater(sent, 5000)

            def all_counted():
                m = scrape()
                return m if sum(series(m, "tickrmeter_messages_total").values()) == sent else None
            wait_until(all_counted, timeout=30, interval=0.5, what="every publish counted")
            # Everything resolved: the simulator drained past the timeout.
            m = wait_until(lambda: (lambda mm: mm if sum(series(
                mm, "tickrmeter_stock_update_pending").values()) == 0 else None)(scrape()),
                timeout=3 * timeout, interval=0.5, what="nothing pending")
            report = self.compare(m, truth)
            report["scrapes"] = scrapes[0]
            report["identity"] = identity_breaks if report["backend_families"] else []
            self.print_report(report, sent)
            self.check(report)

    def compare(self, m, truth):
        """Every comparison; returns the findings, asserts nothing."""
        r = {"kinds": [], "symbols": [], "unmatched": [], "quantiles": [], "backends": [],
             "oracle": [], "compared": 0, "ambiguous": 0, "quantiles_checked": 0,
             "reassigned": [],
             "worst": {name: (0.0, "") for name, _, _ in WINDOW_SIZES},
             "backends_exact": 0, "backends_within": 0, "mixed_case": 0, "clock": [],
             "delivery": []}
        for kind, n in truth["totals"].items():
            got = value(m, "tickrmeter_messages_total", kind=kind)
            if got != n:
                r["kinds"].append("%s: plugin %r, truth %d" % (kind, got, n))
        if value(m, "tickrmeter_observations_dropped_total") != 0:
            r["kinds"].append("observations dropped: %r" %
                              value(m, "tickrmeter_observations_dropped_total"))
        # Exact, but for answers the simulator saw within its ambiguity margin
        # of the request_timeout horizon (late/duplicate vs the next reason).
        slack = truth.get("unmatched_ambiguous", 0)
        for reason, n in truth["unmatched"].items():
            got = value(m, "tickrmeter_stock_update_unmatched_responses_total", reason=reason)
            if got is None or abs(got - n) > slack:
                r["unmatched"].append("%s: plugin %r, truth %d (ambiguous: %d)"
                                      % (reason, got, n, slack))

        for label, t in truth["symbols"].items():
            r["mixed_case"] += label != label.upper()
            got = {k: value(m, name, symbol=label) or 0 for k, name in COUNTERS.items()}
            if got["requests"] != t["requests"]:
                r["symbols"].append("%s requests: plugin %r, truth %d" %
                                    (label, got["requests"], t["requests"]))
            if got["requests"] != sum(got[k] for k in OUTCOMES if k != "pending"):
                r["symbols"].append("%s: plugin's ledger does not add up: %s" % (label, got))
            if t["ambiguous"]:
                r["ambiguous"] += 1
                continue
            r["compared"] += 1
            equal = True
            for k in COUNTERS:
                if got[k] != t[k]:
                    r["symbols"].append("%s %s: plugin %r, truth %d" % (label, k, got[k], t[k]))
                    equal = False
            if equal and t["responses"] > 0:
                # The two clocks: the mean difference of one symbol's
                # latencies, broker minus simulator (exact for one answer).
                plugin_sum = value(m, "tickrmeter_stock_update_latency_seconds_sum", symbol=label)
                diff = (plugin_sum - t["latency"]["sum"]) / t["responses"]
                r["clock"].append((abs(diff), diff, label, t["responses"]))
                if abs(plugin_sum - t["latency"]["sum"]) > DELIVERY_SLACK * t["latency"]["sum"]:
                    # The broker saw this symbol's answers later (or earlier)
                    # than the simulator sent them, by more than the clocks
                    # differ: a queue in front of the broker, not the
                    # sketch. Its quantiles would measure that queue.
                    r["delivery"].append("%s (n=%d): latency sum plugin %.3f s, truth %.3f s"
                                         % (label, t["responses"], plugin_sum,
                                            t["latency"]["sum"]))
                    continue
            self.compare_quantiles(m, label, t, r)

        families = {k: by_label(m, name, "backend") for k, name in BACKEND_FAMILIES.items()}
        counts = by_label(m, BACKEND_HISTOGRAM + "_count", "backend")
        r["backend_families"] = [name for k, name in BACKEND_FAMILIES.items() if families[k]]
        if counts:
            r["backend_families"].append(BACKEND_HISTOGRAM)
        if r["backend_families"]:
            backends = set(truth["backends"]).union(*families.values())
            for b in sorted(backends):
                t = truth["backends"].get(b, {})
                slack = t.get("ambiguous", 0)
                exact = True
                for k, fam in families.items():
                    got, want = fam.get(b, 0), t.get(k, 0)
                    # How many requests a backend has depends only on which
                    # backend each was counted under, not on its outcome.
                    allowed = t.get("backend_undecided", 0) if k == "requests" else slack
                    if abs(got - want) > allowed:
                        r["backends"].append("%s %s: plugin %r, truth %d (undecidable: %d)" %
                                             (b, k, got, want, allowed))
                    exact &= got == want
                got, want = counts.get(b, 0), t.get("responses", 0)
                if abs(got - want) > slack:
                    r["backends"].append("%s latency _count: plugin %r, truth %d (undecidable: %d)"
                                         % (b, got, want, slack))
                if slack == 0:
                    r["backends_exact"] += 1
                elif exact:
                    r["backends_within"] += 1
        return r

    def compare_quantiles(self, m, label, t, r):
        w = t["window"]
        values = t["latency"]["values"]
        if w["count"] != len(values):
            r["oracle"].append("%s: the window (%d) does not hold every answer (%d)" %
                               (label, w["count"], len(values)))
            return
        if not values:
            return
        size = next(name for name, lo, hi in WINDOW_SIZES if lo <= len(values) <= hi)
        off = []
        for q in QUANTILES:
            exact = w[QUANTILE_KEYS[q]]
            # The oracle's quantile, checked against this file's reading of §7.3.
            if exact != nearest_rank(values, q):
                r["oracle"].append("%s q=%s: oracle %r, nearest rank %r" %
                                   (label, q, exact, nearest_rank(values, q)))
            est = value(m, "tickrmeter_symbol_latency_seconds", symbol=label, quantile=str(q))
            r["quantiles_checked"] += 1
            if est is None or math.isnan(est):
                r["quantiles"].append("%s q=%s (n=%d): plugin %r, truth %r" %
                                      (label, q, len(values), est, exact))
                continue
            rel = abs(est - exact) / exact
            if rel > r["worst"][size][0]:
                r["worst"][size] = (rel, "%s q=%s n=%d: plugin %.6f, truth %.6f" %
                                    (label, q, len(values), est, exact))
            if rel > 0.01:
                off.append("q=%s plugin %.6f, truth %.6f, %.1f %%" % (q, est, exact, 100 * rel))
        if off:
            # Counts and latency sum agree, so the same answers were matched
            # to the same symbol; quantiles further off than the sketch's
            # bound mean two of the device's requests got each other's
            # answer (the broker saw them in another order than the
            # simulator sent them): the sums stay, the latencies swap.
            r["reassigned"].append("%s (n=%d): %s" % (label, len(values), "; ".join(off)))

    @staticmethod
    def print_report(r, sent):
        print("\naccuracy: %d publishes, %d scrapes; %d symbols compared exactly (%d ambiguous, "
              "%d typed in mixed case), %d quantiles compared"
              % (sent, r["scrapes"], r["compared"], r["ambiguous"], r["mixed_case"],
                 r["quantiles_checked"]))
        if r["clock"]:
            worst = max(r["clock"])
            single = [c for c in r["clock"] if c[3] == 1]
            print("clocks: broker minus simulator latency, mean per symbol: largest %+.3f ms (%s, "
                  "%d answers)%s" % (1000 * worst[1], worst[2], worst[3],
                                     "; largest of one answer %+.3f ms" %
                                     (1000 * max(single)[1]) if single else ""))
        if r["delivery"]:
            print("quantiles not compared (answers delivered off the simulator's clock): %s"
                  % "; ".join(r["delivery"]))
        if r["reassigned"]:
            print("quantiles off though counts and latency sums agree (answers swapped between "
                  "requests): %s" % "; ".join(r["reassigned"]))
        print("worst relative quantile error by answers in the window:")
        for name, _, _ in WINDOW_SIZES:
            rel, where = r["worst"][name]
            print("  n %-6s %7.3f %%  %s" % (name, 100 * rel, where))
        if r["backend_families"]:
            print("backends: %d exact, %d equal though undecidable requests allowed slack"
                  % (r["backends_exact"], r["backends_within"]))
        else:
            print("backends: the plugin exports no tickrmeter_backend_* family")

    def check(self, r):
        def none(problems):
            if problems:
                self.fail("%d:\n  %s" % (len(problems), listing(problems)))

        with self.subTest("publishes by kind"):
            none(r["kinds"])
        with self.subTest("the oracle's quantiles are nearest rank"):
            none(r["oracle"])
        with self.subTest("per-symbol counts"):
            none(r["symbols"])
            self.assertGreater(r["compared"], 0.8 * (r["compared"] + r["ambiguous"]),
                               "too few decidable symbols: %d of %d" %
                               (r["compared"], r["compared"] + r["ambiguous"]))
            self.assertGreater(r["mixed_case"], 0, "no mixed-case playlist entry requested")
        with self.subTest("unmatched answers by reason"):
            none(r["unmatched"])
        with self.subTest("per-symbol quantiles within 1 % (nearest rank)"):
            none(r["quantiles"])
            # Delivery delays and swapped answers are rare; many would hide a
            # matching error or a sketch beyond its bound.
            self.assertLessEqual(len(r["delivery"]) + len(r["reassigned"]),
                                 max(2, r["compared"] // 25),
                                 "symbols whose latency sums differ: %s; symbols whose quantiles "
                                 "are off: %s" % (r["delivery"], r["reassigned"]))
        with self.subTest("tickrmeter_backend_* families exported"):
            missing = sorted(set(BACKEND_FAMILIES.values()) | {BACKEND_HISTOGRAM}) \
                if not r["backend_families"] else \
                sorted((set(BACKEND_FAMILIES.values()) | {BACKEND_HISTOGRAM}) -
                       set(r["backend_families"]))
            if missing:
                self.fail("missing: %s" % ", ".join(missing))
        with self.subTest("per-backend counts"):
            none(r["backends"])
        with self.subTest("per-backend ledger adds up in every scrape"):
            none(r["identity"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
