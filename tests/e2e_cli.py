#!/usr/bin/env python3
"""e2e_cli: the ferry command line, run as a real process.

Version, usage and exit codes; -t on good, shipped and bad files (the
message must name the file, section, key and value); start-up failures;
SIGTERM and SIGINT stop a running ferry with exit 0 and free its port.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile

from ferrytest import (FERRY_BIN, SRCDIR, TMP, Ferry, Origin, Suite, curl,
                       free_port)

suite = Suite("cli")


def run(*args, timeout=10):
    return subprocess.run([FERRY_BIN] + list(args), capture_output=True,
                          timeout=timeout)


def ini(text):
    fd, path = tempfile.mkstemp(dir=TMP, suffix=".ini")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


@suite.test
def version_exits_0():
    r = run("-V")
    assert r.returncode == 0, r
    assert r.stdout.startswith(b"ferry "), r.stdout


@suite.test
def help_exits_0_with_usage():
    r = run("-h")
    assert r.returncode == 0, r
    assert b"usage: ferry" in r.stdout, r.stdout


@suite.test
def unknown_option_exits_2_with_usage_on_stderr():
    r = run("-Z")
    assert r.returncode == 2, r
    assert b"usage: ferry" in r.stderr, r.stderr
    assert r.stdout == b"", r.stdout


@suite.test
def check_valid_file():
    path = ini("[server]\nlisten = 127.0.0.1:%d\n" % free_port())
    r = run("-t", "-c", path)
    assert r.returncode == 0, r
    assert b"valid" in r.stdout + r.stderr, r


@suite.test
def check_shipped_config():
    path = os.path.join(SRCDIR, "etc", "ferry.ini")
    r = run("-t", "-c", path)
    assert r.returncode == 0, r


# (file text, words the message must contain besides the path)
BAD = [
    ("[bogus]\nkey = 1\n", ["bogus"]),
    ("[server]\nlisen = 1.2.3.4:5\n", ["[server]", "lisen", "1.2.3.4:5"]),
    ("[pool]\nworkers = 80x\n", ["[pool]", "workers", "80x"]),
    ("[server]\nlisten = 127.0.0.1:0\n", ["[server]", "listen",
                                          "127.0.0.1:0"]),
    ("[server]\nlisten = 127.0.0.1:65536\n", ["[server]", "listen",
                                              "127.0.0.1:65536"]),
    ("[whitelist]\nlan = 300.1.1.1\n", ["[whitelist]", "lan",
                                        "300.1.1.1"]),
    ("[pool]\nmode = fork\n", ["[pool]", "mode", "fork"]),
    ("[log]\nlevel = loud\n", ["[log]", "level", "loud"]),
    ("[connect]\nports = 443, 70000\n", ["[connect]", "ports", "70000"]),
]


@suite.test
def check_bad_files_name_file_section_key_value():
    for text, words in BAD:
        path = ini(text)
        r = run("-t", "-c", path)
        msg = r.stderr.decode()
        assert r.returncode == 1, (text, r)
        assert path in msg, (text, msg)
        for w in words:
            assert w in msg, (text, w, msg)


@suite.test
def check_missing_file():
    r = run("-t", "-c", "/nonexistent/ferry.ini")
    assert r.returncode == 1, r
    assert b"/nonexistent/ferry.ini" in r.stderr, r.stderr


@suite.test
def missing_file_without_t_exits_1():
    r = run("-f", "-c", "/nonexistent/ferry.ini")
    assert r.returncode == 1, r


@suite.test
def port_in_use_exits_1():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        path = ini("[server]\nlisten = 127.0.0.1:%d\n" % port)
        r = run("-f", "-c", path)
    assert r.returncode == 1, r
    assert b"127.0.0.1:%d" % port in r.stderr, r.stderr


def stops_on(sig):
    with Origin() as o:
        f = Ferry().start()
        try:
            r = curl(o.url("/hello"), proxy=f.proxy)
            assert r.stdout == b"hello\n", r
            f.proc.send_signal(sig)
            f.proc.wait(10)
            assert f.proc.returncode == 0, f.proc.returncode
            # Nothing listens any more: a new ferry could bind (with
            # SO_REUSEADDR, as ferry does, past TIME_WAIT connections).
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", f.port))
                s.listen(1)
        finally:
            f.stop()


@suite.test
def sigterm_exits_0():
    stops_on(signal.SIGTERM)


@suite.test
def sigint_exits_0():
    stops_on(signal.SIGINT)


@suite.test
def no_whitelist_logs_loopback_once():
    with Ferry() as f:
        pass
    assert f.log().count("only loopback clients") == 1, f.log()


sys.exit(suite.run())
