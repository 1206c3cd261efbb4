#!/usr/bin/env python3
"""e2e_http: plain HTTP through ferry with curl (smoke, replaced below)."""
import sys
from ferrytest import Ferry, Origin, Suite, curl

suite = Suite("http")


@suite.test
def get_hello():
    with Origin() as o, Ferry() as f:
        r = curl(o.url("/hello"), proxy=f.proxy)
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"hello\n", r.stdout


sys.exit(suite.run())
