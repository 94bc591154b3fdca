"""Integration-test harness: a real mosquitto with the built plugin, a real
MQTT client (paho) and real HTTP scrapes.

Environment (set by meson): TKMPROM_PLUGIN (the built tkmprom.so),
MOSQUITTO (the broker binary), PROMTOOL and PROMETHEUS (optional).
From the caller (scripts/test-matrix): TKMPROM_MOSQUITTO, a broker binary
that wins over MOSQUITTO (meson's test environment wins over the caller's);
TKMPROM_PLUGIN_DIRECTIVE, `plugin` (default) or `global_plugin` (mosquitto
2.1), the directive that loads the plugin when not per listener.

For a sanitizer-built plugin (scripts/test-hardening), TKMPROM_BROKER_PRELOAD
names the sanitizer runtime (libasan or libtsan) to preload into the
un-instrumented broker: it is passed as LD_PRELOAD to mosquitto only, with
leak detection off (the broker's own allocations are not ours) and the
sanitizers' reports written into the broker's directory, where cleanup()
finds them and fails the test.
"""

import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import paho.mqtt.client as mqtt

PLUGIN = os.environ.get("TKMPROM_PLUGIN", "")
MOSQUITTO = (os.environ.get("TKMPROM_MOSQUITTO") or
             os.environ.get("MOSQUITTO", shutil.which("mosquitto") or "/usr/sbin/mosquitto"))
PLUGIN_DIRECTIVE = os.environ.get("TKMPROM_PLUGIN_DIRECTIVE") or "plugin"
if PLUGIN_DIRECTIVE not in ("plugin", "global_plugin"):
    raise SystemExit("TKMPROM_PLUGIN_DIRECTIVE must be plugin or global_plugin, not %r"
                     % PLUGIN_DIRECTIVE)
PROMTOOL = os.environ.get("PROMTOOL", shutil.which("promtool") or "")
PROMETHEUS = os.environ.get("PROMETHEUS", shutil.which("prometheus") or "/usr/bin/prometheus")
BROKER_PRELOAD = os.environ.get("TKMPROM_BROKER_PRELOAD", "")

