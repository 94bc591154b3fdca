"""Hostile MQTT clients through a real broker (issue 13): a flood of heartbeats
with huge or countless label values, a flood of requests each superseding the
last, and topics that make a backtracking regex matcher explode under an
operator's device_id_pattern. Each test prints what it measured on stderr.

Memory is that of the plugin's processes: the broker's RSS plus the RSS of
every process below it (the supervisor and the companion), from
/proc/<pid>/status. The 8 MiB ring between the broker's hook and the
companion is shared memory that counts in the RSS of both processes as its
pages are first touched: up to 2 x ring_size that any traffic pays once, and
no growth caused by what the traffic carries. Where a baseline is taken
"after the ring warm-up", more than ring_size bytes of harmless records went
through the ring first, so that the growth measured is the flood's own; the
figures from the fresh broker are printed as well. The label floods assert
their bound from the fresh broker, ring included; the superseding flood,
whose bound (4 MiB) is below the ring's, from after its warm-up.

Publishes are paced (a chunk, a PINGREQ barrier, then a wait until the engine
has consumed the chunk before the last one), so the ring never holds more
than two chunks and tickrmeter_observations_dropped_total stays 0: every
message of a flood reaches the engine, which the tests check."""

import json
import sys
import time
import unittest

from harness import Broker, series, value, wait_until
from hostile_tools import RawPublisher, descendants_of, parse_exposition, round_trip

MIB = 1024  # KiB per MiB
RING_BYTES = 8 << 20  # ring_size default (README)

HEARTBEATS = 6000
LABEL_FLOOD_MAX_GROWTH_MIB = 48
METRICS_MAX_BYTES = 4_000_000
MAX_ONLINE_SERIES = 1000
MAX_LABEL_BYTES = 32

REQUESTS = 400_000
WARMUP_REQUESTS = 10_000
REQUEST_FLOOD_MAX_GROWTH_MIB = 4

BACKTRACKING_PATTERN = r"^([0-9A-Za-z]+-?)+$"
COUNTED_WITHIN_S = 2.0

# The engine's label bounds (plugin-contract.md §7.2, src/engine/device_labels.h).
MAX_REPORTED_VALUES = 256 - 3  # besides unknown, _invalid, _other
MAX_REPORTED_COMBINATIONS = 1000 - 2  # besides all-unknown and all-_other


def status_kib(pid):
    """{VmRSS, RssAnon, RssFile, RssShmem} of a process, KiB (0 if it is gone)."""
    out = dict.fromkeys(("VmRSS", "RssAnon", "RssFile", "RssShmem"), 0)
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in out:
                    out[key] = int(line.split()[1])
    except OSError:
        pass
    return out


class Memory:
    """The RSS of the broker and of each of its descendants, at one moment."""

    def __init__(self, broker):
        procs = [(broker.proc.pid, "mosquitto")] + descendants_of(broker.proc.pid)
        self.procs = [(pid, comm, status_kib(pid)) for pid, comm in procs]
        self.total = sum(s["VmRSS"] for _, _, s in self.procs)
        self.shmem = sum(s["RssShmem"] for _, _, s in self.procs)

    def describe(self):
        return "%.1f MiB (%s; shared memory %.1f MiB)" % (
            self.total / MIB, ", ".join("%s %d: %.1f" % (comm, pid, s["VmRSS"] / MIB)
                                        for pid, comm, s in self.procs), self.shmem / MIB)


def say(line):
    sys.stderr.write("\n  " + line)
    sys.stderr.flush()


def growth_line(what, before, after):
    grown = after.total - before.total
    shared = after.shmem - before.shmem
    return ("%s: plugin's processes %.1f -> %.1f MiB (%+.2f MiB = %+d KiB, of which %+.1f MiB "
            "shared memory, %+d KiB private); before %s; after %s" % (
                what, before.total / MIB, after.total / MIB, grown / MIB, grown, shared / MIB,
                grown - shared, before.describe(), after.describe()))


def requests_of(metrics, symbol):
    return value(metrics, "tickrmeter_stock_update_requests_total", symbol=symbol) or 0


