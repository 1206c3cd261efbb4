#!/usr/bin/env python3
"""e2e_metrics: the Prometheus endpoint ([metrics]) of the real ferry.

A scrape with curl: 200, the exposition's Content-Type, ferry_build_info,
and `promtool check metrics` (Debian package prometheus) passes on the
text; HEAD; 404, 405 and 400; a client not in [metrics] allow is closed
without a byte; a SIGHUP reload counts ferry_reloads_total by result and
resets no counter; the scrape answers while the only worker is held by a
slow origin; a bind error names the address; [metrics] listen changed at
a reload takes a restart; a bad allow list fails -t naming the key.
"""
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

from ferrytest import (FERRY_BIN, Ferry, Origin, Script, Skip, Suite, curl,
                       echo, free_port, raw, read_request_head, status_of,
                       wait_for)

suite = Suite("metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class MetricsFerry(Ferry):
    """A Ferry with [metrics] listen on a free loopback port."""

    def __init__(self, config=None, **kw):
        self.mport = free_port()
        merged = {"metrics": {"listen": "127.0.0.1:%d" % self.mport}}
        for name, keys in (config or {}).items():
            merged.setdefault(name, {}).update(keys)
        self.extra = merged
        super().__init__(merged, **kw)

    def configure(self, config=None):
        if isinstance(config, dict):
            merged = {k: dict(v) for k, v in self.extra.items()}
            for name, keys in config.items():
                merged.setdefault(name, {}).update(keys)
            config = merged
        super().configure(config)

    def start(self):
        """Start; if [metrics] listen's port was taken between free_port()
        and ferry's bind (a test running beside this one draws its
        outgoing ports from the same range, and "*:port" clashes with any
        of them), pick another port: three tries in all."""
        for attempt in range(3):
            try:
                return super().start()
            except RuntimeError as e:
                if attempt == 2 or "for [metrics]: Address already in " \
                        "use" not in str(e):
                    raise
                host = self.extra["metrics"]["listen"].rsplit(":", 1)[0]
                self.mport = free_port()
                self.extra["metrics"]["listen"] = "%s:%d" % (host,
                                                             self.mport)
                self.configure({})

    @property
    def url(self):
        return "http://127.0.0.1:%d/metrics" % self.mport


def scrape(f, *args, timeout=5):
    """curl the endpoint; returns (status, headers text, body text)."""
    r = curl("-i", *args, f.url, timeout=timeout)
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.decode().partition("\r\n\r\n")
    return status_of(r.stdout), head, body


def value(body, sample):
    """The value of the sample line that starts with sample + " "."""
    for line in body.splitlines():
        if line.startswith(sample + " "):
            return float(line.split(" ")[-1])
    raise AssertionError("no %s in:\n%s" % (sample, body))


@suite.test
def scrape_ok_and_promtool_passes():
    with MetricsFerry() as f:
        status, head, body = scrape(f)
        assert status == 200, head
        assert re.search(r"(?im)^Content-Type: %s\r?$" % re.escape(
            CONTENT_TYPE), head), head
        assert re.search(r"(?im)^Content-Length: %d\r?$" % len(
            body.encode()), head), head
        assert re.search(r'(?m)^ferry_build_info\{version="[^"]+"\} 1$',
                         body), body
        assert value(body, "process_open_fds") > 0
        assert value(body, "process_resident_memory_bytes") > 0
        assert abs(value(body, "process_start_time_seconds") -
                   time.time()) < 60
        if shutil.which("promtool") is None:
            raise Skip("no promtool (Debian package prometheus)")
        r = subprocess.run(["promtool", "check", "metrics"],
                           input=body.encode(), capture_output=True,
                           timeout=30)
        assert r.returncode == 0, (r.stdout, r.stderr)


@suite.test
def head_404_405_400():
    with MetricsFerry() as f:
        r = curl("-sI", f.url)
        assert status_of(r.stdout) == 200, r.stdout
        assert b"\r\n\r\n" == r.stdout[-4:], r.stdout  # no body
        got = raw(f.mport, b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(got) == 404, got
        got = raw(f.mport, b"GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status_of(got) == 404, got
        got = raw(f.mport, b"POST /metrics HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 0\r\n\r\n")
        assert status_of(got) == 405, got
        assert b"\r\nAllow: GET, HEAD\r\n" in got, got
        assert status_of(raw(f.mport, b"garbage\r\n\r\n")) == 400
        assert status_of(raw(f.mport, b"GET /metrics\r\n\r\n")) == 400
        # A head over 4 KiB: 400, and the thread goes on serving.
        got = raw(f.mport, b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 5000)
        assert status_of(got) == 400, got[:100]
        # One that never ends is closed after its deadline (2 s).
        start = time.monotonic()
        got = raw(f.mport, b"GET /metrics HTTP/1.1\r\n", timeout=8)
        assert got == b"" and time.monotonic() - start < 5, got
        assert scrape(f)[0] == 200
        # A query is fine: Prometheus' params end up there.
        got = raw(f.mport, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n")
        assert status_of(got) == 200, got[:100]


@suite.test
def client_not_in_allow_is_closed():
    # The default allow is 127.0.0.1 and ::1: 127.0.0.2 is not in it.
    with MetricsFerry() as f:
        got = raw(f.mport, b"GET /metrics HTTP/1.1\r\n\r\n",
                  source="127.0.0.2")
        assert got == b"", got
        # Logged at warn with the address, and counted: an admin sees a
        # Prometheus server that was left out of the list.
        assert re.search(r"warn: metrics: 127\.0\.0\.2 is not in "
                         r"\[metrics\] allow: closed", f.log()), f.log()
        status, _, body = scrape(f)
        assert status == 200
        assert value(body, 'ferry_refusals_total{reason="scraper"}') == 1
        assert value(body, 'ferry_refusals_total{reason="client"}') == 0
    # "*:port" is dual-stack, and allow may name an IPv6 scraper. (Set
    # before the start: a stop and a start again on the same ports could
    # find one taken meanwhile by another test's outgoing connection.)
    f = MetricsFerry({"metrics": {"allow": "127.0.0.2 ::1"}})
    f.extra["metrics"]["listen"] = "*:%d" % f.mport
    f.configure({})
    with f:
        got = raw(f.mport, b"GET /metrics HTTP/1.1\r\n\r\n", host="::1")
        assert status_of(got) == 200, got[:100]
        got = raw(f.mport, b"GET /metrics HTTP/1.1\r\n\r\n",
                  source="127.0.0.2")
        assert status_of(got) == 200, got[:100]
        got = raw(f.mport, b"GET /metrics HTTP/1.1\r\n\r\n")
        assert got == b"", got


@suite.test
def unlisted_client_is_refused_and_counted_whatever_it_sends():
    # A client not in [whitelist] gets the same 403 for a good head, a
    # malformed one and one over max_header_bytes (it learns nothing but
    # that it is unlisted), and each is one refusal of reason "client".
    with MetricsFerry({"whitelist": {"local": "127.0.0.1 ::1"}}) as f:
        heads = [b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"\r\n",
                 b"GET http://127.0.0.1/ HTTP/1.1\r\nBad Field: x\r\n\r\n",
                 b"GET http://127.0.0.1/ HTTP/1.1\r\nX: " + b"a" * 40000 +
                 b"\r\n\r\n"]
        for head in heads:
            got = raw(f.port, head, source="127.0.0.2")
            assert status_of(got) == 403, got[:200]
            assert b"may not use this proxy" in got, got[:400]
        body = scrape(f)[2]
        assert value(body, 'ferry_refusals_total{reason="client"}') == 3, \
            [ln for ln in body.splitlines() if "refusals" in ln]


@suite.test
def reload_counts_and_resets_nothing():
    with MetricsFerry() as f:
        body = scrape(f)[2]
        assert value(body, 'ferry_reloads_total{result="ok"}') == 0
        f.reload({})
        body = scrape(f)[2]
        assert value(body, 'ferry_reloads_total{result="ok"}') == 1
        assert value(body, 'ferry_reloads_total{result="failed"}') == 0
        f.reload("[server\n", expect="reload failed")
        f.reload({})
        body = scrape(f)[2]
        assert value(body, 'ferry_reloads_total{result="ok"}') == 2
        assert value(body, 'ferry_reloads_total{result="failed"}') == 1
        start = value(body, "process_start_time_seconds")
        f.reload({})
        body = scrape(f)[2]
        assert value(body, 'ferry_reloads_total{result="ok"}') == 3
        assert value(body, 'ferry_reloads_total{result="failed"}') == 1
        assert value(body, "process_start_time_seconds") == start


@suite.test
def request_path_counts():
    # Real traffic moves the request-path counters by exactly what was
    # sent, and a reload keeps them.
    with Origin() as o, Script(echo) as e:
        cfg = {"connect": {"ports": "%d" % e.port},
               "destinations": {"allow": "127.0.0.0/8 ::1",
                                "deny": "denied.example"}}
        with MetricsFerry(cfg) as f:
            for _ in range(3):
                r = curl(o.url("/hello"), proxy=f.proxy)
                assert r.returncode == 0 and r.stdout == b"hello\n", r
            r = curl("-I", o.url("/hello"), proxy=f.proxy)
            assert r.returncode == 0, r
            r = raw(f.port, b"GET http://denied.example/ HTTP/1.1\r\n"
                    b"Host: denied.example\r\nConnection: close\r\n\r\n")
            assert status_of(r) == 403, r
            # the internal-address guard (link-local: the cloud metadata)
            r = raw(f.port, b"GET http://169.254.169.254/ HTTP/1.1\r\n"
                    b"Host: 169.254.169.254\r\nConnection: close\r\n\r\n")
            assert status_of(r) == 403, r
            r = raw(f.port, b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n"
                    b"Connection: close\r\n\r\n")
            assert status_of(r) == 403, r
            with socket.create_connection(("127.0.0.1", f.port), 5) as c:
                c.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x"
                          b"\r\n\r\n" % e.port)
                assert b" 200 " in c.recv(4096)
                c.sendall(b"ping")
                assert c.recv(4096) == b"ping"

            def counted():
                body = scrape(f)[2]
                return value(body, 'ferry_requests_total{method="connect",'
                             'status="2xx"}') == 1 and body
            body = wait_for(counted)
            assert body, scrape(f)[2]
            v = lambda s: value(body, s)  # noqa: E731
            assert v('ferry_requests_total{method="get",status="2xx"}') == 3
            assert v('ferry_requests_total{method="head",status="2xx"}') == 1
            assert v('ferry_requests_total{method="get",status="4xx"}') == 2
            assert v('ferry_requests_total{method="connect",status="4xx"}') \
                == 1
            assert v("ferry_connect_tunnels_total") == 1
            assert v('ferry_refusals_total{reason="destination"}') == 1
            assert v('ferry_refusals_total{reason="internal"}') == 1
            assert v('ferry_refusals_total{reason="connect_port"}') == 1
            assert v('ferry_upstream_connects_total{result="ok"}') >= 2
            assert v('ferry_upstream_connects_total{result="ok"}') + \
                v("ferry_upstream_reuses_total") == 5
            assert v("ferry_client_received_bytes_total") > 0
            assert v("ferry_client_sent_bytes_total") > 3 * len(b"hello\n")
            assert v("ferry_upstream_sent_bytes_total") >= 4 + 3 * 20
            assert v("ferry_upstream_received_bytes_total") >= 4 + 3 * 6
            assert v("ferry_request_duration_seconds_count") == 8
            f.reload({})
            again = scrape(f)[2]
            assert value(again, 'ferry_requests_total{method="get",'
                         'status="2xx"}') == 3, again


@suite.test
def listen_change_takes_a_restart():
    with MetricsFerry() as f:
        f.reload({"metrics": {"listen": "127.0.0.1:%d" % free_port(),
                              "allow": "127.0.0.0/8"}})
        assert re.search(r"reload: .*\[metrics\] listen, \[metrics\] allow "
                         r"changed", f.log()), f.log()
        assert scrape(f)[0] == 200  # the old address still answers


def slow_origin(conn, stop):
    """A Script handler: read the head, then hold the request for 4 s."""
    read_request_head(conn)
    stop.wait(4)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                 b"Connection: close\r\n\r\nslow\n")


@suite.test
def scrape_answers_while_every_worker_is_busy():
    with Script(slow_origin) as o, \
            MetricsFerry({"pool": {"workers": 1, "queue": 4}}) as f:
        result = {}

        def client():
            result["r"] = curl("http://127.0.0.1:%d/" % o.port,
                               proxy=f.proxy, timeout=15)

        t = threading.Thread(target=client)
        t.start()
        try:
            assert wait_for(lambda: value(scrape(f)[2],
                                          "ferry_busy_workers") == 1), \
                scrape(f)[2]
            start = time.monotonic()
            status, _, body = scrape(f, timeout=3)
            assert status == 200
            assert time.monotonic() - start < 1.5
            assert value(body, "ferry_client_connections") >= 1
            assert t.is_alive()  # the slow request still holds it
        finally:
            t.join(15)
        assert result["r"].stdout == b"slow\n", result["r"]
        assert wait_for(lambda: value(scrape(f)[2],
                                      "ferry_busy_workers") == 0)


@suite.test
def bind_error_names_the_address():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        f = Ferry({"metrics": {"listen": "127.0.0.1:%d" % port}})
        r = subprocess.run([FERRY_BIN, "-f", "-c", f.ini],
                           capture_output=True, timeout=10)
    assert r.returncode != 0, r
    assert ("cannot listen on 127.0.0.1:%d for [metrics]" % port) in \
        (r.stderr.decode() + f.log()), (r.stderr, f.log())


@suite.test
def bad_config_names_the_key():
    f = Ferry({"metrics": {"allow": "127.0.0.1 not-an-address"}})
    r = subprocess.run([FERRY_BIN, "-t", "-c", f.ini], capture_output=True,
                       timeout=10)
    assert r.returncode == 1, r
    assert b"[metrics] allow" in r.stderr, r.stderr
    f = Ferry({"metrics": {"listen": "localhost:9100"}})
    r = subprocess.run([FERRY_BIN, "-t", "-c", f.ini], capture_output=True,
                       timeout=10)
    assert r.returncode == 1, r
    assert b"[metrics] listen" in r.stderr, r.stderr
    f = Ferry({"metrics": {"listen": ""}})
    r = subprocess.run([FERRY_BIN, "-t", "-c", f.ini], capture_output=True,
                       timeout=10)
    assert r.returncode == 0, r


sys.exit(suite.run())
