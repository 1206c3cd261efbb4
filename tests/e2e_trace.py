#!/usr/bin/env python3
"""e2e_trace: trace mode shows each stage of a connection, in order.

With [log] level = trace (or ferry -v -v) every connection gets a number
and each step of the request path logs a line (src/trace.h):

    ferry[pid] trace: conn 2 +0.123 ms (+0.004 ms): parsed: GET ...

These tests run real requests through the real ferry and check that the
stages of one connection appear in the order the code takes them, with
the numbers (bytes, status) that really went through, and times that
never go backwards: for a GET, a CONNECT, a keep-alive connection that is
parked and woken, and a refused client. They also check that trace lines
stay off at the other levels and that -v -v turns them on.
"""
import re
import socket
import sys
import time

from ferrytest import (Ferry, Origin, Script, Suite, curl, echo, raw,
                       status_of, wait_for)

suite = Suite("trace")

LINE = re.compile(r" trace: conn (\d+) \+(\d+\.\d+) ms \(\+(\d+\.\d+) ms\): "
                  r"(.*)$")


def traces(f):
    """{conn number: [(ms since accept, text), ...]} from ferry's log."""
    conns = {}
    for ln in f.log().splitlines():
        m = LINE.search(ln)
        if m:
            conns.setdefault(int(m.group(1)), []).append(
                (float(m.group(2)), m.group(4)))
    return conns


def conn_with(f, text):
    """The stages of the one connection whose trace has a stage starting
    with text."""
    found = [st for st in traces(f).values()
             if any(t.startswith(text) for _, t in st)]
    assert len(found) == 1, (text, found, f.log()[-3000:])
    return found[0]


def wait_stage(f, text, stage):
    """Wait until the connection whose trace has a stage starting with
    text has logged one starting with stage (its worker may still be
    busy when the client is done). Other connections do not count: the
    start-up probe has stages of its own."""
    def seen():
        return any(any(t.startswith(text) for _, t in st) and
                   any(t.startswith(stage) for _, t in st)
                   for st in traces(f).values())
    assert wait_for(seen), (text, stage, f.log()[-3000:])


def check_order(stages, want):
    """Each pattern of want matches a stage, in this order (other stages
    may come between); times since the accept never decrease. Returns the
    matches, for checks on their numbers."""
    times = [ms for ms, _ in stages]
    assert times == sorted(times), stages
    texts = [t for _, t in stages]
    got, i = [], 0
    for pat in want:
        while i < len(texts) and not re.match(pat, texts[i]):
            i += 1
        assert i < len(texts), ("stage %r missing or out of order" % pat,
                                texts)
        got.append(re.match(pat, texts[i]))
        i += 1
    return got


GET_STAGES = [
    r"accepted \(fd \d+\): the watcher gathers its request head",
    r"request head ready \((\d+) bytes\): offered to a worker",
    r"a worker took it \(client 127\.0\.0\.1; whitelist allows\)",
    r"request head read: (\d+) bytes",
    r"parsed: GET http://127\.0\.0\.1:\d+/hello HTTP/1\.1, \d+ fields, "
    r"body: none",
    r"origin: trying 127\.0\.0\.1:(\d+)",
    r"origin: connected to 127\.0\.0\.1:(\d+)",
    r"request head rewritten and sent to the origin: \d+ bytes",
    r"response head 200 from the origin",
    r"response body relayed: (\d+) bytes$",
    r"request done: status 200, (\d+) bytes from the client, (\d+) bytes",
    r"closing",
]


@suite.test
def get_walks_through_every_stage_in_order():
    with Origin() as o, Ferry({"log": {"level": "trace"}}) as f:
        r = curl("-s", "-H", "Connection: close", o.url("/hello"),
                 proxy=f.proxy)
        assert r.returncode == 0 and r.stdout == b"hello\n", r
        wait_stage(f, "parsed: GET", "closing")
        stages = conn_with(f, "parsed: GET")
        m = check_order(stages, GET_STAGES)
        assert int(m[5].group(1)) == o.port and int(m[6].group(1)) == o.port
        assert int(m[9].group(1)) == len(b"hello\n"), m[9].group(0)
        # The head is all the client sent: what was read is what is counted.
        assert m[10].group(1) == m[3].group(1), (m[10].group(0),
                                                 m[3].group(0))


