"""Helpers of the hostile-input and lifecycle integration tests: a raw MQTT
publisher fast enough for floods of hundreds of thousands of publishes, a
publish/subscribe round trip through a second real client, process memory
and process lookups, and promtool."""

import os
import re
import queue
import socket
import struct
import subprocess
import time
import uuid

from harness import PROMTOOL, mqtt, wait_until


def _varint(n):
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _utf8(s):
    data = s if isinstance(s, bytes) else s.encode()
    return struct.pack("!H", len(data)) + data


def publish_packet(topic, payload):
    """One MQTT 3.1.1 PUBLISH at QoS 0 (topic: str or raw bytes)."""
    payload = payload if isinstance(payload, bytes) else payload.encode()
    body = _utf8(topic) + payload
    return b"\x30" + _varint(len(body)) + body


class RawPublisher:
    """A minimal MQTT 3.1.1 client over a plain socket: QoS 0 publishes sent
    in large batches, and a PINGREQ/PINGRESP barrier (the broker handles one
    client's packets in order, so after the PINGRESP it has seen them all)."""

    def __init__(self, port, client_id="hostile-flood"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        cid = _utf8(client_id)
        body = _utf8("MQTT") + b"\x04\x02" + struct.pack("!H", 600) + cid
        self.sock.sendall(b"\x10" + _varint(len(body)) + body)
        connack = self._read(4)
        if connack[:2] != b"\x20\x02" or connack[3] != 0:
            raise AssertionError("CONNACK %r" % connack)

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            data += chunk
        return data

    def send(self, packets, batch_bytes=1 << 20):
        """Sends an iterable of ready packets, batched."""
        buf = []
        size = 0
        for p in packets:
            buf.append(p)
            size += len(p)
            if size >= batch_bytes:
                self.sock.sendall(b"".join(buf))
                buf, size = [], 0
        if buf:
            self.sock.sendall(b"".join(buf))

    def publish_many(self, messages):
        """messages: iterable of (topic, payload)."""
        self.send(publish_packet(t, p) for t, p in messages)

    def barrier(self):
        self.sock.sendall(b"\xc0\x00")
        if self._read(2) != b"\xd0\x00":
            raise AssertionError("expected PINGRESP")

    def close(self):
        try:
            self.sock.sendall(b"\xe0\x00")
        except OSError:
            pass
        self.sock.close()


def round_trip(broker, timeout=5.0):
    """Publishes through one real client to another (QoS 1) and returns the
    seconds it took; raises if the message does not arrive."""
    topic = "it/roundtrip/%s" % uuid.uuid4().hex
    got = queue.Queue()
    sub = mqtt.Client(client_id="", clean_session=True)
    sub.on_message = lambda c, u, m: got.put(m.payload)
    sub.connect("127.0.0.1", broker.port, keepalive=30)
    sub.loop_start()
    pub = None
    try:
        res, mid = sub.subscribe(topic, qos=1)
        wait_until(lambda: sub.is_connected(), timeout=timeout, what="subscriber connected")
        time.sleep(0.05)  # let the SUBACK land; a lost race only retries below
        pub = mqtt.Client(client_id="", clean_session=True)
        pub.connect("127.0.0.1", broker.port, keepalive=30)
        pub.loop_start()
        start = time.monotonic()
        deadline = start + timeout
        token = uuid.uuid4().hex.encode()
        while time.monotonic() < deadline:
            pub.publish(topic, token, qos=1)
            try:
                if got.get(timeout=0.5) == token:
                    return time.monotonic() - start
            except queue.Empty:
                continue
        raise AssertionError("publish/subscribe round trip failed")
    finally:
        for c in (sub, pub):
            if c is not None:
                c.loop_stop()
                c.disconnect()


def rss_kib(pid):
    """VmRSS of a process, KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def processes():
    """[(pid, ppid, comm, state)] of every process."""
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
        fields = stat[stat.rindex(")") + 2:].split()
        found.append((int(entry), int(fields[1]), comm, fields[0]))
    return found


def descendants_of(pid):
    """[(pid, comm)] of the live (non-zombie) descendants of pid."""
    procs = processes()
    result, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for p, ppid, comm, state in procs:
            if ppid == parent and state != "Z":
                result.append((p, comm))
                frontier.append(p)
    return result


def is_gone(pid):
    """True when pid no longer runs (absent, or a zombie nobody reaped yet)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2:].split()[0] in ("Z", "X")


def promtool_problems(text):
    """promtool check metrics' complaints about `text` ("" when silent)."""
    if not PROMTOOL:
        return ""
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True)
    out = (r.stdout + r.stderr).decode(errors="replace")
    return out if (r.returncode != 0 or out) else ""


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$', re.S)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', re.S)


def _unescape(s):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), s, flags=re.S)


def parse_exposition(text):
    """Like harness.parse_metrics, but lines end at "\\n" only (label values
    may hold "\\r", U+2028 and the like) and label values are unescaped."""
    out = {}
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise AssertionError("unparsable exposition line: %r" % line[:200])
        labels = tuple(sorted((k, _unescape(v)) for k, v in _LABEL.findall(m.group(3) or "")))
        out[(m.group(1), labels)] = float(m.group(4))
    return out
