"""A bridged fleet through real brokers (README, "Bridged topologies"): a core
broker and two edge brokers, each with the plugin, the edges bridged to the
core with the bridge section and plugin options of
conf/mosquitto-edge.conf.example (names and address replaced) and the core
with those of conf/mosquitto-core.conf.example.

Devices (paho clients with their ids as client ids) connect to their edge and
send heartbeats, one boot (with its LOG/<id>) and rounds of playlist requests;
a backend on the core answers each request after a known delay, on the
device's topic: a playlist UPDATE, NO_CONFIG for the symbol-less requests, and
nothing for the symbol FAIL (timeouts). Each round waits until every answer
has reached its device, so nothing is superseded or duplicated.

Proves that every publish is counted once fleet-wide in
tickrmeter_messages_total (at the broker where it entered), that the edges
correlate the answers that crossed the bridge for their own devices and
ignore the rest, that the core's engine stays empty, and that summing over the
brokers gives the fleet: directly from the three /metrics, and through a site
Prometheus scraping them and a global Prometheus federating from it, both
configured from conf/prometheus-federation.yml. Prints a table of the traffic
sent against what was measured.
"""

import heapq
import json
import os
import threading
import time
import unittest

import paho.mqtt.client as mqtt
import yaml

from harness import PROMETHEUS, Broker, Prometheus, close, series, value, wait_until
import fleet_traffic as ft

SOURCE_ROOT = os.environ.get(
    "TKMPROM_SOURCE_ROOT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CONF = os.path.join(SOURCE_ROOT, "conf")

EDGES = ("edge1", "edge2")
DEVICES_PER_EDGE = 20
ANSWERED = ["AAPL", "BTC/USD", "MSFT"]
FAILING = "FAIL"
PLAYLIST = ANSWERED + [FAILING]
ROUNDS = 3  # of requests for every ANSWERED symbol; FAIL is asked once
ERROR_EVERY = 4  # every 4th device also sends a symbol-less request: NO_CONFIG
BACKEND_DELAY_S = 0.05
REQUEST_TIMEOUT_S = 2
PLUGIN_OPTIONS = {"request_timeout": str(REQUEST_TIMEOUT_S)}
KINDS = ("stock_request", "device_message", "heartbeat", "boot", "booted", "log")


# --- configuration from the shipped examples ---------------------------------

def example_conf(name):
    """(plugin options, bridge lines) of conf/<name>: its plugin_opt_ lines
    but http_listen, and every line from `connection` on, comments dropped."""
    with open(os.path.join(CONF, name)) as f:
        lines = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]
    options = {}
    for line in lines:
        if line.startswith("plugin_opt_"):
            key, val = line[len("plugin_opt_"):].split(None, 1)
            if key != "http_listen":
                options[key] = val
    start = next((i for i, l in enumerate(lines) if l.startswith("connection ")), len(lines))
    return options, lines[start:]


def edge_bridge(edge, core_port):
    """The example edge's bridge section for `edge`, pointed at the core."""
    _, lines = example_conf("mosquitto-edge.conf.example")
    out = []
    for line in lines:
        if line.startswith("address "):
            line = "address 127.0.0.1:%d" % core_port
        out.append(line.replace("edge1", edge))
    return out


# --- TickrMeter payloads (protocol §1.3, samples.jsonl) ------------------------

def device_ids(edge_index):
    return ["E%d%010X" % (edge_index + 1, n) for n in range(DEVICES_PER_EDGE)]


def topic_payload(message):
    """(topic, payload) of a fleet_traffic message (topic, payload, qos, retain)."""
    return message[:2]


# --- MQTT actors ---------------------------------------------------------------

def connect(port, client_id, on_message=None, subscriptions=(), userdata=None):
    """A connected paho client whose subscriptions are acknowledged."""
    c = mqtt.Client(client_id=client_id, clean_session=True, userdata=userdata)
    subscribed = threading.Event()
    c.on_subscribe = lambda *_: subscribed.set()
    if on_message:
        c.on_message = on_message
    c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    if subscriptions:
        rc, _ = c.subscribe(list(subscriptions))
        if rc != mqtt.MQTT_ERR_SUCCESS or not subscribed.wait(10):
            raise AssertionError("%s could not subscribe to %r" % (client_id, subscriptions))
    return c