DEFAULT_WAIT_S = 15.0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=DEFAULT_WAIT_S, interval=0.05, what="condition"):
    """Polls predicate until it returns a truthy value; raises on deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, ((label, value), ...)): float} for every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise AssertionError("unparsable exposition line: %r" % line)
        labels = tuple(sorted(_LABEL.findall(m.group(3) or "")))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(metrics, name, **labels):
    return metrics.get((name, tuple(sorted(labels.items()))))


def series(metrics, name):
    """{labels-dict-as-tuple: value} of one metric name."""
    return {k[1]: v for k, v in metrics.items() if k[0] == name}


def restarts(metrics, reason=None):
    """tickrmeter_companion_restarts_total: of one reason (exit, signal,
    hung), or summed over all; None when the family is missing."""
    found = {dict(k).get("reason"): v for k, v in series(metrics, "tickrmeter_companion_restarts_total").items()}
    if not found:
        return None
    if reason is not None:
        return found.get(reason)
    return sum(found.values())


def stop_process(proc, timeout):
    """SIGTERM to a child still running, SIGKILL after `timeout` seconds; reaps it."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Broker:
    """One mosquitto process with the plugin, on free loopback ports."""

    def __init__(self, options=None, extra_conf="", plugin=True, per_listener=False,
                 listeners=1, later_listener_options=None):
        self.dir = tempfile.mkdtemp(prefix="tkmprom-it-")
        self.ports = [free_port() for _ in range(listeners)]
        self.port = self.ports[0]
        self.http_port = free_port()
        self.options = {"http_listen": "127.0.0.1:%d" % self.http_port}
        self.options.update(options or {})
        # per_listener_settings must come before any security setting.
        lines = ["per_listener_settings true"] if per_listener else ["allow_anonymous true"]
        lines += ["user root", "log_type all", "log_dest file %s/mosquitto.log" % self.dir,
                  "persistence false"]
        # global_plugin (2.1) loads the plugin once for all listeners; per
        # listener it stays `plugin`, under each listener.
        directive = "plugin" if per_listener else PLUGIN_DIRECTIVE
        plugin_lines = ["%s %s" % (directive, PLUGIN)] + [
            "plugin_opt_%s %s" % (k, v) for k, v in self.options.items()] if plugin else []
        if per_listener:
            # Each listener loads the plugin: init runs once per listener.
            for i, p in enumerate(self.ports):
                lines += ["listener %d 127.0.0.1" % p, "allow_anonymous true"] + plugin_lines
                if i == 0 and later_listener_options:
                    plugin_lines = plugin_lines + ["plugin_opt_%s %s" % kv for kv in
                                                   later_listener_options.items()]
        else:
            lines += plugin_lines
            lines += ["listener %d 127.0.0.1" % p for p in self.ports]
        lines.append(extra_conf)
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    @property
    def log_path(self):
        return os.path.join(self.dir, "mosquitto.log")

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def env(self):
        """The environment to start this broker's mosquitto in (None: ours)."""
        env = None
        if BROKER_PRELOAD:
            env = dict(os.environ, LD_PRELOAD=BROKER_PRELOAD)
            # Later flags win: keep the caller's, then ours. The companion is
            # a fork of the broker, so its reports land here too.
            asan = os.path.join(self.dir, "sanitizer-asan")
            ubsan = os.path.join(self.dir, "sanitizer-ubsan")
            # A small quarantine keeps the broker's RSS comparable to an
            # uninstrumented one (tests bound its growth under floods).
            # handle_segv=0: a SIGSEGV sent on purpose (test_lifecycle) ends
            # the process by that signal, as without a sanitizer, instead of
            # a report and exit 1; invalid accesses are still caught by the
            # instrumentation itself.
            env["ASAN_OPTIONS"] = ":".join(filter(None, [
                os.environ.get("ASAN_OPTIONS", ""), "detect_leaks=0", "quarantine_size_mb=8",
                "handle_segv=0", "log_path=" + asan]))
            env["UBSAN_OPTIONS"] = ":".join(filter(None, [
                os.environ.get("UBSAN_OPTIONS", ""), "print_stacktrace=1", "log_path=" + ubsan]))
            env["TSAN_OPTIONS"] = ":".join(filter(None, [
                os.environ.get("TSAN_OPTIONS", ""), "handle_segv=0",
                "log_path=" + os.path.join(self.dir, "sanitizer-tsan")]))
        return env

    def _popen_broker(self):
        return subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=self.env())

    def sanitizer_reports(self):
        """The text of every sanitizer report the broker or companion wrote."""
        reports = []
        for name in sorted(os.listdir(self.dir)):
            if name.startswith("sanitizer-"):
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    reports.append("%s:\n%s" % (name, f.read()))
        return reports

    def start(self, expect_http=True):
        self.proc = self._popen_broker()
        wait_until(lambda: self._mqtt_up() or self.proc.poll() is not None,
                   what="broker to listen")
        if self.proc.poll() is not None:
            raise AssertionError("broker exited with %s; log:\n%s" % (self.proc.returncode,
                                                                     self.log()))
        if expect_http:
            wait_until(lambda: self.http_status("/healthz") == 200, what="companion /healthz")
        return self

    def run_expecting_failure(self, timeout=10):
        """Starts the broker and returns its exit code (it must exit by itself)."""
        self.proc = self._popen_broker()
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("broker kept running; log:\n" + self.log())

    def _mqtt_up(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self):
        if self.proc:
            stop_process(self.proc, timeout=10)

    def cleanup(self):
        self.stop()
        reports = self.sanitizer_reports() if os.path.isdir(self.dir) else []
        shutil.rmtree(self.dir, ignore_errors=True)
        if reports:
            raise AssertionError("sanitizer reports from the broker or companion:\n" +
                                 "\n".join(reports))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # --- processes ----------------------------------------------------------

    def children(self, name=None):
        """pids of processes whose parent is pid (name: their comm)."""
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    stat = f.read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            found.append((int(entry), ppid, comm))
        return found

    def descendants(self):
        procs = self.children()
        result, frontier = [], [self.proc.pid]
        while frontier:
            parent = frontier.pop()
            for pid, ppid, comm in procs:
                if ppid == parent:
                    result.append((pid, comm))
                    frontier.append(pid)
        return result

    def companion_pid(self):
        for pid, comm in self.descendants():
            if comm == "tkmprom":
                return pid
        return None

    def thread_count(self):
        return len(os.listdir("/proc/%d/task" % self.proc.pid))

    # --- HTTP ---------------------------------------------------------------

    def http(self, path, headers=None, method="GET"):
        """(status, headers-dict, body bytes); never raises for HTTP errors."""
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.http_port, path),
                                     headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
        except urllib.error.HTTPError as e:
            return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()
        except (urllib.error.URLError, OSError):
            return None, {}, b""

    def http_status(self, path):
        return self.http(path)[0]

    def metrics_text(self, headers=None):
        status, hdrs, body = self.http("/metrics", headers)
        if status != 200:
            raise AssertionError("/metrics answered %s" % status)
        if hdrs.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        return body.decode()

    def metrics(self):
        return parse_metrics(self.metrics_text())

    def wait_metric(self, name, expected, timeout=DEFAULT_WAIT_S, **labels):
        """Waits until metric name{labels} == expected; returns all metrics."""
        state = {}

        def check():
            state["m"] = self.metrics()
            return value(state["m"], name, **labels) == expected

        try:
            wait_until(check, timeout=timeout, interval=0.2,
                       what="%s%r == %r" % (name, labels, expected))
        except AssertionError:
            raise AssertionError("%s%r is %r, expected %r" % (
                name, labels, value(state.get("m", {}), name, **labels), expected))
        return state["m"]

    def wait_restarts(self, expected, reason=None, timeout=DEFAULT_WAIT_S):
        """Waits until restarts(reason) == expected; returns all metrics."""
        state = {}

        def check():
            state["m"] = self.metrics()
            return restarts(state["m"], reason) == expected

        try:
            wait_until(check, timeout=timeout, interval=0.2,
                       what="companion restarts (%s) == %r" % (reason or "all", expected))
        except AssertionError:
            raise AssertionError("companion restarts (%s) are %r, expected %r" % (
                reason or "all", restarts(state.get("m", {}), reason), expected))
        return state["m"]

    # --- MQTT ---------------------------------------------------------------

    def client(self, client_id="", port=None):
        c = mqtt.Client(client_id=client_id, clean_session=True)
        c.connect("127.0.0.1", port or self.port, keepalive=30)
        c.loop_start()
        return c


