#!/usr/bin/env bash
# package-test.sh: build the Debian package and use it as an admin would.
#
# Needs root and a Debian system (run-all.sh installs the tools). It
# builds the .deb from a copy of this tree, checks lintian is clean,
# installs it, starts it with /etc/init.d/ferry, proxies a request through
# 127.0.0.1:3128 to a local origin, checks the user, the pidfile and the
# access log, reloads, rotates the logs, stops, reinstalls over a modified
# config and purges. A ferry package left by an earlier failed run is
# stopped and purged first; everything is purged at the end.
# Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
work=$(mktemp -d /tmp/ferry-pkg.XXXXXX)
passed=0
failed=0
origin_pid=
two_pid=

ok() { echo "ok   package: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL package: $1"; failed=$((failed + 1)); }
# check NAME COMMAND...: one named check, run in this shell.
check() {
	name=$1
	shift
	if "$@" >>"$work/checks.log" 2>&1; then ok "$name"; else bad "$name"; fi
}

# gone PID: no such process, or only a zombie (here the daemon's parent
# is whatever PID 1 is, which in a container may never reap it).
gone() {
	st=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -z "$st" ] || [ "${st#Z}" != "$st" ]
}

purge() {
	if dpkg-query -W -f='${Status}' ferry 2>/dev/null | grep -q installed
	then
		/etc/init.d/ferry stop >/dev/null 2>&1 || true
		dpkg --purge ferry >/dev/null 2>&1 || true
	fi
}

cleanup() {
	[ -n "$origin_pid" ] && kill "$origin_pid" 2>/dev/null
	[ -n "$two_pid" ] && kill "$two_pid" 2>/dev/null
	purge
	rm -rf "$work"
}
trap cleanup EXIT

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit $?
}

if [ "$(id -u)" != 0 ]; then
	echo "package-test.sh: needs root (it installs the package)" >&2
	bad "run as root"
	finish
fi
purge
if (exec 3<>/dev/tcp/127.0.0.1/3128) 2>/dev/null; then
	bad "127.0.0.1:3128 is free (something else listens there)"
	finish
fi

# --- build and lint, from a copy of the tree as it is now ---
mkdir -p "$work/src/ferry"
if [ -d .git ]; then
	git ls-files -z | tar --null -T - -cf - | tar -C "$work/src/ferry" -xf -
else
	tar --exclude=./build -cf - . | tar -C "$work/src/ferry" -xf -
fi
(cd "$work/src/ferry" && dpkg-buildpackage -us -uc -b) \
    >"$work/build.log" 2>&1
