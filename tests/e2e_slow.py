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

Everything is loopback and bounded in time; one process of the test's
drives all the slow sockets through a selector.
"""
import multiprocessing
import os
import resource
import selectors
import socket
import sys
import threading
import time

from ferrytest import TSAN, Ferry, Origin, Suite, raw, status_of

suite = Suite("slow")

HEADER_S = 3
SANITIZED = "-fsanitize" in os.environ.get("FERRY_SAN_CFLAGS", "")
# A fresh request must be answered this fast. Sanitizers slow ferry
# down; under ThreadSanitizer, which serialises much of it, the test is
# there for the races it may find, not for the time.
FRESH_MS = 1500 if TSAN else 400 if SANITIZED else 100


class SlowCrowd:
    """trickle connections that send a request head one byte a second and
    silent ones that send nothing, all to port, driven by a process of
    their own (so that the test's own requests never wait for Python's
    lock) until every one is closed by ferry or `limit` seconds passed.
    Then closed[i] = (seconds from connect to ferry's close, bytes
    received) and kind[i] is "trickle" or "silent"."""

    def __init__(self, port, trickle, silent, limit):
        self.kind = ["trickle"] * trickle + ["silent"] * silent
        self.done = multiprocessing.Event()
        self.queue = multiprocessing.Queue()
        self.proc = multiprocessing.Process(
            target=crowd_main, args=(port, self.kind, limit, self.done,
                                     self.queue), daemon=True)
        self.closed = {}

    def start(self):
        self.proc.start()

    def join(self, timeout):
        """Wait for the crowd's report; fills closed."""
        self.closed = self.queue.get(timeout=timeout)
        self.proc.join(timeout)


def crowd_main(port, kind, limit, done, queue):
    """The crowd's process: connect them all, trickle, note the closes."""
    raise_fd_limit()
    head = (b"GET http://127.0.0.1:9/slow HTTP/1.1\r\n"
            b"Host: 127.0.0.1:9\r\nX-Pad: " + b"p" * 200)
    sel = selectors.DefaultSelector()
    socks, t0, sent, got, closed = [], [], [], [], {}
    for i in range(len(kind)):
        s = socket.create_connection(("127.0.0.1", port), 10)
        s.setblocking(False)
        socks.append(s)
        t0.append(time.monotonic())
        sent.append(0)
        got.append(b"")
        sel.register(s, selectors.EVENT_READ, i)
    end = time.monotonic() + limit
    next_byte = time.monotonic()
    while time.monotonic() < end and len(closed) < len(socks):
        now = time.monotonic()
        if now >= next_byte:
            for i, s in enumerate(socks):
                if kind[i] == "trickle" and i not in closed and \
                        sent[i] < len(head):
                    try:
                        s.send(head[sent[i]:sent[i] + 1])
                        sent[i] += 1
                    except OSError:
                        pass
            next_byte = now + 1.0
        for key, _ in sel.select(timeout=0.05):
            i = key.data
            try:
                data = socks[i].recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                got[i] += data
                continue
            closed[i] = (time.monotonic() - t0[i], got[i])
            sel.unregister(socks[i])
    done.set()
    queue.put(closed)
    for s in socks:
        s.close()


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
    assert len(crowd.closed) == len(crowd.kind), \
        "%d of %d slow connections still open" % (
            len(crowd.kind) - len(crowd.closed), len(crowd.kind))
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
        crowd.start()
        took, peak = fresh_requests_while(o, f, crowd)
        crowd.join(30)
        check_crowd(crowd)
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


