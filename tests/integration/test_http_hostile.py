"""Hostile HTTP clients through a real broker (issue 13): a flood of wrong
passwords from one address must not keep a right password from another
address out, and silent or trickling connections from the scraper's own
address must not keep a scrape out. Each test prints what it measured."""

import base64
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from harness import Broker

PASSWORD = "integration-test-only-pw"
# One user per try, so that every try is an uncached bcrypt check.
USERS = ["scraper1", "scraper2", "scraper3"]
BCRYPT_COST = "10"  # realistically slow: tens of milliseconds a check
GUESSERS = 12
IDLE_HOGS = 200
TRICKLING_HOGS = 64
ANSWER_WITHIN_S = 1.0


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def connect_from(source, port, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def get(source, port, path, authorization=None, timeout=5.0):
    """One GET over a fresh connection from `source`: (status or None, seconds)."""
    start = time.monotonic()
    try:
        with connect_from(source, port, timeout) as s:
            request = "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" % path
            if authorization:
                request += "Authorization: %s\r\n" % authorization
            s.sendall((request + "\r\n").encode())
            answer = b""
            while b"\r\n" not in answer:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
    except OSError:
        return None, time.monotonic() - start
    took = time.monotonic() - start
    parts = answer.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return None, took
    return int(parts[1]), took


def report(line):
    sys.stderr.write("\n  " + line + "\n")
    sys.stderr.flush()


class Guesser(threading.Thread):
    """Sends wrong passwords from 127.0.0.1 as fast as the server answers,
    over kept-alive connections, and counts the answers."""

    def __init__(self, port, stop, counts, lock):
        super().__init__(daemon=True)
        self.port, self.stop, self.counts, self.lock = port, stop, counts, lock

    def run(self):
        n = 0
        sock = None
        while not self.stop.is_set():
            n += 1
            try:
                if sock is None:
                    sock = connect_from("127.0.0.1", self.port)
                request = ("GET /metrics HTTP/1.1\r\nHost: localhost\r\nAuthorization: %s\r\n\r\n"
                           % basic(USERS[n % len(USERS)], "guess-%d" % n))
                sock.sendall(request.encode())
                status = self.read_answer(sock)
            except OSError:
                status = None
            if status is None and sock is not None:
                sock.close()
                sock = None
            # "closed": the next request on the connection found it closed
            # (libmicrohttpd 0.9.75 closes a connection whose answer was
            # queued before any body was read, as every answer here is); the
            # guesser reconnects.
            key = "closed" if status is None else status
            with self.lock:
                self.counts[key] = self.counts.get(key, 0) + 1
        if sock is not None:
            sock.close()

    @staticmethod
    def read_answer(sock):
        """The status of one answer, its body read by Content-Length."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            body += chunk
        return int(head.split(b" ", 2)[1])


class Hogs(threading.Thread):
    """Holds `idle` silent connections and `trickling` ones that send one
    header byte a second, all from 127.0.0.1, reopening every one the
    server closes (as a determined client would)."""

    TRICKLE_START = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Slow: "

    def __init__(self, port, idle, trickling, stop):
        super().__init__(daemon=True)
        self.port, self.stop = port, stop
        self.kinds = ["idle"] * idle + ["trickle"] * trickling
        self.socks = [None] * len(self.kinds)
        self.sent = [0] * len(self.kinds)
        self.opened = 0
        self.reopened = 0
        self.ready = threading.Event()

    def open(self, i):
        try:
            self.socks[i] = connect_from("127.0.0.1", self.port)
            self.socks[i].setblocking(False)
            self.sent[i] = 0
            self.opened += 1
            return True
        except OSError:
            self.socks[i] = None
            return False

    def drop(self, i):
        if self.socks[i] is not None:
            self.socks[i].close()
            self.socks[i] = None

    def closed_by_server(self):
        """Indexes of the connections the server closed."""
        index = {s.fileno(): i for i, s in enumerate(self.socks) if s is not None}
        poller = select.poll()
        for fd in index:
            poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        closed = []
        for fd, _ in poller.poll(0):
            i = index[fd]
            try:
                if self.socks[i].recv(4096) == b"":
                    closed.append(i)
            except BlockingIOError:
                pass
            except OSError:
                closed.append(i)
        return closed

    def run(self):
        for i in range(len(self.kinds)):
            self.open(i)
        self.ready.set()
        while not self.stop.is_set():
            for i in self.closed_by_server():
                self.drop(i)
            for i, kind in enumerate(self.kinds):
                if self.socks[i] is None:
                    self.reopened += self.open(i)
                    continue
                if kind == "trickle":
                    start = self.TRICKLE_START
                    byte = start[self.sent[i]:self.sent[i] + 1] if self.sent[i] < len(start) \
                        else b"a"
                    try:
                        self.socks[i].send(byte)
                        self.sent[i] += 1
                    except OSError:
                        self.drop(i)
            self.stop.wait(1.0)
        for i in range(len(self.socks)):
            self.drop(i)


class HttpHostileTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="tkmprom-it-hostile-http-")
        os.chmod(cls.dir, 0o755)
        lines = [subprocess.run(["htpasswd", "-nbB", "-C", BCRYPT_COST, user, PASSWORD],
                                check=True, stdout=subprocess.PIPE).stdout.decode().strip()
                 for user in USERS]
        cls.htpasswd = os.path.join(cls.dir, "htpasswd")
        with open(cls.htpasswd, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(cls.htpasswd, 0o644)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def start(self, **kwargs):
        b = Broker(**kwargs)
        self.addCleanup(b.cleanup)
        return b.start()

    def test_guessing_flood_from_one_address_leaves_another_address_served(self):
        b = self.start(options={"http_auth_file": self.htpasswd})
        stop = threading.Event()
        counts, lock = {}, threading.Lock()
        guessers = [Guesser(b.http_port, stop, counts, lock) for _ in range(GUESSERS)]
        for g in guessers:
            g.start()
        try:
            time.sleep(1.0)  # the flood is under way
            tries = []
            for user in USERS:
                tries.append(get("127.0.0.2", b.http_port, "/metrics", basic(user, PASSWORD)))
                time.sleep(0.3)
        finally:
            stop.set()
            for g in guessers:
                g.join(timeout=10)
        served = sum(1 for status, took in tries if status == 200 and took < ANSWER_WITHIN_S)
        report("guessing flood (%d connections from 127.0.0.1, bcrypt cost %s): right password "
               "from 127.0.0.2 served %d of %d within %.0f s (%s); the guesses were answered %s"
               % (GUESSERS, BCRYPT_COST, served, len(tries), ANSWER_WITHIN_S,
                  ", ".join("%s in %.3f s" % (status, took) for status, took in tries),
                  ", ".join("%s x%d" % (k, v) for k, v in sorted(counts.items(), key=str))))
        self.assertEqual(served, len(tries), tries)
        # The guesses were refused, never served.
        self.assertNotIn(200, counts)

    def test_held_and_trickling_connections_from_the_scrapers_address_leave_scrapes_served(self):
        b = self.start()
        stop = threading.Event()
        hogs = Hogs(b.http_port, IDLE_HOGS, TRICKLING_HOGS, stop)
        hogs.start()
        try:
            self.assertTrue(hogs.ready.wait(30))
            time.sleep(3.0)  # every hog opened, and the trickling ones under way
            tries = []
            for _ in range(3):
                tries.append(get("127.0.0.1", b.http_port, "/metrics"))
                time.sleep(0.5)
        finally:
            stop.set()
            hogs.join(timeout=30)
        served = sum(1 for status, took in tries if status == 200 and took < ANSWER_WITHIN_S)
        report("%d idle + %d trickling connections from 127.0.0.1 (%d opened, %d reopened after "
               "the server closed them): scrapes from 127.0.0.1 served %d of %d within %.0f s (%s)"
               % (IDLE_HOGS, TRICKLING_HOGS, hogs.opened, hogs.reopened, served, len(tries),
                  ANSWER_WITHIN_S,
                  ", ".join("%s in %.3f s" % (status, took) for status, took in tries)))
        self.assertEqual(served, len(tries), tries)


if __name__ == "__main__":
    unittest.main(verbosity=2)
