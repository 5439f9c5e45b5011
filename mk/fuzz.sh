#!/usr/bin/env bash
# fuzz.sh BUILD SECONDS: run each libFuzzer target for SECONDS on a scratch
# copy of its committed corpus (so the committed seeds stay minimal) and
# report executions.  SECONDS=0 only builds.
set -uo pipefail
cd "$(dirname "$0")/.."
B=$1; S=${2:-0}
[ "$S" -gt 0 ] 2>/dev/null || { echo "fuzz: built $(ls "$B"/fuzz/fuzz_* 2>/dev/null | wc -l) targets in $B/fuzz (FUZZ_SECONDS=N to run)"; exit 0; }
rc=0
for f in "$B"/fuzz/fuzz_*; do
	name=${f##*/fuzz_}
	work=$B/fuzz-work/$name; mkdir -p "$work" "$B/fuzz-artifacts"
	cp -n tests/fuzz/corpus/$name/* "$work"/ 2>/dev/null || true
	dict=tests/fuzz/$name.dict; dopt=(); [ -f "$dict" ] && dopt=(-dict="$dict")
	log=$B/fuzz-work/$name.log
	"$f" -max_total_time="$S" -print_final_stats=1 -artifact_prefix="$B/fuzz-artifacts/$name-" \
		"${dopt[@]}" "$work" >"$log" 2>&1 || { echo "fuzz $name: FAILED (see $log)"; rc=1; }
	execs=$(grep -E 'stat::number_of_executed_units' "$log" | awk '{print $2}')
	echo "fuzz $name: ${execs:-?} executions in ${S}s"
done
exit $rc
