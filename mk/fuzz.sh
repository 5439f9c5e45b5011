#!/usr/bin/env bash
# fuzz.sh BUILD SECONDS: run each libFuzzer target in BUILD/fuzz for SECONDS,
# one after the other, with LeakSanitizer on, on a scratch copy of its
# committed corpus (so the committed seeds stay minimal).  One line per
# target:
#   fuzz NAME: ok, N executions in Ts (R/s)
#   fuzz NAME: FAILED (leak) after N executions, reproducer PATH (log LOG)
# and exit 1 if any target failed.  SECONDS=0 only counts the targets.
#
# PV_FUZZ_WORK=DIR  scratch corpora (default BUILD/fuzz-work, kept between
#                   runs so long runs build on one another)
# PV_FUZZ_ONLY=RE   run the targets whose name matches RE only
# PV_FUZZ_JOBS=N    N targets at a time (default 1)
# Logs go to BUILD/fuzz-logs/NAME.log, reproducers to
# BUILD/fuzz-artifacts/NAME-{crash,leak,timeout,oom}-*; replay one with
# BUILD/fuzz/fuzz_NAME PATH (ASAN_OPTIONS=fast_unwind_on_malloc=0 gives a
# leak's whole stack through OpenSSL).
set -uo pipefail
cd "$(dirname "$0")/.."
B=$1; S=${2:-0}
W=${PV_FUZZ_WORK:-$B/fuzz-work}
A=$B/fuzz-artifacts
L=$B/fuzz-logs
# Leaks are findings; UBSan recovers by default in this build, and halting
# makes libFuzzer keep the input.  (Later options win.)
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1

targets=()
for f in "$B"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	[[ ${f##*/fuzz_} =~ ${PV_FUZZ_ONLY:-.} ]] && targets+=("$f")
done
if ! [ "$S" -gt 0 ] 2>/dev/null; then
	echo "fuzz: built ${#targets[@]} targets in $B/fuzz (FUZZ_SECONDS=N to run)"
	exit 0
fi
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz: no targets in $B/fuzz" >&2
	exit 1
fi

# fuzz_one TARGET: run it, print its line (and on failure the report).
fuzz_one() {
	local f=$1 name work log start frc secs execs rate repro kind dopt=()
	name=${f##*/fuzz_}
	work=$W/$name; log=$L/$name.log
	mkdir -p "$work" "$A" "$L"
	cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
	[ -f "tests/fuzz/$name.dict" ] && dopt=(-dict="tests/fuzz/$name.dict")
	start=$(date +%s)
	# -timeout: one input taking 30 s is a finding; the outer timeout only
	# guards against a fuzzer that never stops.
	timeout -k 10 $((S + 300)) "$f" -max_total_time="$S" -timeout=30 \
		-detect_leaks=1 -print_final_stats=1 -artifact_prefix="$A/$name-" \
		"${dopt[@]}" "$work" >"$log" 2>&1
	frc=$?
	secs=$(( $(date +%s) - start ))
	execs=$(awk '/stat::number_of_executed_units/ { n = $2 } END { print n }' "$log")
	[ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
	execs=${execs:-0}
	rate=$(awk '/stat::average_exec_per_sec/ { n = $2 } END { print n }' "$log")
	repro=$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | cut -d' ' -f5)
	if [ $frc -eq 0 ] && [ -z "$repro" ] && [ "$execs" -gt 0 ]; then
		echo "fuzz $name: ok, $execs executions in ${secs}s (${rate:-?}/s)"
		return 0
	fi
	if grep -q 'ERROR: LeakSanitizer' "$log"; then kind=leak
	elif grep -q 'ALARM: working on the last Unit' "$log"; then kind=timeout
	elif grep -q 'out-of-memory' "$log"; then kind=oom
	elif grep -q 'runtime error' "$log"; then kind=ubsan
	elif grep -q 'ERROR: AddressSanitizer' "$log"; then kind=asan
	elif [ $frc -eq 124 ] || [ $frc -eq 137 ]; then kind="did not stop"
	elif [ "$execs" -eq 0 ]; then kind="no execution"
	else kind="exit $frc"; fi
	echo "fuzz $name: FAILED ($kind) after $execs executions, reproducer ${repro:-none} (log $log)"
	grep -E 'ERROR: |SUMMARY: |runtime error|^    #[0-9]+ ' "$log" | head -25 | sed 's/^/    /'
	return 1
}

# PV_FUZZ_JOBS targets at a time (default 1); each prints when it ends.
J=${PV_FUZZ_JOBS:-1}
mkdir -p "$L"
rc=0
declare -A running=()
reap() {
	local pid
	wait -n -p pid "${!running[@]}" || rc=1
	cat "$L/${running[$pid]}.result"
	unset "running[$pid]"
}
for f in "${targets[@]}"; do
	[ ${#running[@]} -ge "$J" ] && reap
	name=${f##*/fuzz_}
	fuzz_one "$f" >"$L/$name.result" 2>&1 &
	running[$!]=$name
done
while [ ${#running[@]} -gt 0 ]; do reap; done
exit $rc
