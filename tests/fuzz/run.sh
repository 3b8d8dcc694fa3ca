#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Run each libFuzzer target of a fuzz build dir for a bounded time, under
# ASan and UBSan (the build dir's -Db_sanitize), starting from the seed corpus
# in the tree (tests/fuzz/corpus/TARGET, read-only: new inputs go to a temp
# dir). Any crash, leak, sanitizer report or timeout fails the target; the
# input that did it is kept in DIR/fuzz-artifacts/ and named on the line.
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]     (default 40)
#
# Make the build dir with:
#   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=enabled
# Prints "ok - fuzz TARGET: ..." or "not ok - fuzz TARGET: why" per target,
# then "fuzz: N passed, N failed, N skipped"; exit 1 on any failure, 77 when
# nothing could run (no build dir or no targets), with the reason.
set -u
export LC_ALL=C

dir=${1:-}
secs=${2:-40}
here=$(dirname "$(realpath "$0")")
targets=(fuzz-config fuzz-spec fuzz-cli)
pass=0 fail=0 skipped=0

if [ -z "$dir" ] || [ ! -d "$dir/tests/fuzz" ]; then
	echo "# SKIPPED: fuzz: no fuzz build dir ${dir:-(none given)}: make one with CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=enabled" >&2
	echo "fuzz: 0 passed, 0 failed, ${#targets[@]} skipped"
	exit 77
fi
art=$dir/fuzz-artifacts
mkdir -p "$art"
work=$(mktemp -d /tmp/berth-fuzz.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
for t in "${targets[@]}"; do
	bin=$dir/tests/fuzz/$t
	if [ ! -x "$bin" ]; then
		skipped=$((skipped + 1))
		echo "ok - fuzz $t # SKIP $bin not built"
		echo "# SKIPPED: fuzz $t: $bin not built" >&2
		continue
	fi
	mkdir -p "$work/$t"
	log=$work/$t.log
	nice "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$art/$t-" "$work/$t" "$here/corpus/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" = 0 ] && [ -n "$runs" ] && [ "$runs" -gt 0 ]; then
		pass=$((pass + 1))
		echo "ok - fuzz $t: $runs inputs in $secs s, no crash"
	else
		fail=$((fail + 1))
		echo "not ok - fuzz $t: exit $rc after ${runs:-0} inputs; artifact: $(ls "$art"/"$t"-* 2>/dev/null | head -1)"
		grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$log" | head -20 | sed 's/^/#   /'
	fi
done
echo "fuzz: $pass passed, $fail failed, $skipped skipped"
[ "$fail" = 0 ]