deb=$(ls "$work"/src/ferry_*_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
	bad "dpkg-buildpackage -us -uc -b builds the .deb"
	tail -n 40 "$work/build.log"
	finish
fi
ok "dpkg-buildpackage -us -uc -b builds the .deb"
lintian --pedantic "$work"/src/ferry_*.changes >"$work/lintian.log" 2>&1
check "lintian reports no error or warning" \
    test -z "$(grep -E '^[EW]: ' "$work/lintian.log")"
grep -E '^[EW]: ' "$work/lintian.log"

# --- install and start ---
dpkg -i "$deb" >"$work/install.log" 2>&1
check "dpkg -i installs it" dpkg-query -W -f='${Status}' ferry
check "the ferry system user exists" getent passwd ferry
check "/var/log/ferry belongs to ferry" \
    test "$(stat -c %U "/var/log/ferry" 2>/dev/null)" = ferry
check "the config runs as ferry, logs to syslog and an access log" \
    grep -qx 'user = ferry' /etc/ferry/ferry.ini
check "the config is a conffile" \
    grep -qx '/etc/ferry/ferry.ini' /var/lib/dpkg/info/ferry.conffiles
check "the init script is enabled at boot" \
    test -e /etc/rc2.d/S01ferry
ex=/usr/share/doc/ferry/examples/fail2ban
check "the fail2ban filter and jail are installed as examples" \
    test -f "$ex/filter.d/ferry.conf" -a -f "$ex/jail.d/ferry.conf"
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify finds nothing in ferry.service" \
	    test -z "$(systemd-analyze verify --man=no \
	    /lib/systemd/system/ferry.service 2>&1)"
fi
check "/etc/init.d/ferry start" /etc/init.d/ferry start
pid=$(cat /run/ferry.pid 2>/dev/null || echo 0)
check "the pidfile names the daemon" test -d "/proc/$pid"
check "the daemon runs as user ferry" \
    test "$(ps -o user= -p "$pid" 2>/dev/null)" = ferry
check "status says running" /etc/init.d/ferry status

# --- a request through it, and the access log ---
port=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 tests/origin.py --port "$port" --log "$work/origin.jsonl" \
    >"$work/origin.out" 2>&1 &
origin_pid=$!
for _ in $(seq 50); do grep -q ready "$work/origin.out" && break; sleep 0.1
done
url="http://127.0.0.1:$port/hello"
via_ferry() { curl -sS --max-time 10 -x http://127.0.0.1:3128 "$@"; }
check "the shipped config refuses a loopback origin (internal = deny)" \
    test "$(via_ferry -o /dev/null -w '%{http_code}' "$url?0")" = 403

# --- reload: the admin opens 127.0.0.1, as README says ---
sed -i -E 's/^allow =$/allow = 127.0.0.1/' /etc/ferry/ferry.ini
check "ferry -t accepts the edited file" /usr/sbin/ferry -t -c /etc/ferry/ferry.ini
check "reload" /etc/init.d/ferry reload
check "reload keeps the same process" \
    test "$(cat /run/ferry.pid 2>/dev/null)" = "$pid"
# SIGHUP is taken in the background: wait for the new rules to serve.
for _ in $(seq 50); do
	[ "$(via_ferry "$url" 2>/dev/null)" = hello ] && break
	sleep 0.1
done
check "after the reload, curl -x http://127.0.0.1:3128 gets the body" \
    test "$(via_ferry "$url?2")" = hello
logged() { grep -q "\"GET $url?2 HTTP/1.1\" 200 " /var/log/ferry/access.log; }
for _ in $(seq 20); do logged && break; sleep 0.1; done
check "the access log got the line" logged

# --- a second instance: ferry@two, as its template unit runs it ---
# No systemd runs here, so the unit's own command lines, with %i = two,
# are run by this script the way systemd would run them.
unit=/lib/systemd/system/ferry@.service
check "the template unit ferry@.service is installed" test -f "$unit"
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify finds nothing in ferry@two.service" \
	    test -z "$(systemd-analyze verify --man=no ferry@two.service 2>&1)"
fi
unit_cmd() { sed -n "s/^$1=//p" "$unit" | head -n 1 | sed 's/%i/two/g'; }
check "ferry@ reads /etc/ferry/NAME.ini" \
    test "$(unit_cmd ExecStart)" = "/usr/sbin/ferry -f -c /etc/ferry/two.ini"
port2=$(python3 -c 'import socket; s = socket.socket();
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The admin's copy of ferry.ini, as the unit's comment says to make it.
sed -e "s|^listen = 127.0.0.1:3128\$|listen = 127.0.0.1:$port2|" \
    -e 's|^pidfile = /run/ferry.pid$|pidfile = /run/ferry-two.pid|' \
    -e 's|^access = .*$|access = /var/log/ferry/two-access.log|' \
    /etc/ferry/ferry.ini >/etc/ferry/two.ini
check "ferry@two's ExecStartPre (ferry -t) accepts two.ini" \
    sh -c "$(unit_cmd ExecStartPre)"
# A copy that keeps ferry.ini's pidfile must not start beside ferry.
sed -e "s|^listen = 127.0.0.1:3128\$|listen = 127.0.0.1:$port2|" \
    /etc/ferry/ferry.ini >"$work/same-pidfile.ini"
check "an instance sharing ferry's pidfile refuses to start" \
    sh -c "! /usr/sbin/ferry -f -c $work/same-pidfile.ini >$work/same.out 2>&1 &&
        grep -q 'already running' $work/same.out"
$(unit_cmd ExecStart) >"$work/two.out" 2>&1 &
two_pid=$!
for _ in $(seq 50); do [ -s /run/ferry-two.pid ] && break; sleep 0.1; done
check "ferry@two writes /run/ferry-two.pid" \
    test "$(cat /run/ferry-two.pid 2>/dev/null)" = "$two_pid"
via_two() { curl -sS --max-time 10 -x "http://127.0.0.1:$port2" "$@"; }
check "ferry@two serves on its own port" test "$(via_two "$url?two")" = hello
check "while ferry still serves on 3128" test "$(via_ferry "$url?one")" = hello
logged_two() {
	grep -q "GET $url?$1 HTTP" /var/log/ferry/two-access.log 2>/dev/null
}
for _ in $(seq 20); do logged_two two && break; sleep 0.1; done
check "ferry@two logs to its own access log" logged_two two
check "and ferry's access log has not got that line" \
    sh -c "! grep -q 'GET $url?two HTTP' /var/log/ferry/access.log"

# --- rotation, for both instances ---
check "logrotate rotates the access logs" \
    logrotate -f /etc/logrotate.d/ferry
check "the rotated file holds the old lines" \
    grep -q "GET $url?2 HTTP" /var/log/ferry/access.log.1
check "ferry@two's rotated file holds its old lines" \
    grep -q "GET $url?two HTTP" /var/log/ferry/two-access.log.1
curl -sS --max-time 10 -x http://127.0.0.1:3128 "$url?3" >/dev/null
rotated() { grep -q "GET $url?3 HTTP" /var/log/ferry/access.log 2>/dev/null; }
for _ in $(seq 20); do rotated && break; sleep 0.1; done
check "after rotation new lines go to a new access.log" rotated
via_two "$url?two3" >/dev/null
for _ in $(seq 20); do logged_two two3 && break; sleep 0.1; done
check "and ferry@two's new lines to a new two-access.log" logged_two two3

# --- ferry@two stops as systemd stops it: SIGTERM, then ExecStopPost ---
kill -TERM "$two_pid"
wait "$two_pid"
check "ferry@two exits 0 on SIGTERM" test $? = 0
two_pid=
sh -c "$(unit_cmd ExecStopPost)"
check "ExecStopPost removes /run/ferry-two.pid" test ! -e /run/ferry-two.pid
rm -f /etc/ferry/two.ini

# --- stop ---
check "/etc/init.d/ferry stop" /etc/init.d/ferry stop
check "the pidfile is gone" test ! -e /run/ferry.pid
check "the process is gone" gone "$pid"
check "status says stopped" sh -c '! /etc/init.d/ferry status >/dev/null'

# --- an upgrade keeps the admin's config ---
# The same package as a newer version, repacked: an upgrade to it must
# keep the edited conffile (dpkg asks nothing, since the package's own
# copy did not change) and leave ferry working.
mkdir "$work/next"
dpkg-deb -R "$deb" "$work/next/root"
sed -i -E 's/^(Version: .*)$/\1+next/' "$work/next/root/DEBIAN/control"
dpkg-deb -b "$work/next/root" "$work/next/ferry_next.deb" >/dev/null
echo "; edited by the admin" >>/etc/ferry/ferry.ini
dpkg -i "$work/next/ferry_next.deb" >>"$work/install.log" 2>&1
check "the upgrade installs the newer version" \
    sh -c 'dpkg-query -W -f="\${Version}" ferry | grep -q "+next$"'
check "the upgrade keeps a modified ferry.ini" \
    grep -qx '; edited by the admin' /etc/ferry/ferry.ini
check "ferry starts after the upgrade" /etc/init.d/ferry start
check "and serves" \
    test "$(curl -sS --max-time 10 -x http://127.0.0.1:3128 "$url?4")" = hello
/etc/init.d/ferry stop >/dev/null 2>&1

# --- purge ---
dpkg --purge ferry >>"$work/install.log" 2>&1
check "purge removes the package" \
    sh -c '! dpkg-query -W -f="\${Status}" ferry 2>/dev/null | grep -q installed'
check "purge removes the user" sh -c '! getent passwd ferry'
check "purge removes the group" sh -c '! getent group ferry'
check "purge removes /var/log/ferry and /etc/ferry" \
    test ! -e /var/log/ferry -a ! -e /etc/ferry
finish