def publish_all(client, messages):
    """messages: iterable of (topic, payload, qos, retain); waits for each."""
    for topic, payload, qos, retain in messages:
        info = client.publish(topic, payload, qos=qos, retain=retain)
        # Bounded: a broker that keeps refusing the packet (and the client
        # resending it) makes the test fail, not hang.
        info.wait_for_publish(timeout=30)
        if not info.is_published():
            raise AssertionError("publish to %s not acknowledged within 30 s" % topic)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise AssertionError("publish to %s failed: %s" % (topic, info.rc))


def close(client):
    client.loop_stop()
    client.disconnect()


class Prometheus:
    """A real Prometheus on a free loopback port, with a temporary folder for
    its configuration, TSDB and log. `config` is its prometheus.yml as a
    dict; `files` ({name: dict}) are written as YAML beside it (rule files
    named relative to the folder)."""

    def __init__(self, config, name="", files=None):
        import yaml  # only the tests that run a Prometheus need python3-yaml
        self.dir = tempfile.mkdtemp(prefix="tkmprom-prom-%s" % (name + "-" if name else ""))
        self.port = free_port()
        self.config = config
        for file_name, content in dict(files or {}, **{"prometheus.yml": config}).items():
            with open(os.path.join(self.dir, file_name), "w") as f:
                yaml.safe_dump(content, f)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + os.path.join(self.dir, "prometheus.yml"),
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=self.log, stderr=self.log, cwd=self.dir)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def alive(self):
        return self.proc.poll() is None

    def log_text(self):
        with open(os.path.join(self.dir, "prometheus.log"), errors="replace") as f:
            return f.read()

    def api(self, path, **params):
        """The decoded JSON answer of an HTTP API path (error answers too),
        None when there is none."""
        url = "http://%s%s" % (self.address, path)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            try:
                return json.loads(e.read())
            except ValueError:
                return None
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def query(self, expr):
        """The API's answer to an instant query."""
        return self.api("/api/v1/query", query=expr)

    def value(self, expr):
        """The single value of an instant query, None without exactly one."""
        r = self.query(expr)
        result = (r or {}).get("data", {}).get("result", [])
        if not r or r.get("status") != "success" or len(result) != 1:
            return None
        return float(result[0]["value"][1])

    def stop(self):
        stop_process(self.proc, timeout=15)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