def wait_published(infos):
    for info in infos:
        info.wait_for_publish()
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise AssertionError("publish failed: %s" % info.rc)


class Backend:
    """The quote backend on the core: answers each request on the device's
    topic BACKEND_DELAY_S after it arrived (FAIL never), and echoes each boot
    on DEVICE_BOOTED at once, as the handler does."""

    def __init__(self, port):
        self.lock = threading.Condition()
        self.queue = []  # (due, seq, topic, payload)
        self.seq = 0
        self.stopping = False
        self.error = None
        self.sent = {"answers": 0, "errors": 0, "booted": 0}
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        self.client = connect(port, "mqttjs_backend", self.on_message,
                              [("STOCKPRICEUPDATE", 1), ("TICKRMETERBOOT", 1)])

    def schedule(self, delay, topic, payload):
        with self.lock:
            self.seq += 1
            heapq.heappush(self.queue, (time.monotonic() + delay, self.seq, topic, payload))
            self.lock.notify()

    def on_message(self, client, userdata, msg):
        try:
            body = json.loads(msg.payload)
            if msg.topic == "TICKRMETERBOOT":
                self.sent["booted"] += 1
                self.schedule(0, "DEVICE_BOOTED", msg.payload)
                return
            symbol = body.get("symbol")
            if symbol == FAILING:
                return
            if symbol is None:
                self.sent["errors"] += 1
                _, payload = topic_payload(ft.error_answer(body["device"]))
            else:
                self.sent["answers"] += 1
                _, payload = topic_payload(ft.playlist_answer(body["device"], symbol, PLAYLIST))
            self.schedule(BACKEND_DELAY_S, body["device"], payload)
        except Exception as e:  # reported by the test
            self.error = e

    def run(self):
        while True:
            with self.lock:
                while not self.stopping and (
                        not self.queue or self.queue[0][0] > time.monotonic()):
                    self.lock.wait(self.queue[0][0] - time.monotonic() if self.queue else None)
                if self.stopping:
                    return
                _, _, topic, payload = heapq.heappop(self.queue)
            self.client.publish(topic, payload, qos=1)

    def stop(self):
        with self.lock:
            self.stopping = True
            self.lock.notify()
        self.thread.join(timeout=5)
        close(self.client)


class Edge:
    """One edge broker's devices: a client per device, subscribed to its
    topic, counting the answers it receives."""

    def __init__(self, broker, ids):
        self.broker = broker
        self.ids = ids
        self.lock = threading.Lock()
        self.received = 0
        self.clients = {d: connect(broker.port, d, self.on_answer, [(d, 1)]) for d in ids}
        self.sent = {"stock_request": 0, "heartbeat": 0, "boot": 0, "log": 0,
                     "answerable": 0, "errors": 0, "unanswered": 0}

    def on_answer(self, client, userdata, msg):
        with self.lock:
            self.received += 1

    def publish(self, messages):
        """messages: (device, topic, payload, kind); waits until all are sent."""
        infos = []
        for device, topic, payload, kind in messages:
            infos.append(self.clients[device].publish(topic, payload, qos=1))
            self.sent[kind] += 1
        wait_published(infos)

    def expected_answers(self):
        return self.sent["answerable"] + self.sent["errors"]

    def close(self):
        # Disconnect all first: each loop thread then ends at once, where
        # loop_stop() alone waits out its network loop's 1 s timeout.
        for c in self.clients.values():
            c.disconnect()
        for c in self.clients.values():
            c.loop_stop()


# --- Prometheus ----------------------------------------------------------------

