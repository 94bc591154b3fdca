#!/usr/bin/python3
"""Broker-level benchmark: the figures of issue 15 in one run.

The same recorded fleet traffic (fleetsim's mix of N devices and S symbols) is
replayed as fast as possible (fleetreplay) into mosquitto. Each round runs
three brokers: bare, with tkmprom and no scrape, and with tkmprom and a gzip
scrape of /metrics every 2 s during the load; the plugin runs sit either side
of the bare one and swap places every round, so plugin runs alternate with
bare ones. Per plugin run: the broker's CPU per publish over the same round's
bare broker's, the companion's (serving companion + supervisor, every thread,
until both went idle) over the bare broker's, observations dropped, and
sum(tickrmeter_messages_total) against the publishes sent. A run without
scrapes does not touch /metrics before the companion's CPU has been read
(readiness is /healthz).

Then, with the whole fleet known: RSS of the supervisor and the companion and
the broker's growth over a bare broker fed the same traffic; and /metrics
latency, plain and gzip, 5 sets of 60 requests each after 5 warm-ups,
interleaved with floor_server (a minimal libmicrohttpd server handing out the
same bodies as prepared buffers) in the same run; the figure is the median of
the sets' p99 ratios.

CPU is read from /proc/<pid>/task/*/schedstat (nanoseconds on CPU, all
threads), so the figures do not depend on wall-clock time on a busy machine.

Prints a markdown table (figure | measured | target | met) on stdout, one line
per run on stderr; --json writes every figure.

Usage: tools/bench/broker_bench.py [--build build] [--rounds 5] [--publishes 1000000]
           [--mosquitto /usr/sbin/mosquitto] [--json FILE]
"""

import argparse
import datetime
import gzip
import http.client
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

SCRAPE_EVERY_S = 2.0
LATENCY_REQUESTS = 60
LATENCY_WARMUP = 5
LATENCY_SETS = 5

# issue 15's targets
TARGET_BROKER_RATIO = 1.02
TARGET_COMPANION_RATIO = 0.10
TARGET_RSS_MIB = 32.0
TARGET_PLAIN_VS_FLOOR = 1.2
TARGET_GZIP_VS_FLOOR = 1.1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """CPU time of every thread of pid, in seconds (0 once it is gone)."""
    total = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return 0.0
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e9


def cpu_total(pids):
    return sum(cpu_seconds(p) for p in pids)


def status_mib(pid):
    """VmRSS, VmHWM, RssAnon, RssFile, RssShmem and Pss of pid, in MiB.

    Pss (proportional set size) divides each shared page among the processes
    that map it: the ring, shared by the broker and the companion, and the
    shared libraries count once in a sum of Pss, twice or more in a sum of
    RSS."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                out[key] = int(line.split()[1]) / 1024
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Pss:"):
                out["Pss"] = int(line.split()[1]) / 1024
    return out


def children(pid):
    """(pid, comm) of pid's children."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid:
            found.append((int(entry), stat[stat.index("(") + 1:stat.rindex(")")]))
    return found