@suite.test
def connect_walks_through_the_tunnel_stages_in_order():
    with Script(echo) as e, \
            Ferry({"log": {"level": "trace"},
                   "connect": {"ports": e.port}}) as f:
        head = b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n" % e.port
        with socket.create_connection(("127.0.0.1", f.port), 5) as s:
            s.sendall(head)
            got = b""
            while not got.endswith(b"\r\n\r\n"):
                got += s.recv(4096)
            assert got.startswith(b"HTTP/1.1 200 "), got
            s.sendall(b"ping through the tunnel")
            back = b""
            while len(back) < 23:
                back += s.recv(4096)
            assert back == b"ping through the tunnel", back
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
        wait_stage(f, "parsed: CONNECT", "closing")
        stages = conn_with(f, "parsed: CONNECT")
        m = check_order(stages, [
            r"accepted",
            r"request head ready",
            r"a worker took it \(client 127\.0\.0\.1; whitelist allows\)",
            r"request head read: (\d+) bytes",
            r"parsed: CONNECT 127\.0\.0\.1:%d HTTP/1\.1" % e.port,
            r"origin: trying 127\.0\.0\.1:%d" % e.port,
            r"origin: connected to 127\.0\.0\.1:%d" % e.port,
            r"tunnel open: 200 sent",
            r"tunnel closed: (\d+) bytes from the client, (\d+) bytes to it",
            r"request done: status 200",
            r"closing",
        ])
        assert int(m[3].group(1)) == len(head)
        assert int(m[8].group(1)) == len(head) + 23, m[8].group(0)
        assert int(m[8].group(2)) == len(got) + 23, m[8].group(0)


@suite.test
def parked_connection_keeps_its_number_for_the_next_request():
    # Two requests on one connection with a pause between: the worker
    # parks it, the idle watcher wakes it, and the same number goes on.
    with Origin() as o, Ferry({"log": {"level": "trace"}}) as f:
        req = ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n"
               % (o.url("/hello"), o.authority)).encode()
        with socket.create_connection(("127.0.0.1", f.port), 5) as s:
            for _ in range(2):
                s.sendall(req)
                got = b""
                while not got.endswith(b"hello\n"):
                    got += s.recv(4096)
                assert wait_for(lambda: "parked: " in f.log())
                time.sleep(0.2)
        wait_stage(f, "parked: the idle watcher waits",
                   "closed: the client hung up while parked")
        stages = conn_with(f, "parked: the idle watcher waits")
        check_order(stages, [
            r"accepted",
            r"parsed: GET",
            r"request done: status 200",
            r"parked: the idle watcher waits",
            r"request head ready",
            r"a worker took it",
            r"parsed: GET",
            r"request done: status 200",
            r"parked: the idle watcher waits",
            r"closed: the client hung up while parked",
        ])


@suite.test
def refused_client_is_traced_to_its_403():
    cfg = {"log": {"level": "trace"}, "whitelist": {"a": "10.9.8.7"}}
    with Origin() as o, Ferry(cfg) as f:
        r = raw(f.port, ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                         % (o.url("/hello"), o.authority)).encode())
        assert status_of(r) == 403, r[:200]
        wait_stage(f, "failed with 403", "closing")
        stages = conn_with(f, "failed with 403")
        check_order(stages, [
            r"accepted",
            r"request head ready",
            r"a worker took it \(client 127\.0\.0\.1; whitelist refuses\)",
            r"parsed: GET",
            r"failed with 403",
            r"request done: status 403",
            r"closing",
        ])
        assert not any(t.startswith("origin:") for _, t in stages), stages
        assert o.requests() == []


@suite.test
def trace_lines_are_off_below_trace_level():
    for level in ("debug", "info"):
        with Origin() as o, Ferry({"log": {"level": level}}) as f:
            r = curl("-s", o.url("/hello"), proxy=f.proxy)
            assert r.stdout == b"hello\n", r
            assert wait_for(lambda: " GET " in f.log())
            assert " trace: " not in f.log(), f.log()[-2000:]


@suite.test
def v_v_turns_trace_on_whatever_the_config_says():
    # -v: debug lines, no trace; -v -v: trace lines too, at level = info.
    for args, debug, trace in ((["-v"], True, False),
                               (["-v", "-v"], True, True)):
        with Origin() as o, Ferry({"log": {"level": "info"}},
                                  args=args) as f:
            r = curl("-s", o.url("/hello"), proxy=f.proxy)
            assert r.stdout == b"hello\n", r
            assert wait_for(lambda: " GET " in f.log())
            if trace:
                wait_stage(f, "parsed: GET", "request done")
            log = f.log()
            assert (" debug: " in log) == debug, (args, log[-2000:])
            assert (" trace: " in log) == trace, (args, log[-2000:])
            if trace:
                check_order(conn_with(f, "parsed: GET"), GET_STAGES[:-1])


if __name__ == "__main__":
    sys.exit(suite.run())