def federation_configs(brokers):
    """(site, global) Prometheus configurations from
    conf/prometheus-federation.yml: the site half scrapes `brokers` ({name:
    http address}) with a broker label each; the global half is filled in
    with the site's address by the caller. Intervals 1 s."""
    with open(os.path.join(CONF, "prometheus-federation.yml")) as f:
        example = yaml.safe_load(f)
    jobs = {j["job_name"]: j for j in example["scrape_configs"]}
    fast = {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"}
    site_job = dict(jobs["tkmprom"], scrape_timeout="1s", static_configs=[
        {"targets": [address], "labels": {"broker": name}} for name, address in brokers.items()])
    site = {"global": dict(fast, external_labels=example["global"]["external_labels"]),
            "scrape_configs": [site_job]}
    global_ = {"global": fast, "scrape_configs": [jobs["tkmprom-federate"]]}
    return site, global_


# --- the test --------------------------------------------------------------------

def total(m, name, **labels):
    """Sum of every series of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for k, v in series(m, name).items() if want <= set(k))


def expected_messages(fleet, sent):
    """{broker: {(metric, kind): count}} of tickrmeter_messages_total and
    tickrmeter_messages_bridged_total that the topology implies. The core:
    the backend's answers and DEVICE_BOOTED echoes as its own, everything the
    edges send out as bridged. An edge: its devices' publishes as its own;
    over `+ in` every answer and echo, and the other edges' requests,
    heartbeats and boots (single-level topics), never its own back; LOG/<id>
    only goes out."""
    mt, mb = "tickrmeter_messages_total", "tickrmeter_messages_bridged_total"
    out = {"core": {}}
    for kind in ("device_message", "booted"):
        out["core"][(mt, kind)] = sent[kind]
        out["core"][(mb, kind)] = 0
    for kind in ("stock_request", "heartbeat", "boot", "log"):
        out["core"][(mt, kind)] = 0
        out["core"][(mb, kind)] = sent[kind]
    for name, e in fleet.items():
        others = [o for o in fleet.values() if o is not e]
        want = out[name] = {}
        for kind in ("stock_request", "heartbeat", "boot", "log"):
            want[(mt, kind)] = e.sent[kind]
        for kind in ("stock_request", "heartbeat", "boot"):
            want[(mb, kind)] = sum(o.sent[kind] for o in others)
        want[(mb, "log")] = 0
        for kind in ("device_message", "booted"):
            want[(mt, kind)] = 0
            want[(mb, kind)] = sent[kind]
    return out


class BridgedFleetTest(unittest.TestCase):

    def setUp(self):
        self.failures = []

    def check(self, what, got, expected):
        if got != expected:
            self.failures.append("%s: got %r, expected %r" % (what, got, expected))

    def start_broker(self, options, extra_conf=""):
        b = Broker(options=dict(PLUGIN_OPTIONS, **options), extra_conf=extra_conf)
        self.addCleanup(b.cleanup)
        return b.start()

    def test_bridged_fleet_counts_each_publish_once_and_federates(self):
        core_options, core_bridge = example_conf("mosquitto-core.conf.example")
        edge_options, _ = example_conf("mosquitto-edge.conf.example")
        self.assertEqual(core_bridge, [], "the core needs no bridge of its own")
        self.assertEqual(edge_options.get("bridge_clients"), "bridge-*")
        phases = [("start", time.monotonic())]
        core = self.start_broker(core_options)
        edges = {name: self.start_broker(edge_options, "\n".join(edge_bridge(name, core.port)))
                 for name in EDGES}
        brokers = dict(core=core, **edges)

        proms = None
        if os.path.exists(PROMETHEUS):
            site_conf, global_conf = federation_configs(
                {n: "127.0.0.1:%d" % b.http_port for n, b in brokers.items()})
            site = Prometheus(site_conf, "site")
            self.addCleanup(site.stop)
            global_conf["scrape_configs"][0]["static_configs"] = [{"targets": [site.address]}]
            glob = Prometheus(global_conf, "global")
            self.addCleanup(glob.stop)
            proms = (site, glob)
        else:
            print("\nprometheus not installed: federation not checked")

        probes = self.wait_for_bridges(core, edges)
        phases.append(("brokers and bridges up", time.monotonic()))

        backend = Backend(core.port)
        self.addCleanup(backend.stop)
        fleet = {name: Edge(edges[name], device_ids(i)) for i, name in enumerate(EDGES)}
        for e in fleet.values():
            self.addCleanup(e.close)
        self.drive(fleet)
        phases.append(("traffic", time.monotonic()))
        self.assertIsNone(backend.error)

        sent = {
            "stock_request": sum(e.sent["stock_request"] for e in fleet.values()),
            "heartbeat": sum(e.sent["heartbeat"] for e in fleet.values()),
            "boot": sum(e.sent["boot"] for e in fleet.values()),
            "log": sum(e.sent["log"] for e in fleet.values()),
            "device_message": backend.sent["answers"] + backend.sent["errors"],
            "booted": backend.sent["booted"],
        }
        self.check("boots the backend saw and echoed", backend.sent["booted"], sent["boot"])
        expected = expected_messages(fleet, sent)
        m = self.settled_metrics(brokers, expected)
        phases.append(("timeouts and counts settled", time.monotonic()))
        answered = backend.sent["answers"]
        errors = backend.sent["errors"]
        unanswered = sum(e.sent["unanswered"] for e in fleet.values())
        devices = sum(len(e.ids) for e in fleet.values())
        self.assertEqual(answered, sum(e.sent["answerable"] for e in fleet.values()))
        self.assertEqual(sent["stock_request"], answered + errors + unanswered)

        self.check_plugins(m, expected, fleet, sent, answered, errors, unanswered, devices)

        fed = None
        if proms:
            fed = self.check_federation(proms, sent, answered, errors, unanswered, devices)
            phases.append(("federated numbers there", time.monotonic()))

        self.print_tables(m, sent, answered, errors, unanswered, devices, fed, probes, phases)
        self.assertEqual(self.failures, [], "\n" + "\n".join(self.failures))

    def test_a_device_that_moves_to_another_edge_is_counted_once(self):
        """Devices reconnect to whichever edge they reach. When a device
        publishes through edge2, its heartbeat and request reach edge1 over
        the bridge and edge1 forgets it, so the device is online and
        correlated at one broker: edge1 -> edge2 -> edge1."""
        core_options, _ = example_conf("mosquitto-core.conf.example")
        edge_options, _ = example_conf("mosquitto-edge.conf.example")
        core = self.start_broker(core_options)
        edges = {name: self.start_broker(edge_options, "\n".join(edge_bridge(name, core.port)))
                 for name in EDGES}
        self.wait_for_bridges(core, edges)
        backend = Backend(core.port)
        self.addCleanup(backend.stop)
        device = "D00000000001"
        hops = ["edge1", "edge2", "edge1"]
        requests = {name: 0 for name in EDGES}
        for n, edge in enumerate(hops):
            answered = threading.Event()
            c = connect(edges[edge].port, device, lambda *_: answered.set(), [(device, 1)])
            try:
                wait_published([
                    c.publish(*topic_payload(ft.heartbeat(device, uptime=100 + n)), qos=1),
                    c.publish(*topic_payload(ft.request(device, "AAPL")), qos=1)])
                requests[edge] += 1
                self.assertTrue(answered.wait(10), "no answer at %s" % edge)
            finally:
                close(c)
            # The edge left behind has forgotten the device, the new one has it.
            for name, b in edges.items():
                want = {"tickrmeter_devices_tracked": 1 if name == edge else 0,
                        "tickrmeter_stock_update_requests_total": requests[name],
                        "tickrmeter_stock_update_responses_total": requests[name]}
                try:
                    wait_until(lambda b=b, want=want: all(
                        total(b.metrics(), k) == v for k, v in want.items()), timeout=10,
                        interval=0.25, what="%s after hop %d to %s" % (name, n, edge))
                except AssertionError as e:
                    self.failures.append(str(e))
        m = {name: b.metrics() for name, b in dict(core=core, **edges).items()}
        for metric, want in (("tickrmeter_devices_online", 1), ("tickrmeter_devices_tracked", 1),
                             ("tickrmeter_stock_update_requests_total", len(hops)),
                             ("tickrmeter_stock_update_responses_total", len(hops)),
                             ("tickrmeter_stock_update_latency_seconds_count", len(hops)),
                             ("tickrmeter_stock_update_unmatched_responses_total", 0),
                             ("tickrmeter_symbol_timeout_total", 0),
                             ("tickrmeter_stock_update_pending", 0)):
            self.check("sum " + metric, sum(total(x, metric) for x in m.values()), want)
        self.check("edge1 online", total(m["edge1"], "tickrmeter_devices_online"), 1)
        self.assertEqual(self.failures, [], "\n" + "\n".join(self.failures))

    # --- steps -------------------------------------------------------------------

    def settled_metrics(self, brokers, expected):
        """{broker: metrics} once each has counted every publish it should
        (`expected`, from expected_messages) and resolved every request (the
        FAIL requests time out after request_timeout). A snapshot can be a
        second old, so the counts are waited for, not only "nothing pending"."""
        m = {}
        for name, b in brokers.items():
            def check(b=b, want=expected[name]):
                x = b.metrics()
                done = total(x, "tickrmeter_stock_update_pending") == 0 and all(
                    value(x, metric, kind=kind) == n for (metric, kind), n in want.items())
                return x if done else None
            try:
                m[name] = wait_until(check, timeout=REQUEST_TIMEOUT_S + 15, interval=0.25,
                                     what="everything counted, nothing pending at " + name)
            except AssertionError as e:
                self.failures.append(str(e))
                m[name] = b.metrics()
        return m

    def wait_for_bridges(self, core, edges):
        """Both bridges up both ways: each edge and the core hold the edge's
        retained bridge state 1 (the core's came over the bridge: edge →
        core), and a probe published on the core reaches every edge over its
        `+ in` subscription (core → edge). Returns the number of probes
        published on the core."""
        states = {}
        state_lock = threading.Lock()
        watched = dict(core=core, **edges)

        def on_state(client, userdata, msg):
            with state_lock:
                states[(userdata, msg.topic)] = msg.payload.decode(errors="replace")
        watchers = []
        for name, b in watched.items():
            watchers.append(connect(b.port, "tkmprobe-watch-" + name, on_state,
                                    [("$SYS/broker/connection/+/state", 0)], userdata=name))
        try:
            wait_until(lambda: all(
                states.get((where, "$SYS/broker/connection/bridge-%s/state" % e)) == "1"
                for e in edges for where in ("core", e)), timeout=20, interval=0.1,
                what="bridge states 1 on the core and the edges")
        except AssertionError as e:
            raise AssertionError("%s; states seen: %r" % (e, states))
        finally:
            for w in watchers:
                close(w)

        seen = {e: threading.Event() for e in edges}
        listeners = [connect(b.port, "tkmprobe-" + e,
                             lambda c, u, msg, e=e: seen[e].set(), [("TKMPROBE", 0)])
                     for e, b in edges.items()]
        prober = connect(core.port, "tkmprobe-core")
        probes = 0
        try:
            deadline = time.monotonic() + 20
            while not all(s.is_set() for s in seen.values()):
                if time.monotonic() > deadline:
                    raise AssertionError("probes from the core did not reach %r" % [
                        e for e, s in seen.items() if not s.is_set()])
                wait_published([prober.publish("TKMPROBE", "probe %d" % probes, qos=1)])
                probes += 1
                time.sleep(0.2)
        finally:
            for c in listeners + [prober]:
                close(c)
        return probes

    def drive(self, fleet):
        """Heartbeat, boot and LOG per device; then ROUNDS rounds of requests,
        each waiting until every answer reached its device, each followed by
        a heartbeat per device (uptime rising, so no heartbeat is a boot)."""
        for e in fleet.values():
            e.publish([m for d in e.ids for m in (
                (d, *topic_payload(ft.heartbeat(d, uptime=100)), "heartbeat"),
                (d, *topic_payload(ft.boot(d)), "boot"),
                (d, "LOG/" + d, "SR lock check start.|non-xmc (C84016). SR lock skipped.|",
                 "log"))])
        for r in range(ROUNDS):
            for e in fleet.values():
                messages = []
                for n, d in enumerate(e.ids):
                    for s in ANSWERED:
                        messages.append((d, *topic_payload(ft.request(d, s)), "stock_request"))
                        e.sent["answerable"] += 1
                    if r == 0:
                        messages.append((d, *topic_payload(ft.request(d, FAILING)),
                                         "stock_request"))
                        e.sent["unanswered"] += 1
                        if n % ERROR_EVERY == 0:
                            messages.append((d, *topic_payload(ft.request(d)),
                                             "stock_request"))
                            e.sent["errors"] += 1
                e.publish(messages)
            for name, e in fleet.items():
                wait_until(lambda e=e: e.received == e.expected_answers(), timeout=20,
                           what="round %d's answers at %s's devices" % (r, name))
            for e in fleet.values():
                e.publish([(d, *topic_payload(ft.heartbeat(d, uptime=110 + 10 * r)), "heartbeat")
                           for d in e.ids])
        for name, e in fleet.items():
            self.check("answers delivered to %s's devices" % name, e.received,
                       e.expected_answers())

    def check_plugins(self, m, expected, fleet, sent, answered, errors, unanswered, devices):
        mt = "tickrmeter_messages_total"
        for kind in KINDS:
            self.check("sum %s{kind=%s}" % (mt, kind),
                       sum(value(x, mt, kind=kind) or 0 for x in m.values()), sent[kind])
        for name, want in expected.items():
            for (metric, kind), n in want.items():
                self.check("%s %s{kind=%s}" % (name, metric, kind),
                           value(m[name], metric, kind=kind), n)

        fleet_sums = {
            "tickrmeter_stock_update_requests_total": sent["stock_request"],
            "tickrmeter_stock_update_responses_total": answered,
            "tickrmeter_stock_update_errors_total": errors,
            "tickrmeter_symbol_timeout_total": unanswered,
            "tickrmeter_stock_update_superseded_total": 0,
            "tickrmeter_stock_update_pending": 0,
            "tickrmeter_stock_update_unmatched_responses_total": 0,
            "tickrmeter_devices_online": devices,
            "tickrmeter_device_boots_total": devices,
            "tickrmeter_stock_update_latency_seconds_count": answered,
            "tickrmeter_messages_invalid_total": 0,
            "tickrmeter_observations_dropped_total": 0,
        }
        for name, n in fleet_sums.items():
            self.check("sum " + name, sum(total(x, name) for x in m.values()), n)
        self.check_latency("fleet", m.values())

        # The core sees every request, heartbeat and boot, but only over the
        # bridges: its engine stays empty.
        for name in ("tickrmeter_stock_update_requests_total", "tickrmeter_devices_tracked",
                     "tickrmeter_devices_online", "tickrmeter_device_boots_total",
                     "tickrmeter_stock_update_latency_seconds_count"):
            self.check("core " + name, total(m["core"], name), 0)

        # Each edge correlates exactly its own devices' traffic.
        for name, e in fleet.items():
            x = m[name]
            for metric, n in (
                    ("tickrmeter_stock_update_requests_total", e.sent["stock_request"]),
                    ("tickrmeter_stock_update_responses_total", e.sent["answerable"]),
                    ("tickrmeter_stock_update_errors_total", e.sent["errors"]),
                    ("tickrmeter_symbol_timeout_total", e.sent["unanswered"]),
                    ("tickrmeter_stock_update_unmatched_responses_total", 0),
                    ("tickrmeter_devices_tracked", len(e.ids)),
                    ("tickrmeter_devices_online", len(e.ids)),
                    ("tickrmeter_device_boots_total", len(e.ids)),
                    ("tickrmeter_stock_update_latency_seconds_count", e.sent["answerable"])):
                self.check("%s %s" % (name, metric), total(x, metric), n)
            per_round = DEVICES_PER_EDGE * ROUNDS
            for s in ANSWERED:
                self.check("%s responses{symbol=%s}" % (name, s), value(
                    x, "tickrmeter_stock_update_responses_total", symbol=s), per_round)
            self.check("%s timeouts{symbol=%s}" % (name, FAILING), value(
                x, "tickrmeter_symbol_timeout_total", symbol=FAILING), DEVICES_PER_EDGE)
            self.check("%s errors{symbol=unknown}" % name, value(
                x, "tickrmeter_stock_update_errors_total", symbol="unknown"), e.sent["errors"])
            self.check_latency(name, [x])

    def check_latency(self, what, metrics):
        count = sum(total(x, "tickrmeter_stock_update_latency_seconds_count") for x in metrics)
        total_s = sum(total(x, "tickrmeter_stock_update_latency_seconds_sum") for x in metrics)
        if not count or total_s / count < BACKEND_DELAY_S:
            self.failures.append("%s mean latency %r s (count %r), expected >= %s s" % (
                what, count and total_s / count, count, BACKEND_DELAY_S))

    FEDERATED = (
        ('sum(tickrmeter_messages_total{kind="stock_request"})', "stock_request"),
        ('sum(tickrmeter_messages_total{kind="device_message"})', "device_message"),
        ('sum(tickrmeter_messages_total{kind="heartbeat"})', "heartbeat"),
        ('sum(tickrmeter_messages_total{kind="boot"})', "boot"),
        ('sum(tickrmeter_messages_total{kind="booted"})', "booted"),
        ('sum(tickrmeter_messages_total{kind="log"})', "log"),
        ("sum(tickrmeter_stock_update_requests_total)", "requests"),
        ("sum(tickrmeter_stock_update_responses_total)", "responses"),
        ("sum(tickrmeter_stock_update_errors_total)", "errors"),
        ("sum(tickrmeter_symbol_timeout_total)", "timeouts"),
        ("sum(tickrmeter_stock_update_unmatched_responses_total)", "unmatched"),
        ("sum(tickrmeter_devices_online)", "devices"),
        ("sum(tickrmeter_device_boots_total)", "boots"),
        ("sum(tickrmeter_stock_update_latency_seconds_count)", "latency_count"),
        ("count(count by (broker) (tickrmeter_build_info))", "brokers"),
        # honor_labels: the site's job and external site label, unchanged.
        ('count(tickrmeter_build_info{job="tkmprom",site="%(site)s"})', "brokers"),
    )

    def check_federation(self, proms, sent, answered, errors, unanswered, devices):
        """The global Prometheus, fed only through the site one's /federate,
        shows the fleet's numbers. Returns {expr: value}."""
        site, glob = proms
        labels = {"site": site.config["global"]["external_labels"]["site"]}
        exprs = [(expr % labels if "%(" in expr else expr, key) for expr, key in self.FEDERATED]
        expected = dict(sent, requests=sent["stock_request"], responses=answered,
                        errors=errors, timeouts=unanswered, unmatched=0, devices=devices,
                        boots=devices, latency_count=answered, brokers=3)
        got = {}

        def all_there():
            for p in proms:
                if p.proc.poll() is not None:
                    raise AssertionError("prometheus exited:\n" + p.log_text())
            for expr, key in exprs:
                got[expr] = glob.value(expr)
            return all(got[expr] == expected[key] for expr, key in exprs)
        try:
            wait_until(all_there, timeout=30, interval=0.5, what="federated numbers")
        except AssertionError:
            for expr, key in exprs:
                self.check("global Prometheus " + expr, got.get(expr), expected[key])
        # The site Prometheus' own view agrees.
        self.check("site Prometheus sum(tickrmeter_stock_update_requests_total)",
                   site.value("sum(tickrmeter_stock_update_requests_total)"),
                   sent["stock_request"])
        ratio = glob.value("sum(tickrmeter_stock_update_latency_seconds_sum) / "
                           "sum(tickrmeter_stock_update_latency_seconds_count)")
        got["mean_latency"] = ratio
        if ratio is None or ratio < BACKEND_DELAY_S:
            self.failures.append("global Prometheus mean latency %r s, expected >= %s s" % (
                ratio, BACKEND_DELAY_S))
        return got

    def print_tables(self, m, sent, answered, errors, unanswered, devices, fed, probes, phases):
        def plugin_sum(name, **labels):
            return sum(total(x, name, **labels) for x in m.values())

        def federated(expr):
            if fed is None or fed.get(expr) is None:
                return "-"
            return "%g" % fed[expr]
        mt = "tickrmeter_messages_total"
        count = plugin_sum("tickrmeter_stock_update_latency_seconds_count")
        mean = plugin_sum("tickrmeter_stock_update_latency_seconds_sum") / count if count else 0
        rows = [
            ('messages_total{kind="stock_request"}', sent["stock_request"],
             plugin_sum(mt, kind="stock_request"),
             federated('sum(tickrmeter_messages_total{kind="stock_request"})')),
            ('messages_total{kind="device_message"}', sent["device_message"],
             plugin_sum(mt, kind="device_message"),
             federated('sum(tickrmeter_messages_total{kind="device_message"})')),
            ('messages_total{kind="heartbeat"}', sent["heartbeat"],
             plugin_sum(mt, kind="heartbeat"),
             federated('sum(tickrmeter_messages_total{kind="heartbeat"})')),
            ('messages_total{kind="boot"}', sent["boot"], plugin_sum(mt, kind="boot"),
             federated('sum(tickrmeter_messages_total{kind="boot"})')),
            ('messages_total{kind="booted"}', sent["booted"], plugin_sum(mt, kind="booted"),
             federated('sum(tickrmeter_messages_total{kind="booted"})')),
            ('messages_total{kind="log"}', sent["log"], plugin_sum(mt, kind="log"),
             federated('sum(tickrmeter_messages_total{kind="log"})')),
            ("stock_update_requests_total", sent["stock_request"],
             plugin_sum("tickrmeter_stock_update_requests_total"),
             federated("sum(tickrmeter_stock_update_requests_total)")),
            ("stock_update_responses_total", answered,
             plugin_sum("tickrmeter_stock_update_responses_total"),
             federated("sum(tickrmeter_stock_update_responses_total)")),
            ("stock_update_errors_total", errors,
             plugin_sum("tickrmeter_stock_update_errors_total"),
             federated("sum(tickrmeter_stock_update_errors_total)")),
            ("symbol_timeout_total", unanswered, plugin_sum("tickrmeter_symbol_timeout_total"),
             federated("sum(tickrmeter_symbol_timeout_total)")),
            ("stock_update_unmatched_responses_total", 0,
             plugin_sum("tickrmeter_stock_update_unmatched_responses_total"),
             federated("sum(tickrmeter_stock_update_unmatched_responses_total)")),
            ("devices_online", devices, plugin_sum("tickrmeter_devices_online"),
             federated("sum(tickrmeter_devices_online)")),
            ("device_boots_total", devices, plugin_sum("tickrmeter_device_boots_total"),
             federated("sum(tickrmeter_device_boots_total)")),
            ("stock_update_latency_seconds_count", answered, count,
             federated("sum(tickrmeter_stock_update_latency_seconds_count)")),
            ("mean latency (_sum/_count), s", ">= %g" % BACKEND_DELAY_S, "%.4f" % mean,
             "%.4f" % fed["mean_latency"] if fed and fed.get("mean_latency") else "-"),
            ("brokers (count by broker of build_info)", len(m), len(m),
             federated("count(count by (broker) (tickrmeter_build_info))")),
        ]
        out = ["", "traffic sent vs fleet-wide measured (plugin sum, federated Prometheus)",
               "%-42s %8s %11s %10s" % ("", "sent", "plugin sum", "federated")]
        for label, s, p, f in rows:
            out.append("%-42s %8s %11s %10s" % (label, s, fmt(p), f))

        names = list(m)
        out += ["", "per broker (messages_total / messages_bridged_total by kind; engine)",
                "%-42s" % "" + "".join("%16s" % n for n in names)]
        for kind in ("stock_request", "device_message", "heartbeat", "boot", "booted", "log",
                     "other"):
            out.append("%-42s" % ("messages kind=" + kind) + "".join("%16s" % (
                "%s / %s" % (fmt(value(m[n], mt, kind=kind)),
                             fmt(value(m[n], "tickrmeter_messages_bridged_total", kind=kind))))
                for n in names))
        for metric in ("tickrmeter_stock_update_requests_total",
                       "tickrmeter_stock_update_responses_total",
                       "tickrmeter_stock_update_errors_total", "tickrmeter_symbol_timeout_total",
                       "tickrmeter_stock_update_unmatched_responses_total",
                       "tickrmeter_devices_online", "tickrmeter_device_boots_total"):
            out.append("%-42s" % metric[len("tickrmeter_"):] + "".join(
                "%16s" % fmt(total(m[n], metric)) for n in names))
        out.append("%-42s" % "mean latency, s" + "".join("%16s" % (
            "%.4f" % (total(m[n], "tickrmeter_stock_update_latency_seconds_sum") /
                      total(m[n], "tickrmeter_stock_update_latency_seconds_count"))
            if total(m[n], "tickrmeter_stock_update_latency_seconds_count") else "-")
            for n in names))
        out.append("(probes published on the core before the traffic, kind other: %d)" % probes)
        out.append("seconds: " + ", ".join("%s %.1f" % (name, t - prev) for (_, prev), (name, t) in
                                           zip(phases, phases[1:])))
        print("\n".join(out), flush=True)


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float) and v.is_integer():
        return "%d" % v
    return str(v)


if __name__ == "__main__":
    unittest.main(verbosity=2)
