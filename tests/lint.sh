#!/usr/bin/env bash
# lint.sh: the static checkers over src/, clean or fail. cppcheck with the
# warning, style, performance and portability checks, and clang-tidy with
# the checked-in .clang-tidy (bug-prone patterns and the clang static
# analyser). Run from anywhere: tests/lint.sh, or make lint. Ends with
# "N passed, N failed" (one count per checker).
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
# What configure would define; the checkers need no build tree.
defs="-D_GNU_SOURCE -DPACKAGE_VERSION=\"lint\" -Isrc -I/usr/include/iniparser"

# variableScope wants declarations in inner blocks; style(9) puts them at
# the top of the function, so that one is off. Anything else fails.
echo "== cppcheck"
# shellcheck disable=SC2086
if cppcheck --quiet --std=c11 --inline-suppr --error-exitcode=1 \
    --enable=warning,style,performance,portability \
    --suppress=variableScope --suppress=missingIncludeSystem \
    $defs src/; then
	echo "ok   cppcheck"
	passed=$((passed + 1))
else
	echo "FAIL cppcheck"
	failed=$((failed + 1))
fi

# One clang-tidy per file, two at a time; any finding is an error
# (WarningsAsErrors in .clang-tidy).
echo "== clang-tidy"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086
if printf '%s\n' src/*.c | xargs -P "$(nproc 2>/dev/null || echo 2)" -I{} \
    clang-tidy --quiet {} -- -std=gnu11 -pthread $defs >"$log" 2>&1; then
	echo "ok   clang-tidy"
	passed=$((passed + 1))
else
	grep -E 'error:|warning:' "$log" | sort -u
	echo "FAIL clang-tidy"
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