def post_trickle(f, o, total, every, step, result):
    """POST a body of total bytes to o through f, step bytes every `every`
    seconds; result gets the answer and when it came."""
    head = ("POST http://%s/echo?t=trickle HTTP/1.1\r\nHost: %s\r\n"
            "Content-Length: %d\r\n\r\n" % (o.authority, o.authority,
                                             total)).encode()
    t0 = time.monotonic()
    got = b""
    with socket.create_connection(("127.0.0.1", f.port), 10) as s:
        s.sendall(head)
        sent = 0
        s.settimeout(every)
        while sent < total and time.monotonic() - t0 < 20:
            try:
                got += s.recv(4096)
                break  # ferry answered (or closed): stop sending
            except socket.timeout:
                pass
            try:
                s.sendall(b"b" * step)
            except OSError:
                break
            sent += step
        s.settimeout(5)
        try:
            while True:
                data = s.recv(4096)
                if not data:
                    break
                got += data
        except OSError:
            pass
    result["got"] = got
    result["took"] = time.monotonic() - t0


@suite.test
def trickled_request_body_is_cut_at_the_least_rate():
    # [client] min_rate: after header_timeout of grace a body must average
    # min_rate bytes a second. 20 bytes every 0.5 s is far below 1,024:
    # the sender gets 408 a little after the grace, the origin never a
    # whole body, and everyone else is served meanwhile.
    cfg = {"client": {"header_timeout": 2, "min_rate": 1024},
           "pool": {"workers": 1}}
    with Origin() as o, Ferry(cfg) as f:
        result = {}
        th = threading.Thread(target=post_trickle,
                              args=(f, o, 100000, 0.5, 20, result))
        th.start()
        time.sleep(0.5)
        t = time.monotonic()
        r = raw(f.port, ("GET http://%s/hello HTTP/1.1\r\nHost: %s\r\n"
                         "Connection: close\r\n\r\n"
                         % (o.authority, o.authority)).encode(), timeout=10)
        other = time.monotonic() - t
        th.join(30)
        assert status_of(result["got"]) == 408, result["got"][:200]
        assert 2.0 <= result["took"] < 4.0, result["took"]
        assert b"did not arrive in time" in result["got"], result["got"]
        assert status_of(r) == 200, r[:200]
        # The only worker was relaying the trickle: the other client
        # waited for it, but no longer than the least rate allowed.
        assert other < 4.0, other
        assert not any("t=trickle" in q["target"] and q["body_len"] ==
                       100000 for q in o.requests()), o.requests()
    # A body that keeps the rate goes through whole.
    with Origin() as o, Ferry({"client": {"header_timeout": 1,
                                          "min_rate": 1024}}) as f:
        result = {}
        post_trickle(f, o, 12000, 0.2, 2000, result)
        assert status_of(result["got"]) == 200, result["got"][:200]


@suite.test
def slow_reader_is_cut_off_and_frees_its_worker():
    # A client that reads a large response a little at a time: each piece
    # ferry sends (at most 256 KiB) must be taken within idle_timeout, so
    # a reader of ~2 KB a second is cut, not served forever, and reset
    # (the megabytes queued for it are dropped, not trickled out).
    cfg = {"client": {"idle_timeout": 2}, "pool": {"workers": 1}}
    with Origin() as o, Ferry(cfg) as f:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", f.port))
        s.sendall(("GET http://%s/big?size=%d HTTP/1.1\r\nHost: %s\r\n"
                   "\r\n" % (o.authority, 64 << 20, o.authority)).encode())
        t0 = time.monotonic()
        total = 0
        s.settimeout(1)
        ended = None
        while time.monotonic() - t0 < 30:
            try:
                data = s.recv(512)
            except socket.timeout:
                continue
            except OSError:
                data = b""  # reset: what was queued for it is dropped
            if not data:
                ended = time.monotonic() - t0
                break
            total += len(data)
            time.sleep(0.25)  # about 2 KB a second
        s.close()
        assert ended is not None and ended < 10, \
            "still served after %s s (%d bytes)" % (ended, total)
        assert total < 64 << 20, total
        assert "response body cut short" in f.log(), f.log()[-1500:]
        r = raw(f.port, ("GET http://%s/hello HTTP/1.1\r\nHost: %s\r\n"
                         "Connection: close\r\n\r\n"
                         % (o.authority, o.authority)).encode(), timeout=10)
        assert status_of(r) == 200, r[:200]


if __name__ == "__main__":
    sys.exit(suite.run())
