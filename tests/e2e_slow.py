#!/usr/bin/env python3
"""e2e_slow: slow clients never hold a worker (issue 20).

Hundreds (and two thousand) connections trickle a request head one byte
a second, or connect and send nothing, while a fresh client asks for a
page every quarter second: with the shipped pool of 32 workers the fresh
client is answered at once throughout, because heads are gathered by
the idle watcher (src/park.c), not by workers. Each slow connection is
ended by ferry within header_timeout (+1 s) of its accept: a trickler
with a 408, a silent one by a close. With two thousand of them ferry's
memory stays within the bound ferry.ini(5) documents.

Everything is loopback and bounded in time; one thread drives all the
slow sockets through a selector.
"""
import os
import resource
import selectors
import socket
import sys
import threading
import time

from ferrytest import (Ferry, Origin, Suite, raw, status_of)

suite = Suite("slow")

HEADER_S = 3
SANITIZED = "-fsanitize" in os.environ.get("FERRY_SAN_CFLAGS", "")
# A fresh request must be answered this fast (sanitizers slow ferry).
FRESH_MS = 400 if SANITIZED else 100


class SlowCrowd:
    """trickle connections that send a request head one byte a second and
    silent ones that send nothing, all to port. run() drives them until
    every one is closed by ferry or `limit` seconds passed; then
    closed[i] = (seconds from connect to ferry's close, bytes received)."""

    def __init__(self, port, trickle, silent, limit):
        self.head = (b"GET http://127.0.0.1:9/slow HTTP/1.1\r\n"
                     b"Host: 127.0.0.1:9\r\nX-Pad: " + b"p" * 200)
        self.limit = limit
        self.sel = selectors.DefaultSelector()
        self.socks = []
        self.kind = []
        self.t0 = []
        self.sent = []
        self.got = []
        self.closed = {}
        for i in range(trickle + silent):
            s = socket.create_connection(("127.0.0.1", port), 10)
            s.setblocking(False)
            self.socks.append(s)
            self.kind.append("trickle" if i < trickle else "silent")
            self.t0.append(time.monotonic())
            self.sent.append(0)
            self.got.append(b"")
            self.sel.register(s, selectors.EVENT_READ, i)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def trickle_once(self):
        for i, s in enumerate(self.socks):
            if self.kind[i] != "trickle" or i in self.closed:
                continue
            if self.sent[i] < len(self.head):
                try:
                    s.send(self.head[self.sent[i]:self.sent[i] + 1])
                    self.sent[i] += 1
                except OSError:
                    pass

    def run(self):
        end = time.monotonic() + self.limit
        next_byte = time.monotonic()
        while time.monotonic() < end and len(self.closed) < len(self.socks):
            now = time.monotonic()
            if now >= next_byte:
                self.trickle_once()
                next_byte = now + 1.0
            for key, _ in self.sel.select(timeout=0.05):
                i = key.data
                try:
                    data = self.socks[i].recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    self.got[i] += data
                    continue
                self.closed[i] = (time.monotonic() - self.t0[i], self.got[i])
                self.sel.unregister(self.socks[i])
        self.done.set()

    def close(self):
        for s in self.socks:
            s.close()
        self.sel.close()


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fresh_requests_while(o, f, crowd):
    """Fresh GETs every 0.25 s until crowd is done: their latencies (ms),
    and ferry's highest RSS (KB) seen meanwhile."""
    req = ("GET http://%s/hello HTTP/1.1\r\nHost: %s\r\nConnection: close"
           "\r\n\r\n" % (o.authority, o.authority)).encode()
    took, peak = [], 0
    while not crowd.done.is_set():
        t = time.monotonic()
        r = raw(f.port, req, timeout=10)
        took.append((time.monotonic() - t) * 1000)
        assert status_of(r) == 200, r[:200]
        peak = max(peak, rss_kb(f.proc.pid))
        time.sleep(0.25)
    return took, peak


def check_crowd(crowd):
    """Every slow connection ended by ferry within header_timeout + 1 s of
    its connect: tricklers with a 408, silent ones without a byte."""
    assert len(crowd.closed) == len(crowd.socks), \
        "%d of %d slow connections still open" % (
            len(crowd.socks) - len(crowd.closed), len(crowd.socks))
    late = [(i, round(t, 2)) for i, (t, _) in crowd.closed.items()
            if t > HEADER_S + 1]
    assert not late, "closed late: %r" % late[:10]
    early = [(i, round(t, 2)) for i, (t, _) in crowd.closed.items()
             if t < HEADER_S - 0.5]
    assert not early, "closed before header_timeout: %r" % early[:10]
    for i, (_, got) in crowd.closed.items():
        if crowd.kind[i] == "trickle":
            assert got.startswith(b"HTTP/1.1 408 "), (i, got[:100])
        else:
            assert got == b"", (i, got[:100])


def crowd_run(trickle, silent, extra=None):
    raise_fd_limit()
    cfg = {"client": {"header_timeout": HEADER_S},
           "log": {"level": "warn"}}
    for k, v in (extra or {}).items():
        cfg.setdefault(k, {}).update(v)
    with Origin() as o, Ferry(cfg) as f:
        before = rss_kb(f.proc.pid)
        crowd = SlowCrowd(f.port, trickle, silent, HEADER_S + 5)
        crowd.thread.start()
        try:
            took, peak = fresh_requests_while(o, f, crowd)
            crowd.thread.join(30)
            check_crowd(crowd)
        finally:
            crowd.close()
        print("  %d trickling + %d silent: fresh requests %d, slowest "
              "%.1f ms; RSS %d -> %d KB" % (trickle, silent, len(took),
                                             max(took), before, peak))
        assert max(took) < FRESH_MS, "a fresh request took %.1f ms" % max(
            took)
        return before, peak


@suite.test
def two_hundred_trickling_and_two_hundred_silent():
    crowd_run(200, 200)


@suite.test
def two_thousand_slow_clients_within_the_memory_bound():
    # ferry.ini(5): a gathering connection holds at most its record and
    # max_header_bytes of buffer, of which only the pages written are
    # resident; at 32 KiB heads that is 2,000 x 33 KiB at the very most.
    before, peak = crowd_run(1000, 1000, {"pool": {"max_clients": 4096}})
    if not SANITIZED:
        assert peak - before < 2000 * 33, (before, peak)


if __name__ == "__main__":
    sys.exit(suite.run())