class MqttHostileTestCase(unittest.TestCase):

    def start(self, **kwargs):
        b = Broker(**kwargs)
        self.addCleanup(b.cleanup)
        b.start()
        self.started = time.monotonic()
        return b

    def settle(self, b):
        """A round trip through the broker, then two snapshots of the
        companion, so its buffers are at rest when memory is read."""
        round_trip(b)
        time.sleep(2.2)

    def paced(self, b, pub, messages, chunk, consumed, what, timeout=120):
        """Publishes `messages` ((topic, payload) list) in chunks; before
        sending a chunk, waits until consumed(metrics) (a count of what the
        engine has handled since the call) covers everything but the last
        chunk sent. Returns the metrics once all is consumed."""
        start = consumed(b.metrics())
        done = 0
        for i in range(0, len(messages), chunk):
            wait_until(lambda: consumed(b.metrics()) - start >= max(0, i - chunk),
                       timeout=timeout, interval=0.1, what="%s: %d consumed" % (what, i - chunk))
            pub.publish_many(messages[i:i + chunk])
            pub.barrier()
            done = min(len(messages), i + chunk)
        state = {}

        def all_consumed():
            state["m"] = b.metrics()
            return consumed(state["m"]) - start >= done
        wait_until(all_consumed, timeout=timeout, interval=0.1,
                   what="%s: all %d consumed" % (what, done))
        return state["m"]

    def warm_ring(self, b, pub):
        """Sends 700 requests of 12 KiB with a device id outside the default
        pattern (8.4 MiB of records, more than the ring): the engine refuses
        each as reason="device" and keeps nothing, but every page of the ring
        has been touched by both processes."""
        pad = "w" * 12000
        messages = [("STOCKPRICEUPDATE", '{"type":"UPDATE","device":"ring-warm-up","symbol":'
                     '"WARM","pad":"%05d%s"}' % (i, pad)) for i in range(700)]
        self.assertGreater(len(messages) * len(messages[0][1]), RING_BYTES)
        m = self.paced(b, pub, messages, 250, lambda m: value(
            m, "tickrmeter_messages_invalid_total", kind="stock_request", reason="device"),
            "ring warm-up")
        self.assertEqual(value(m, "tickrmeter_observations_dropped_total"), 0)


