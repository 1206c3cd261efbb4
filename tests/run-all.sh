#!/usr/bin/env bash
# run-all.sh: install what the tests need, then build and test ferry four
# ways: gcc (make check, then make distcheck), gcc with ASan+UBSan (make
# check), gcc with ThreadSanitizer (make check: every end-to-end test
# drives the threaded ferry), and clang (build and unit tests, -Werror);
# run cppcheck and clang-tidy (tests/lint.sh) and each fuzzer for 30 s
# (tests/fuzz/run.sh); then, as root, build the Debian package and test
# it installed (tests/package-test.sh). This is the README's test command
# and what CI runs (.ci/run). Builds go to build/ (VPATH), so the source
# tree stays clean. Ends with one line: "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

deps="autoconf automake pkg-config libiniparser-dev libcrypt-dev libsodium-dev check gcc
      make clang libclang-rt-14-dev clang-tidy cppcheck curl openssl python3
      ca-certificates debhelper lintian logrotate graphviz apache2-utils
      fail2ban whois wget squid dante-server microsocks prometheus haproxy"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq $deps >/dev/null
	# squid's, dante's, prometheus' and haproxy's packages start daemons
	# of their own where services may start (squid on *:3128, which the
	# package test needs free; prometheus only for promtool; haproxy's
	# default config listens nowhere, tests/haproxy.py runs its own); the
	# tests run their own on free loopback ports.
	for svc in squid danted prometheus haproxy; do
		if [ -d /run/systemd/system ]; then
			systemctl disable --now "$svc" >/dev/null 2>&1 || true
		elif service "$svc" status >/dev/null 2>&1; then
			service "$svc" stop >/dev/null 2>&1 || true
		fi
	done
fi

jobs=$(nproc 2>/dev/null || echo 2)
# VPATH builds need an unconfigured source tree (README's first command
# builds in the tree itself).
if [ -f config.status ]; then
	make -s distclean >/dev/null 2>&1 || true
fi
autoreconf -fi >/dev/null 2>&1

# build DIR [configure args...]: configure ferry in build/DIR and build it.
build() {
	dir=$top/build/$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" -q "$@" && make -s -j"$jobs" >/dev/null)
}

# check DIR: run make check in build/DIR, showing the failed tests' logs.
check() {
	echo "== make check in build/$1"
	if ! (cd "$top/build/$1" && make -s -j"$jobs" check >/dev/null 2>&1); then
		status=1
	fi
	for trs in "$top/build/$1"/tests/*.trs; do
		log=${trs%.trs}.log
		echo "   $(basename "${log%.log}"): $(tail -n 1 "$log")"
		if [ "$(sed -n 's/^:test-result: //p' "$trs")" != PASS ]; then
			echo "---- $log"
			cat "$log"
			echo "----"
		fi
	done
}

status=0
build gcc
check gcc
build san --enable-sanitizers
check san
# A data race is a bug: any ThreadSanitizer report fails the test run.
build tsan --enable-tsan
check tsan
echo "== clang -Werror build and unit tests"
if build clang CC=clang && (cd "$top/build/clang" && make -s check \
    TESTS=tests/check_ferry >/dev/null 2>&1); then
	echo "   clang: ok"
else
	echo "   clang: FAILED"
	status=1
fi
echo "== make distcheck"
if (cd "$top/build/gcc" && make -s distcheck >"$top/build/distcheck.log" 2>&1)
then
	echo "   distcheck: ok"
else
	echo "   distcheck: FAILED (see build/distcheck.log)"
	tail -n 40 "$top/build/distcheck.log"
	status=1
fi

# cppcheck and clang-tidy over src/ (tests/lint.sh): any finding fails.
lintlog=$top/build/lint.log
echo "== static checkers (tests/lint.sh)"
bash "$top/tests/lint.sh" >"$lintlog" 2>&1 || status=1
grep -E '^(ok|FAIL) |error:|passed, ' "$lintlog" | sed 's/^/   /'

# Every libFuzzer harness for FUZZ_SECONDS (30) from its seed corpus; a
# crash, leak, sanitizer report or broken invariant fails (tests/fuzz/).
fuzzlog=$top/build/fuzz.log
echo "== fuzzing, ${FUZZ_SECONDS:-30} s per harness (tests/fuzz/run.sh)"
if ! FUZZ_OUT=$top/build/fuzz bash "$top/tests/fuzz/run.sh" \
    "${FUZZ_SECONDS:-30}" >"$fuzzlog" 2>&1; then
	status=1
fi
grep -E '^(ok|FAIL) |^    |passed, ' "$fuzzlog" | sed 's/^/   /'

# The Debian package, built, installed, used and purged (root only).
pkglog=$top/build/package-test.log
if [ "$(id -u)" = 0 ] && command -v dpkg-buildpackage >/dev/null; then
	echo "== Debian package (tests/package-test.sh)"
	bash "$top/tests/package-test.sh" >"$pkglog" 2>&1 || status=1
	grep -E '^FAIL|passed, ' "$pkglog" | sed 's/^/   /'
else
	echo "== Debian package: skipped (needs root and dpkg-buildpackage)"
	: >"$pkglog"
fi

# Sum the counts of every test program of both checked builds.
passed=0
failed=0
for log in "$top"/build/gcc/tests/*.log "$top"/build/san/tests/*.log \
    "$top"/build/tsan/tests/*.log "$lintlog" "$fuzzlog" "$pkglog"; do
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
	if [ -n "$line" ]; then
		passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
		failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
		continue
	fi
	# Check's summary: "100%: Checks: 120, Failures: 0, Errors: 0"
	line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1 || true)
	[ -n "$line" ] || continue
	n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2/')
	bad=$(( $(echo "$f" | cut -d' ' -f1) + $(echo "$f" | cut -d' ' -f2) ))
	passed=$((passed + n - bad))
	failed=$((failed + bad))
done
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
	failed=1	# a build or distcheck failure counts too
fi
echo "$passed passed, $failed failed"
exit "$status"
