#!/usr/bin/env bash
# run.sh: build ferry's libFuzzer harnesses with clang and run each one.
#
#   tests/fuzz/run.sh [SECONDS] [HARNESS...]
#
# Builds every tests/fuzz/fuzz_*.c (or the named ones) against ferry's
# sources with -fsanitize=fuzzer,address,undefined into build/fuzz/, then
# runs each for SECONDS (default 30) on a copy of its seed corpus
# (tests/fuzz/corpus/NAME/), two at a time. A crash, a leak, a sanitizer
# report or a broken invariant fails the run; libFuzzer then leaves the
# input that did it in build/fuzz/crash-* and the log says how to replay
# it. Prints one line per harness (executions/s, coverage, corpus size)
# and ends with "N passed, N failed". Needs clang and libclang-rt-dev.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${FUZZ_OUT:-$top/build/fuzz}
secs=${1:-30}
[ $# -gt 0 ] && shift
cc=${CC_FUZZ:-clang}
mkdir -p "$out"

if [ $# -gt 0 ]; then
	names="$*"
else
	names=$(cd "$here" && ls fuzz_*.c | sed 's/\.c$//' | tr '\n' ' ')
fi

# Ferry's sources once, as objects instrumented for coverage; main.c is
# left out (each harness has its own entry point).
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-g -O1 -fno-omit-frame-pointer $san -D_GNU_SOURCE
    -DPACKAGE_VERSION=\"fuzz\" -I$top/src -I/usr/include/iniparser
    -Wall -Wextra -Werror"
objs=
for src in "$top"/src/*.c; do
	base=$(basename "$src" .c)
	[ "$base" = main ] && continue
	# shellcheck disable=SC2086
	$cc $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$out/$base.o"
	objs="$objs $out/$base.o"
done
for name in $names; do
	# shellcheck disable=SC2086
	$cc $cflags -fsanitize=fuzzer "$here/$name.c" $objs -liniparser \
	    -lcrypt -lsodium -lpthread -o "$out/$name"
done

# The error pages once more under MemorySanitizer, which sees a read of
# uninitialised memory (CVE-2022-40468's class) that ASan cannot. MSan
# needs every byte it runs instrumented, so this harness links only the
# few sources it uses, not iniparser.
case " $names " in
*" fuzz_errpage "*)
	m=fuzz_errpage_msan
	# shellcheck disable=SC2086
	$cc -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,memory \
	    -fsanitize-memory-track-origins -D_GNU_SOURCE \
	    -DPACKAGE_VERSION=\"fuzz\" -I"$top/src" -Wall -Wextra -Werror \
	    "$here/fuzz_errpage.c" "$top/src/errpage.c" "$top/src/http.c" \
	    "$top/src/field.c" "$top/src/framing.c" "$top/src/uri.c" \
	    "$top/src/num.c" "$top/src/httpdate.c" \
	    -o "$out/$m"
	names="$names $m"
	;;
esac

# run NAME: fuzz one harness for $secs seconds; its log is $out/NAME.log.
run() {
	name=$1
	corpus=$out/corpus-$name
	rm -rf "$corpus"
	mkdir -p "$corpus"
	seeds=$here/corpus/${name%_msan}
	if [ -d "$seeds" ]; then
		cp "$seeds"/* "$corpus"/ 2>/dev/null || true
	fi
	(cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./$name" \
	    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 "$corpus" >"$name.log" 2>&1)
}

for name in $names; do
	run "$name" &
	# Two at a time: this is a 2-core budget.
	if [ "$(jobs -pr | wc -l)" -ge 2 ]; then
		wait -n || true
	fi
done
wait || true

passed=0
failed=0
for name in $names; do
	log=$out/$name.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1)
	if grep -qE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|WARNING: MemorySanitizer|runtime error:|invariant broken|^==[0-9]+== ?ERROR' "$log" ||
	    [ -z "$execs" ]; then
		echo "FAIL $name (see $log)"
		grep -E 'ERROR|runtime error|invariant|Test unit written' "$log" |
		    head -n 20 | sed 's/^/    /'
		failed=$((failed + 1))
	else
		echo "ok   $name: ${execs} runs, ${rate}/s, $cov"
		passed=$((passed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