class LabelFloodTest(MqttHostileTestCase):
    """6,000 heartbeats of distinct devices with label values no exporter can
    afford: the labels stay bounded (§7.2), and so do memory and /metrics."""

    def flood(self, labels_of, what):
        """Starts a broker, floods it with one heartbeat per device, labels
        from labels_of(i) = (firmware_version, iv, flashID), and returns
        (broker, metrics text, parsed metrics) once every heartbeat is in.
        The memory bound is asserted from the fresh broker, the ring's first
        touch included (the stricter reading); the growth after the ring
        warm-up, the flood's own, is printed beside it."""
        b = self.start()
        self.settle(b)
        fresh = Memory(b)
        pub = RawPublisher(b.port)
        self.warm_ring(b, pub)
        self.settle(b)
        warm = Memory(b)
        messages = []
        for i in range(HEARTBEATS):
            fw, iv, flash = labels_of(i)
            # The current firmware's shape (protocol reference), spaces included.
            payload = ('{"status":"online","firmware_version":"%s","device":"%012X",'
                       '"battery":"87","vin":"1830","uptime":"%d","isCharging":"0","wflct":"3",'
                       '"iv":"%s", "xmc":"1", "flashID":"%s"}'
                       % (fw, 0xA00000000000 + i, 86400 + i, iv, flash))
            self.assertLess(len(payload.encode()), 16384)
            messages.append(("DEVICESTATUS_RES", payload))
        biggest = max(len(p) for _, p in messages)
        started = time.monotonic()
        # At most two chunks of 250 x 12.3 KB in the 8 MiB ring.
        self.paced(b, pub, messages, 250,
                   lambda m: value(m, "tickrmeter_devices_tracked"), what)
        pub.close()
        m = b.wait_metric("tickrmeter_messages_total", float(HEARTBEATS), kind="heartbeat")
        took = time.monotonic() - started
        self.assertEqual(value(m, "tickrmeter_devices_tracked"), HEARTBEATS)
        self.assertEqual(value(m, "tickrmeter_observations_dropped_total"), 0)
        self.settle(b)
        after = Memory(b)
        text = b.metrics_text()
        self.assertEqual(b.http_status("/healthz"), 200)
        say("%s: %d heartbeats of up to %d bytes in %.1f s" % (what, HEARTBEATS, biggest, took))
        say(growth_line("%s, from the fresh broker" % what, fresh, after))
        say(growth_line("%s, after the ring warm-up" % what, warm, after))
        self.assertLessEqual(after.total - fresh.total, LABEL_FLOOD_MAX_GROWTH_MIB * MIB,
                             growth_line(what, fresh, after))
        return b, text, parse_exposition(text)

    def check_exposition(self, what, text, m):
        online = series(m, "tickrmeter_devices_online")
        longest = max((len(v.encode()), name, k, v) for (name, labels) in m
                      for k, v in labels)
        labels_dropped = value(m, "tickrmeter_tracking_dropped_total", table="labels")
        say("%s: /metrics %d bytes, %d tickrmeter_devices_online series holding %d devices, "
            "longest label value %d bytes (%s %s=%r), "
            "tickrmeter_tracking_dropped_total{table=\"labels\"} %d" % (
                what, len(text.encode()), len(online), sum(online.values()), longest[0],
                longest[1], longest[2], longest[3], labels_dropped))
        self.assertLess(len(text.encode()), METRICS_MAX_BYTES)
        self.assertLessEqual(len(online), MAX_ONLINE_SERIES)
        self.assertEqual(sum(online.values()), HEARTBEATS)
        self.assertLessEqual(longest[0], MAX_LABEL_BYTES, longest[:3])
        return online, labels_dropped

    def test_4kb_label_values_become_invalid(self):
        what = "label flood, 4 KB values"

        def labels_of(i):
            return tuple("%s%06d" % (tag, i) + tag.lower() * 4089 for tag in "FIX")
        self.assertEqual(len(labels_of(0)[0]), 4096)
        b, text, m = self.flood(labels_of, what)
        online, labels_dropped = self.check_exposition(what, text, m)
        # Over 32 bytes: stored as _invalid, a value the cap never refused,
        # so tickrmeter_tracking_dropped_total{table="labels"} stays 0
        # (README, "Behaviour where the contract is silent").
        invalid = (("firmware_version", "_invalid"), ("flash_id", "_invalid"),
                   ("inner_version", "_invalid"))
        unknown = (("firmware_version", "unknown"), ("flash_id", "unknown"),
                   ("inner_version", "unknown"))
        self.assertEqual(online, {invalid: HEARTBEATS, unknown: 0})
        self.assertEqual(labels_dropped, 0)
        self.assertEqual(value(m, "tickrmeter_observations_dropped_total"), 0)
        # The device API shows the stored value, not the 4 KB one.
        status, _, body = b.http("/api/v1/devices/%012X" % 0xA00000000000)
        device = json.loads(body)
        say("%s: /api/v1/devices/A00000000000 %s, %d bytes, firmware_version %r" % (
            what, status, len(body), device.get("firmware_version")))
        self.assertEqual(status, 200)
        self.assertLess(len(body), 4096)
        for name in ("firmware_version", "inner_version", "flash_id"):
            self.assertEqual(device.get(name), "_invalid", name)
        say("%s: total test time %.1f s\n" % (what, time.monotonic() - self.started))

    def test_countless_short_label_values_fold_into_other(self):
        what = "label flood, 20-byte values"
        # 6,000 distinct firmware versions (beyond 256 values per label); 37
        # inner versions for the first 3,000 devices, then one per device (the
        # cap again); 41 flash ids, which with the rest make far more than
        # 1,000 combinations. All printable, 20 bytes.
        def labels_of(i):
            iv = i % 37 if i < 3000 else i
            return ("fw-%017d" % i, "iv-%017d" % iv, "fl-%017d" % (i // 37 % 41))
        self.assertEqual({len(s) for s in labels_of(5999)}, {20})

        # What the engine exports and counts for these heartbeats, in order
        # (src/engine/device_labels.h, DeviceRegistry::OnHeartbeat; README:
        # one per device and label landing in _other, one per device whose
        # new combination no longer fits).
        admitted = [{}, {}, {}]
        combinations = set()
        expected_dropped = 0
        expected_online = {}
        for i in range(HEARTBEATS):
            stored = []
            for which, raw in enumerate(labels_of(i)):
                values = admitted[which]
                if raw not in values and len(values) < MAX_REPORTED_VALUES:
                    values[raw] = raw
                if raw in values:
                    stored.append(raw)
                else:
                    stored.append("_other")
                    expected_dropped += 1
            key = tuple(stored)
            if key != ("_other",) * 3 and key not in combinations:
                if len(combinations) < MAX_REPORTED_COMBINATIONS:
                    combinations.add(key)
                else:
                    key = ("_other",) * 3
                    expected_dropped += 1
            expected_online[key] = expected_online.get(key, 0) + 1
        expected_online[("unknown",) * 3] = 0

        b, text, m = self.flood(labels_of, what)
        online, labels_dropped = self.check_exposition(what, text, m)
        got = {(dict(k)["firmware_version"], dict(k)["inner_version"], dict(k)["flash_id"]): v
               for k, v in online.items()}
        say("%s: expected %d series and %d folded labels from the caps" % (
            what, len(expected_online), expected_dropped))
        self.assertEqual(len(combinations), MAX_REPORTED_COMBINATIONS)
        self.assertEqual(got, expected_online)
        self.assertGreater(labels_dropped, 0)
        self.assertEqual(labels_dropped, expected_dropped)
        for which, name in enumerate(("firmware_version", "inner_version", "flash_id")):
            self.assertLessEqual(len({k[which] for k in got}), 256, name)
        self.assertEqual(value(m, "tickrmeter_observations_dropped_total"), 0)
        say("%s: total test time %.1f s\n" % (what, time.monotonic() - self.started))


class SupersedingFloodTest(MqttHostileTestCase):
    """400,000 unanswered requests of one device for one symbol, each
    superseding the last: one request is pending at any moment, and the
    memory stays flat."""

    DEVICE = "A1B2C3D4E5F6"

    def test_superseding_requests_cost_no_memory(self):
        # No request times out during the test: the last one stays pending.
        b = self.start(options={"request_timeout": "3600"})
        self.settle(b)
        fresh = Memory(b)
        pub = RawPublisher(b.port)

        def request(symbol, pad=""):
            return ("STOCKPRICEUPDATE", '{"type":"UPDATE","device":"%s","symbol":"%s"%s}'
                    % (self.DEVICE, symbol, pad))

        # The baseline comes after 10,000 superseding requests of the same
        # device for another symbol, padded to 1 KiB so that together they
        # are more than the ring: the allocator's arenas, the engine's tables
        # and every page of the shared ring are warm, and what is measured
        # after is the growth the 400,000 requests cause.
        warm = [request("MSFT", ',"pad":"%s"' % ("p" * 1000)) for _ in range(WARMUP_REQUESTS)]
        self.assertGreater(sum(len(p) for _, p in warm), RING_BYTES)
        self.paced(b, pub, warm, 2500, lambda m: requests_of(m, "MSFT"), "warm-up")
        self.settle(b)
        before = Memory(b)

        flood = [request("AAPL")] * REQUESTS
        started = time.monotonic()
        # About 110 bytes a record: at most two chunks, 6.6 MB, in the ring.
        m = self.paced(b, pub, flood, 30000, lambda m: requests_of(m, "AAPL"), "flood",
                       timeout=180)
        took = time.monotonic() - started
        pub.close()
        self.settle(b)
        after = Memory(b)
        m = b.metrics()
        superseded = value(m, "tickrmeter_stock_update_superseded_total", symbol="AAPL")
        pending = value(m, "tickrmeter_stock_update_pending", symbol="AAPL")
        say("superseding flood: %d requests in %.1f s; AAPL requests %d, superseded %d, "
            "pending %d; MSFT (warm-up) superseded %d, pending %d" % (
                REQUESTS, took, requests_of(m, "AAPL"), superseded, pending,
                value(m, "tickrmeter_stock_update_superseded_total", symbol="MSFT"),
                value(m, "tickrmeter_stock_update_pending", symbol="MSFT")))
        say(growth_line("superseding flood, from the fresh broker (ring warm-up included)",
                        fresh, after))
        say(growth_line("superseding flood, after the %d-request warm-up" % WARMUP_REQUESTS,
                        before, after))
        say("superseding flood: total test time %.1f s\n" % (time.monotonic() - self.started))
        self.assertEqual(requests_of(m, "AAPL"), REQUESTS)
        self.assertEqual(superseded, REQUESTS - 1)
        self.assertEqual(pending, 1)
        self.assertEqual(value(m, "tickrmeter_stock_update_superseded_total", symbol="MSFT"),
                         WARMUP_REQUESTS - 1)
        self.assertEqual(value(m, "tickrmeter_stock_update_pending", symbol="MSFT"), 1)
        self.assertEqual(value(m, "tickrmeter_observations_dropped_total"), 0)
        self.assertEqual(b.http_status("/healthz"), 200)
        self.assertLessEqual(after.total - before.total, REQUEST_FLOOD_MAX_GROWTH_MIB * MIB,
                             growth_line("superseding flood", before, after))


class BacktrackingPatternTest(MqttHostileTestCase):
    """An operator's pattern with nested repetition, which a backtracking
    matcher needs exponential time for on `aaa…a!`: the engine matches in
    linear time (RE2) and keeps counting."""

    def test_hostile_topics_do_not_stall_the_engine(self):
        b = self.start(options={"device_id_pattern": BACKTRACKING_PATTERN})
        pub = RawPublisher(b.port)
        # The engine is up and the pattern admits ids with dashes.
        pub.publish_many([("STOCKPRICEUPDATE",
                           '{"type":"UPDATE","device":"dev-0","symbol":"WARM"}')])
        pub.barrier()
        b.wait_metric("tickrmeter_stock_update_requests_total", 1.0, symbol="WARM")

        # Topics of 29 to 120 characters that almost match: every way of
        # cutting the run into ([0-9A-Za-z]+-?) pieces fails only at the end.
        hostile = ["a" * n + "!" for n in (28, 29, 30, 32, 40, 48, 64, 80, 100, 119)]
        hostile += ["0aZ9" * 20 + "!", "a-" * 40 + "-!", "ab-" * 39 + "!", "a" * 118 + "-!"]
        self.assertEqual(max(len(t) for t in hostile), 120)
        answer = '{"symbol":"AAPL","type":"UPDATE","isPlaylist":false,"price":"$1","p":1}'
        # The same strings as a request's device field are matched too.
        requests = ['{"type":"UPDATE","device":"%s","symbol":"AAPL"}' % t for t in hostile]
        messages = [(t, answer) for t in hostile] * 3 + [("STOCKPRICEUPDATE", r) for r in requests]
        valid = ("STOCKPRICEUPDATE", '{"type":"UPDATE","device":"dev-1","symbol":"AAPL"}')
        before = b.metrics()
        self.assertEqual(requests_of(before, "AAPL"), 0)
        started = time.monotonic()
        pub.publish_many(messages)
        published = time.monotonic()
        pub.publish_many([valid])
        pub.barrier()
        state = {}

        def counted():
            state["m"] = b.metrics()
            return requests_of(state["m"], "AAPL") == 1
        try:
            wait_until(counted, timeout=10, interval=0.02, what="the valid request counted")
        except AssertionError:
            self.fail("the request published after %d hostile publishes was not counted "
                      "within 10 s; /healthz %s" % (len(messages), b.http_status("/healthz")))
        took = time.monotonic() - published
        healthz = b.http_status("/healthz")
        m = state["m"]
        say("backtracking pattern %s: %d publishes on %d hostile topics (up to %d chars) and "
            "%d requests naming them as device; the request of dev-1 published after them "
            "was counted after %.3f s (%.3f s from the first hostile publish), "
            "snapshots every 1 s; /healthz %s" % (
                BACKTRACKING_PATTERN, len(hostile) * 3, len(hostile),
                max(len(t) for t in hostile), len(requests), took,
                time.monotonic() - started, healthz))
        self.assertLessEqual(took, COUNTED_WITHIN_S)
        self.assertEqual(healthz, 200)
        # The hostile device fields were refused as such, and nothing was lost.
        b.wait_metric("tickrmeter_messages_invalid_total", float(len(requests)),
                      kind="stock_request", reason="device")
        self.assertEqual(value(m, "tickrmeter_observations_dropped_total"), 0)
        self.assertEqual(value(m, "tickrmeter_devices_tracked"), 2)
        # Still counting afterwards, and still healthy.
        pub.publish_many([valid])
        pub.barrier()
        pub.close()
        b.wait_metric("tickrmeter_stock_update_requests_total", 2.0, timeout=5, symbol="AAPL")
        self.assertEqual(b.http_status("/healthz"), 200)
        say("backtracking pattern: total test time %.1f s\n" % (time.monotonic() - self.started))


if __name__ == "__main__":
    unittest.main(verbosity=2)
