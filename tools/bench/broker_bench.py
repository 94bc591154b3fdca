#!/usr/bin/python3
"""Broker-level benchmark: the same recorded fleet traffic replayed as fast as
possible into a bare mosquitto and into one with tkmprom, in alternating
rounds.

Reports, per million publishes: the broker's CPU seconds bare and with the
plugin and their ratio (median over rounds), the companion's CPU seconds, the
publish rate taken, ring drops, the processes' RSS after a fleet of N devices
and S symbols, and /metrics latency p50/p99 at that size, plain and gzip.

CPU is read from /proc/<pid>/schedstat (nanoseconds on CPU, all threads), so
the figures do not depend on wall-clock time on a busy machine.

Usage: tools/bench/broker_bench.py [--build build] [--rounds 5] [--publishes 1000000]
"""

import argparse
import gzip
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """CPU time of every thread of pid, in seconds."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e9


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def descendant(pid, comm):
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.index("(") + 1:stat.rindex(")")] != comm:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        # comm "tkmprom" is the supervisor's child; the supervisor is the broker's.
        try:
            with open("/proc/%d/stat" % ppid) as f:
                pstat = f.read()
            gppid = int(pstat[pstat.rindex(")") + 2:].split()[1])
        except OSError:
            continue
        if ppid == pid or gppid == pid:
            return int(entry)
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
            while time.monotonic() < deadline and self.metrics_text() is None:
                time.sleep(0.05)
            self.companion = descendant(self.proc.pid, "tkmprom")
        else:
            self.companion = None

    def metrics_text(self, encoding=None):
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
            c.request("GET", "/metrics", headers={"Accept-Encoding": encoding} if encoding else {})
            r = c.getresponse()
            body = r.read()
            c.close()
            if r.status != 200:
                return None
            return gzip.decompress(body).decode() if encoding else body.decode()
        except OSError:
            return None

    def metric_sum(self, name):
        text = self.metrics_text() or ""
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

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


def wait_idle(pid, timeout=60):
    """Waits until pid's CPU time stops growing (it drained its input).
    Returns (cpu seconds, monotonic time it went idle)."""
    last = cpu_seconds(pid)
    last_t = time.monotonic()
    deadline = last_t + timeout
    while time.monotonic() < deadline:
        time.sleep(SETTLE_S)
        now = cpu_seconds(pid)
        if now - last < 0.002:
            return now, last_t
        last, last_t = now, time.monotonic()
    return last, last_t


def scrape_latency(broker, n, encoding):
    conn = http.client.HTTPConnection("127.0.0.1", broker.http_port, timeout=10)
    samples = []
    headers = {"Accept-Encoding": encoding} if encoding else {}
    size = 0
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("GET", "/metrics", headers=headers)
        r = conn.getresponse()
        body = r.read()
        samples.append(time.perf_counter() - t0)
        size = len(body)
    conn.close()
    samples.sort()
    return samples[len(samples) // 2] * 1e3, samples[int(len(samples) * 0.99) - 1] * 1e3, size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--mosquitto", default=shutil.which("mosquitto") or "/usr/sbin/mosquitto")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--publishes", type=int, default=1000000)
    ap.add_argument("--devices", type=int, default=8000)
    ap.add_argument("--symbols", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--scrapes", type=int, default=1000)
    ap.add_argument("--subscribers", type=int, default=1,
                    help="mosquitto_sub clients on '#' (delivery work, as in the fleet)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    plugin = os.path.join(build, "plugin", "tkmprom.so")
    fleetsim = os.path.join(build, "tools", "fleetsim", "fleetsim")
    replay_bin = os.path.join(build, "tools", "fleetsim", "fleetreplay")
    work = tempfile.mkdtemp(prefix="tkmprom-bench-")
    traffic = os.path.join(work, "traffic.jsonl")
    # The fleet mix: 20 simulated minutes (every device ticks, heartbeat
    # waves, boots), replayed as often as needed for the requested publishes.
    seconds = 1200
    subprocess.run([fleetsim, "--dump", traffic, "--devices", str(args.devices), "--symbols",
                    str(args.symbols), "--duration", str(seconds), "--summary",
                    os.path.join(work, "truth.json")], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    with open(traffic) as f:
        available = sum(1 for _ in f)
    repeat = max(1, -(-args.publishes // available))
    publishes = available * repeat
    print("traffic: %d publishes (%d x %d) of a %d-device, %d-symbol fleet (%d s simulated)" % (
        publishes, repeat, available, args.devices, args.symbols, seconds), file=sys.stderr)

    rounds = []
    for r in range(args.rounds):
        order = ["bare", "plugin"] if r % 2 == 0 else ["plugin", "bare"]
        result = {}
        for variant in order:
            b = Broker(args.mosquitto, plugin if variant == "plugin" else None, work,
                       args.subscribers)
            try:
                cpu0, _ = wait_idle(b.proc.pid)
                if b.companion:
                    wait_idle(b.companion)
                comp0 = cpu_seconds(b.companion) if b.companion else 0
                t0 = time.monotonic()
                out = replay(replay_bin, b, traffic, args.connections, repeat)
                cpu1, t1 = wait_idle(b.proc.pid)
                # The rate the broker took: publishes over the time until it went idle.
                entry = {"broker_cpu_s": cpu1 - cpu0, "sent": out["sent"],
                         "rate": out["sent"] / max(t1 - t0, 1e-9)}
                if b.companion:
                    deadline = time.monotonic() + 60
                    seen = 0
                    while time.monotonic() < deadline:
                        seen = b.metric_sum("tickrmeter_messages_total")
                        if seen >= out["sent"]:
                            break
                        time.sleep(0.2)
                    wait_idle(b.companion)
                    entry["companion_cpu_s"] = cpu_seconds(b.companion) - comp0
                    entry["counted"] = seen
                    entry["dropped"] = b.metric_sum("tickrmeter_observations_dropped_total")
                result[variant] = entry
            finally:
                b.stop()
        per_m = 1e6 / result["bare"]["sent"]
        row = {
            "bare_cpu_per_m": result["bare"]["broker_cpu_s"] * per_m,
            "plugin_cpu_per_m": result["plugin"]["broker_cpu_s"] * 1e6 / result["plugin"]["sent"],
            "companion_cpu_per_m": result["plugin"]["companion_cpu_s"] * 1e6 /
            result["plugin"]["sent"],
            "rate_bare": result["bare"]["rate"], "rate_plugin": result["plugin"]["rate"],
            "sent": result["plugin"]["sent"], "counted": result["plugin"]["counted"],
            "dropped": result["plugin"]["dropped"],
        }
        row["ratio"] = row["plugin_cpu_per_m"] / row["bare_cpu_per_m"]
        row["companion_vs_bare"] = row["companion_cpu_per_m"] / row["bare_cpu_per_m"]
        rounds.append(row)
        print("round %d: bare %.3f s/M, plugin %.3f s/M (x%.3f), companion %.3f s/M "
              "(x%.3f of bare), rate %.0f/s, counted %d of %d, dropped %d" % (
                  r + 1, row["bare_cpu_per_m"], row["plugin_cpu_per_m"], row["ratio"],
                  row["companion_cpu_per_m"], row["companion_vs_bare"], row["rate_plugin"],
                  row["counted"], row["sent"], row["dropped"]), file=sys.stderr)

    # Memory and scrape latency with the whole fleet known: every device and symbol.
    bare = Broker(args.mosquitto, None, work)
    replay(replay_bin, bare, traffic, args.connections)
    wait_idle(bare.proc.pid)
    bare_rss = rss_mib(bare.proc.pid)
    bare.stop()
    b = Broker(args.mosquitto, plugin, work)
    replay(replay_bin, b, traffic, args.connections)
    wait_idle(b.proc.pid)
    time.sleep(2.5)  # one snapshot later
    metrics = b.metrics_text() or ""
    tracked_devices = b.metric_sum("tickrmeter_devices_tracked")
    symbols = len({line.split('symbol="', 1)[1].split('"', 1)[0] for line in metrics.splitlines()
                   if line.startswith("tickrmeter_stock_update_requests_total{")})
    plugin_rss = rss_mib(b.proc.pid)
    companion_rss = rss_mib(b.companion)
    scrape_latency(b, 5, None)
    p50, p99, plain_size = scrape_latency(b, args.scrapes, None)
    z50, z99, gzip_size = scrape_latency(b, args.scrapes, "gzip")
    b.stop()
    shutil.rmtree(work, ignore_errors=True)

    med = lambda k: statistics.median(r[k] for r in rounds)
    summary = {
        "rounds": rounds, "publishes": publishes,
        "broker_cpu_per_million_bare_s": med("bare_cpu_per_m"),
        "broker_cpu_per_million_plugin_s": med("plugin_cpu_per_m"),
        "broker_ratio_median": med("ratio"),
        "companion_cpu_per_million_s": med("companion_cpu_per_m"),
        "companion_vs_bare_median": med("companion_vs_bare"),
        "peak_rate_plugin": max(r["rate_plugin"] for r in rounds),
        "dropped_total": sum(r["dropped"] for r in rounds),
        "all_counted": all(r["counted"] == r["sent"] for r in rounds),
        "tracked_devices": tracked_devices, "tracked_symbols": symbols,
        "broker_rss_bare_mib": bare_rss, "broker_rss_plugin_mib": plugin_rss,
        "broker_rss_growth_mib": plugin_rss - bare_rss, "companion_rss_mib": companion_rss,
        "metrics_plain_bytes": plain_size, "metrics_gzip_bytes": gzip_size,
        "metrics_p50_ms": p50, "metrics_p99_ms": p99,
        "metrics_gzip_p50_ms": z50, "metrics_gzip_p99_ms": z99,
    }
    print("| figure | value |\n| --- | --- |")
    rows = [
        ("broker CPU per 1M publishes, bare (median)", "%.3f s" % summary[
            "broker_cpu_per_million_bare_s"]),
        ("broker CPU per 1M publishes, with tkmprom (median)", "%.3f s" % summary[
            "broker_cpu_per_million_plugin_s"]),
        ("ratio with/without (median of %d rounds)" % len(rounds), "%.3f" % summary[
            "broker_ratio_median"]),
        ("companion CPU per 1M publishes (median)", "%.3f s = %.3f x bare broker" % (
            summary["companion_cpu_per_million_s"], summary["companion_vs_bare_median"])),
        ("peak publish rate taken (with tkmprom)", "%.0f /s" % summary["peak_rate_plugin"]),
        ("ring drops over all rounds", "%d" % summary["dropped_total"]),
        ("sum(tickrmeter_messages_total) == sent, every round", str(summary["all_counted"])),
        ("fleet held", "%d devices, %d symbols" % (tracked_devices, symbols)),
        ("broker RSS bare / with tkmprom (growth)", "%.1f / %.1f MiB (+%.1f)" % (
            bare_rss, plugin_rss, plugin_rss - bare_rss)),
        ("companion RSS", "%.1f MiB" % companion_rss),
        ("/metrics plain: size, p50, p99", "%d B, %.2f ms, %.2f ms" % (plain_size, p50, p99)),
        ("/metrics gzip: size, p50, p99", "%d B, %.2f ms, %.2f ms" % (gzip_size, z50, z99)),
    ]
    for k, v in rows:
        print("| %s | %s |" % (k, v))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