def source_version(build):
    """'<short commit>[ (dirty)]' of the tree the build was configured from."""
    source = os.path.dirname(os.path.abspath(__file__))
    try:
        with open(os.path.join(build, "meson-info", "meson-info.json")) as f:
            source = json.load(f)["directories"]["source"]
    except (OSError, ValueError, KeyError):
        pass
    try:
        commit = subprocess.run(["git", "-C", source, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", source, "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               check=True).stdout.strip()
        return commit + (" (dirty)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def http_get(port, path, encoding=None, timeout=10):
    """(status, headers dict, body) or None."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("GET", path, headers={"Accept-Encoding": encoding} if encoding else {})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    except OSError:
        return None


class Broker:
    def __init__(self, mosquitto, plugin, workdir, subscribers=0):
        self.port = free_port()
        self.http_port = free_port()
        self.dir = tempfile.mkdtemp(dir=workdir)
        lines = ["user root", "allow_anonymous true", "persistence false", "log_dest none",
                 "max_queued_messages 100000", "listener %d 127.0.0.1" % self.port]
        if plugin:
            lines += ["plugin " + plugin, "plugin_opt_http_listen 127.0.0.1:%d" % self.http_port,
                      "plugin_opt_ranking_min_requests 1"]
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = subprocess.Popen([mosquitto, "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.plugin = plugin
        self.subs = []
        self.supervisor = self.companion = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        if self.proc.poll() is not None:
            raise SystemExit("mosquitto exited at start (%s)" % self.proc.returncode)
        # Subscribers to '#' make the broker deliver every publish, as the
        # fleet's devices and backend do for their topics.
        self.subs = [subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), "-t", "#", "-q", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(subscribers)]
        time.sleep(0.3 if subscribers else 0)
        if plugin:
            # Readiness by /healthz: /metrics stays untouched until the caller asks.
            while time.monotonic() < deadline:
                got = http_get(self.http_port, "/healthz", timeout=1)
                if got is not None and got[0] == 200:
                    break
                time.sleep(0.05)
            else:
                raise SystemExit("tkmprom's /healthz did not answer 200 within 10 s")
            self.find_companion()

    def find_companion(self):
        """The supervisor (the broker's child) and the serving companion (its child)."""
        sup = [p for p, comm in children(self.proc.pid) if comm == "tkmprom-sup"]
        comp = [p for p, comm in children(sup[0]) if comm == "tkmprom"] if sup else []
        if not sup or not comp:
            raise SystemExit("cannot find tkmprom's supervisor and companion under pid %d" %
                             self.proc.pid)
        self.supervisor, self.companion = sup[0], comp[0]
        return self.supervisor, self.companion

    def plugin_pids(self):
        return [self.supervisor, self.companion]

    def metrics_text(self, encoding=None):
        got = http_get(self.http_port, "/metrics", encoding)
        if got is None or got[0] != 200:
            return None
        body = got[2]
        return (gzip.decompress(body) if got[1].get("content-encoding") == "gzip" else
                body).decode()

    def metric_sums(self, *names):
        text = self.metrics_text() or ""
        totals = dict.fromkeys(names, 0.0)
        for line in text.splitlines():
            for name in names:
                if line.startswith(name + "{") or line.startswith(name + " "):
                    totals[name] += float(line.rsplit(" ", 1)[1])
        return totals

    def stop(self):
        for sub in self.subs:
            sub.kill()
            sub.wait()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def replay(replay_bin, broker, traffic, connections, repeat=1):
    cmd = [replay_bin, "--host", "127.0.0.1", "--port", str(broker.port),
           "--connections", str(connections), "--repeat", str(repeat), traffic]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("replay failed: %s %s" % (r.stdout, r.stderr))
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["sent"] = out["publishes"]
    return out


SETTLE_S = 0.2


def wait_idle(pids, timeout=60):
    """Waits until the CPU time of pids stops growing (they drained their input).
    Returns (cpu seconds, monotonic time they went idle)."""
    last = cpu_total(pids)
    last_t = time.monotonic()
    deadline = last_t + timeout
    while time.monotonic() < deadline:
        time.sleep(SETTLE_S)
        now = cpu_total(pids)
        if now - last < 0.002:
            return now, last_t
        last, last_t = now, time.monotonic()
    return last, last_t


class Scraper(threading.Thread):
    """GET /metrics with Accept-Encoding: gzip every SCRAPE_EVERY_S, from start to stop()."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.done = threading.Event()
        self.ok = 0
        self.failed = 0

    def run(self):
        while True:
            got = http_get(self.port, "/metrics", "gzip")
            if got is not None and got[0] == 200:
                self.ok += 1
            else:
                self.failed += 1
            if self.done.wait(SCRAPE_EVERY_S):
                return

    def stop(self):
        self.done.set()
        self.join()


def run_variant(variant, args, plugin, work, replay_bin, traffic, repeat):
    b = Broker(args.mosquitto, plugin if variant != "bare" else None, work, args.subscribers)
    try:
        watched = [b.proc.pid] + (b.plugin_pids() if b.plugin else [])
        wait_idle(watched)
        cpu0 = cpu_seconds(b.proc.pid)
        comp0 = cpu_total(b.plugin_pids()) if b.plugin else 0.0
        scraper = Scraper(b.http_port) if variant == "scrape" else None
        t0 = time.monotonic()
        if scraper:
            scraper.start()
        try:
            out = replay(replay_bin, b, traffic, args.connections, repeat)
        finally:
            if scraper:
                scraper.stop()
        cpu1, t1 = wait_idle([b.proc.pid])
        # The rate the broker took: publishes over the time until it went idle.
        entry = {"broker_cpu_s": cpu1 - cpu0, "sent": out["sent"],
                 "rate": out["sent"] / max(t1 - t0, 1e-9)}
        if b.plugin:
            # The companion's CPU first: in the run without scrapes nothing
            # has asked for /metrics until it has been read.
            pids = b.plugin_pids()
            comp1, _ = wait_idle(pids)
            entry["companion_cpu_s"] = comp1 - comp0
            entry["companion_restarted"] = b.find_companion() != tuple(pids)
            if scraper:
                entry["scrapes"] = scraper.ok
                entry["scrapes_failed"] = scraper.failed
            deadline = time.monotonic() + 60
            while True:
                sums = b.metric_sums("tickrmeter_messages_total",
                                     "tickrmeter_observations_dropped_total")
                counted = sums["tickrmeter_messages_total"]
                if counted >= out["sent"] or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            entry["counted"] = counted
            entry["dropped"] = sums["tickrmeter_observations_dropped_total"]
        return entry
    finally:
        b.stop()


def percentile(sorted_samples, p):
    """Nearest rank."""
    return sorted_samples[max(0, math.ceil(p * len(sorted_samples)) - 1)]


def timed_get(port, path, encoding):
    """Seconds for one request and its body on a fresh connection (connected
    before the clock starts), and the body's size."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.connect()
    headers = {"Accept-Encoding": encoding} if encoding else {}
    t0 = time.perf_counter()
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    body = r.read()
    elapsed = time.perf_counter() - t0
    c.close()
    if r.status != 200:
        raise SystemExit("GET %s on port %d answered %d" % (path, port, r.status))
    return elapsed, len(body)


def compare_latency(tk_port, floor_port, encoding, floor_path, n, sets):
    """`sets` sets of n requests each (after LATENCY_WARMUP), tkmprom and floor
    interleaved, back to back. A set's p99 is its largest sample for n < 100,
    so a single stall decides it: the figure is the median over the sets of
    each set's p99 ratio, with the spread."""
    for _ in range(LATENCY_WARMUP):
        timed_get(tk_port, "/metrics", encoding)
        timed_get(floor_port, floor_path, encoding)
    ratios, tk_all, fl_all, tk_sizes, fl_sizes = [], [], [], [], []
    for _ in range(sets):
        tk, fl = [], []
        for _ in range(n):
            s, size = timed_get(tk_port, "/metrics", encoding)
            tk.append(s)
            tk_sizes.append(size)
            s, size = timed_get(floor_port, floor_path, encoding)
            fl.append(s)
            fl_sizes.append(size)
        tk.sort()
        fl.sort()
        ratios.append(percentile(tk, 0.99) / percentile(fl, 0.99))
        tk_all += tk
        fl_all += fl
    tk_all.sort()
    fl_all.sort()
    out = {"tkmprom_p50_ms": percentile(tk_all, 0.5) * 1e3,
           "tkmprom_p99_ms": percentile(tk_all, 0.99) * 1e3,
           "floor_p50_ms": percentile(fl_all, 0.5) * 1e3,
           "floor_p99_ms": percentile(fl_all, 0.99) * 1e3,
           "tkmprom_bytes": statistics.median(tk_sizes), "floor_bytes": fl_sizes[0],
           "requests": n, "sets": sets, "set_ratios": ratios,
           "p99_vs_floor": statistics.median(ratios)}
    return out


def fleet_scale(args, plugin, floor_bin, work, replay_bin, traffic):
    """Memory with the whole fleet known, then /metrics latency against the floor."""
    bare = Broker(args.mosquitto, None, work)
    try:
        replay(replay_bin, bare, traffic, args.connections)
        wait_idle([bare.proc.pid])
        bare_mem = status_mib(bare.proc.pid)
    finally:
        bare.stop()
    b = Broker(args.mosquitto, plugin, work)
    floor = None
    try:
        replay(replay_bin, b, traffic, args.connections)
        wait_idle([b.proc.pid] + b.plugin_pids())
        mem_unscraped = {"supervisor": status_mib(b.supervisor),
                         "companion": status_mib(b.companion)}
        time.sleep(2.5)  # one snapshot later
        sums = b.metric_sums("tickrmeter_devices_tracked")
        metrics = b.metrics_text() or ""
        symbols = len({line.split('symbol="', 1)[1].split('"', 1)[0]
                       for line in metrics.splitlines()
                       if line.startswith("tickrmeter_stock_update_requests_total{")})
        plain = http_get(b.http_port, "/metrics")
        zipped = http_get(b.http_port, "/metrics", "gzip")
        if plain is None or zipped is None or plain[0] != 200 or zipped[0] != 200:
            raise SystemExit("cannot fetch /metrics for the floor's bodies")
        if zipped[1].get("content-encoding") != "gzip":
            raise SystemExit("tkmprom's /metrics did not answer gzip to Accept-Encoding: gzip")
        plain_file = os.path.join(work, "metrics.txt")
        gzip_file = os.path.join(work, "metrics.txt.gz")
        with open(plain_file, "wb") as f:
            f.write(plain[2])
        with open(gzip_file, "wb") as f:
            f.write(zipped[2])
        floor_port = free_port()
        floor = subprocess.Popen([floor_bin, "--port", str(floor_port), "--plain", plain_file,
                                  "--gzip", gzip_file], stdout=subprocess.PIPE, text=True)
        if floor.stdout.readline().strip() != "ready":
            raise SystemExit("floor_server did not start")
        latency = {
            "plain": compare_latency(b.http_port, floor_port, None, "/plain", args.scrapes,
                                     args.latency_sets),
            "gzip": compare_latency(b.http_port, floor_port, "gzip", "/gzip", args.scrapes,
                                    args.latency_sets),
        }
        latency["tkmprom_connection_header"] = plain[1].get("connection", "")
        # Memory as a scraped companion holds it (rendered bodies cached).
        wait_idle([b.proc.pid] + b.plugin_pids())
        mem = {"supervisor": status_mib(b.supervisor), "companion": status_mib(b.companion),
               "broker": status_mib(b.proc.pid), "broker_bare": bare_mem,
               "unscraped": mem_unscraped}
        fleet = {"tracked_devices": sums["tickrmeter_devices_tracked"], "tracked_symbols": symbols}
        return mem, latency, fleet
    finally:
        if floor is not None:
            floor.send_signal(signal.SIGTERM)
            try:
                floor.wait(timeout=5)
            except subprocess.TimeoutExpired:
                floor.kill()
                floor.wait()
        b.stop()


def spread(values, fmt="%.3f"):
    """'median [min–max]'."""
    return (fmt + " [" + fmt + "–" + fmt + "]") % (statistics.median(values), min(values),
                                                   max(values))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--mosquitto", default=shutil.which("mosquitto") or "/usr/sbin/mosquitto")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--publishes", type=int, default=1000000)
    ap.add_argument("--devices", type=int, default=8000)
    ap.add_argument("--symbols", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--latency-sets", type=int, default=LATENCY_SETS,
                    help="sets of --scrapes requests per encoding (median of their p99 ratios)")
    ap.add_argument("--scrapes", type=int, default=LATENCY_REQUESTS,
                    help="/metrics requests timed per encoding, against tkmprom and the floor each")
    ap.add_argument("--subscribers", type=int, default=1,
                    help="mosquitto_sub clients on '#' (delivery work, as in the fleet)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    plugin = os.path.join(build, "plugin", "tkmprom.so")
    fleetsim = os.path.join(build, "tools", "fleetsim", "fleetsim")
    replay_bin = os.path.join(build, "tools", "fleetsim", "fleetreplay")
    floor_bin = os.path.join(build, "tools", "bench", "floor_server")
    for path in (plugin, fleetsim, replay_bin, floor_bin):
        if not os.access(path, os.X_OK if not path.endswith(".so") else os.R_OK):
            raise SystemExit("missing %s (build with -Dsimulator=true -Dbenchmarks=true)" % path)
    version = source_version(build)
    started = datetime.datetime.now().astimezone()
    work = tempfile.mkdtemp(prefix="tkmprom-bench-")
    try:
        traffic = os.path.join(work, "traffic.jsonl")
        # The fleet mix: 20 simulated minutes (every device ticks, heartbeat
        # waves, boots), replayed as often as needed for the requested publishes.
        seconds = 1200
        subprocess.run([fleetsim, "--dump", traffic, "--devices", str(args.devices),
                        "--symbols", str(args.symbols), "--duration", str(seconds), "--summary",
                        os.path.join(work, "truth.json")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(traffic) as f:
            available = sum(1 for _ in f)
        repeat = max(1, -(-args.publishes // available))
        publishes = available * repeat
        print("traffic: %d publishes (%d x %d) of a %d-device, %d-symbol fleet (%d s simulated)"
              % (publishes, repeat, available, args.devices, args.symbols, seconds),
              file=sys.stderr)

        rounds = []
        for r in range(args.rounds):
            # The plugin runs either side of the bare one, swapping places.
            order = ["plain", "bare", "scrape"] if r % 2 == 0 else ["scrape", "bare", "plain"]
            result = {v: run_variant(v, args, plugin, work, replay_bin, traffic, repeat)
                      for v in order}
            bare_per_pub = result["bare"]["broker_cpu_s"] / result["bare"]["sent"]
            row = {"order": order, "bare": result["bare"]}
            for v in ("plain", "scrape"):
                e = result[v]
                e["broker_ratio"] = e["broker_cpu_s"] / e["sent"] / bare_per_pub
                e["companion_ratio"] = e["companion_cpu_s"] / e["sent"] / bare_per_pub
                row[v] = e
            rounds.append(row)
            print("round %d (%s): bare %.3f s/M at %.0f/s" % (
                r + 1, ", ".join(order), bare_per_pub * 1e6, result["bare"]["rate"]),
                file=sys.stderr)
            for v, label in (("plain", "no scrape"), ("scrape", "gzip scrape/2s")):
                e = row[v]
                print("  plugin, %s: broker %.3f s/M (x%.3f), companion %.3f s/M (x%.3f of bare),"
                      " %.0f/s, counted %d of %d, dropped %d%s%s" % (
                          label, e["broker_cpu_s"] / e["sent"] * 1e6, e["broker_ratio"],
                          e["companion_cpu_s"] / e["sent"] * 1e6, e["companion_ratio"], e["rate"],
                          e["counted"], e["sent"], e["dropped"],
                          ", %d scrapes (%d failed)" % (e["scrapes"], e["scrapes_failed"])
                          if "scrapes" in e else "",
                          ", COMPANION RESTARTED" if e["companion_restarted"] else ""),
                      file=sys.stderr)

        print("fleet scale: memory, then /metrics latency against floor_server", file=sys.stderr)
        mem, latency, fleet = fleet_scale(args, plugin, floor_bin, work, replay_bin, traffic)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    plugin_runs = [row[v] for row in rounds for v in ("plain", "scrape")]
    ratio = {v: [row[v]["broker_ratio"] for row in rounds] for v in ("plain", "scrape")}
    comp = {v: [row[v]["companion_ratio"] for row in rounds] for v in ("plain", "scrape")}
    all_ratios = ratio["plain"] + ratio["scrape"]
    dropped = sum(e["dropped"] for e in plugin_runs)
    all_counted = all(e["counted"] == e["sent"] for e in plugin_runs)
    restarted = any(e["companion_restarted"] for e in plugin_runs)
    rss_sup = mem["supervisor"]["VmRSS"]
    rss_comp = mem["companion"]["VmRSS"]
    rss_sum = rss_sup + rss_comp
    broker_growth = mem["broker"]["VmRSS"] - mem["broker_bare"]["VmRSS"]
    pss_sum = mem["supervisor"]["Pss"] + mem["companion"]["Pss"]
    lp, lz = latency["plain"], latency["gzip"]
    summary = {
        "commit": version, "date": started.isoformat(timespec="seconds"),
        "mosquitto": args.mosquitto, "publishes_per_run": publishes, "devices": args.devices,
        "symbols": args.symbols, "rounds": rounds,
        "broker_ratio_median": statistics.median(all_ratios),
        "broker_ratio_no_scrape_median": statistics.median(ratio["plain"]),
        "broker_ratio_gzip_scrape_median": statistics.median(ratio["scrape"]),
        "companion_vs_bare_no_scrape_median": statistics.median(comp["plain"]),
        "companion_vs_bare_gzip_scrape_median": statistics.median(comp["scrape"]),
        "broker_cpu_per_million_bare_s": statistics.median(
            row["bare"]["broker_cpu_s"] / row["bare"]["sent"] * 1e6 for row in rounds),
        "peak_rate_plugin": max(e["rate"] for e in plugin_runs),
        "dropped_total": dropped, "all_counted": all_counted, "companion_restarted": restarted,
        "memory_mib": mem, "plugin_rss_mib": rss_sum, "plugin_pss_mib": pss_sum,
        "broker_rss_growth_mib": broker_growth,
        "latency": latency, "fleet": fleet,
    }

    n = len(rounds)
    print("tkmprom %s, %s, %s; %d round(s) of %d publishes per run (%d devices, %d symbols), "
          "%d subscriber(s)" % (version, started.strftime("%Y-%m-%d %H:%M %Z"), args.mosquitto, n,
                                publishes, args.devices, args.symbols, args.subscribers))
    print()
    print("| figure | measured | target | met |\n| --- | --- | --- | --- |")
    yes = lambda ok: "yes" if ok else "**no**"
    rows = [
        ("broker CPU per publish ÷ bare (median of %d round(s) × 2 plugin runs)" % n,
         "%.3f overall; no scrape %s, gzip scrape/2 s %s" % (
             summary["broker_ratio_median"], spread(ratio["plain"]), spread(ratio["scrape"])),
         "≤ %.2f" % TARGET_BROKER_RATIO, yes(summary["broker_ratio_median"] <= TARGET_BROKER_RATIO)),
        ("companion CPU per publish ÷ bare broker's, no scrapes",
         spread(comp["plain"]), "≤ %.2f" % TARGET_COMPANION_RATIO,
         yes(statistics.median(comp["plain"]) <= TARGET_COMPANION_RATIO)),
        ("the same with a gzip scrape every 2 s during the load",
         spread(comp["scrape"]), "≤ %.2f" % TARGET_COMPANION_RATIO,
         yes(statistics.median(comp["scrape"]) <= TARGET_COMPANION_RATIO)),
        ("memory of the plugin's processes at fleet scale (RSS, supervisor + companion)",
         "%.1f MiB (supervisor %.1f, companion %.1f: anon %.1f, shmem %.1f, file %.1f; "
         "companion peak %.1f; Pss of the two %.1f); broker +%.1f MiB over bare (%.1f vs %.1f, "
         "shmem %.1f); %d devices, %d symbols held" % (
             rss_sum, rss_sup, rss_comp, mem["companion"]["RssAnon"],
             mem["companion"]["RssShmem"], mem["companion"]["RssFile"],
             mem["companion"]["VmHWM"], pss_sum, broker_growth, mem["broker"]["VmRSS"],
             mem["broker_bare"]["VmRSS"], mem["broker"]["RssShmem"], fleet["tracked_devices"],
             fleet["tracked_symbols"]),
         "≤ %d MiB" % TARGET_RSS_MIB, yes(rss_sum <= TARGET_RSS_MIB)),
        ("/metrics plain, p99 over %d requests ÷ floor's p99 (median of %d sets)" % (
            args.scrapes, args.latency_sets),
         "%s× (all sets: tkmprom p50 %.2f / p99 %.2f ms, floor %.2f / %.2f ms; %d B)" % (
             spread(lp["set_ratios"]), lp["tkmprom_p50_ms"], lp["tkmprom_p99_ms"],
             lp["floor_p50_ms"], lp["floor_p99_ms"], lp["floor_bytes"]),
         "≤ %.1f×" % TARGET_PLAIN_VS_FLOOR, yes(lp["p99_vs_floor"] <= TARGET_PLAIN_VS_FLOOR)),
        ("/metrics gzip, the same",
         "%s× (all sets: tkmprom p50 %.2f / p99 %.2f ms, floor %.2f / %.2f ms; %d B)" % (
             spread(lz["set_ratios"]), lz["tkmprom_p50_ms"], lz["tkmprom_p99_ms"],
             lz["floor_p50_ms"], lz["floor_p99_ms"], lz["floor_bytes"]),
         "≤ %.1f×" % TARGET_GZIP_VS_FLOOR, yes(lz["p99_vs_floor"] <= TARGET_GZIP_VS_FLOOR)),
        ("observations dropped at the replay's full rate",
         "%d over %d plugin runs (up to %.0f publishes/s); counted == sent in %s%s" % (
             dropped, len(plugin_runs), summary["peak_rate_plugin"],
             "every run" if all_counted else "NOT every run",
             "; a companion restarted" if restarted else ""),
         "0", yes(dropped == 0 and all_counted and not restarted)),
    ]
    for row in rows:
        print("| %s |" % " | ".join(row))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
