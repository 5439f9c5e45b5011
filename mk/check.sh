#!/usr/bin/env bash
# check.sh BUILD: run every test kind against the sanitizer build in BUILD and
# print one closing line "N passed, N failed".  A run that executes no test
# fails.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build/asan}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export PV_BIN="$PWD/$B" PV_ROOT="$PWD"
passed=0; failed=0; failures=()

note_fail() { failed=$((failed + 1)); failures+=("$1"); }
# PV_CHECK_ONLY=unit|fuzz-replay|integ runs one kind (make check-unit, ...).
want() { [ -z "${PV_CHECK_ONLY:-}" ] || [ "$PV_CHECK_ONLY" = "$1" ]; }

# 1. Unit tests (Criterion): one binary per layer.
want unit && for t in "$B"/tests/unit_*; do
	[ -x "$t" ] || continue
	out=$("$t" --jobs 2 --short-filename 2>&1); rc=$?
	line=$(grep -E 'Synthesis: Tested: [0-9]+' <<<"$out" | tail -1)
	echo "${t##*/}: ${line:-no synthesis line}"
	if [[ $line =~ Passing:\ ([0-9]+)\ \|\ Failing:\ ([0-9]+)\ \|\ Crashing:\ ([0-9]+) ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		f=$((BASH_REMATCH[2] + BASH_REMATCH[3]))
		failed=$((failed + f))
		[ "$f" -gt 0 ] && failures+=("${t##*/}")
	fi
	if [ $rc -ne 0 ]; then
		grep -E '\[----\]|\[FAIL\]|ERROR|runtime error|Sanitizer' <<<"$out" | head -40
		[[ $line =~ Passing ]] || note_fail "${t##*/} (exit $rc)"
	fi
done

# 2. Fuzz corpora replayed through the fuzz entry points under ASan/UBSan.
want fuzz-replay && for r in "$B"/fuzz/replay_*; do
	[ -x "$r" ] || continue
	name=${r##*/replay_}
	dir=tests/fuzz/corpus/$name
	n=$(find "$dir" -type f 2>/dev/null | wc -l)
	if [ "$n" -eq 0 ]; then
		echo "fuzz replay $name: no corpus in $dir"; note_fail "fuzz corpus $name (empty)"; continue
	fi
	if out=$("$r" "$dir" 2>&1); then
		echo "fuzz replay $name: $n inputs ok"; passed=$((passed + n))
	else
		echo "$out" | tail -30; note_fail "fuzz replay $name"
	fi
done

# 3. Integration tests, each in its own pcsc sandbox.
mkdir -p "$B/integ-logs"
jobs=${PV_INTEG_JOBS:-2}
# PV_INTEG=none skips them; PV_INTEG=REGEX runs the matching names only.
want integ || PV_INTEG=none
mapfile -t integ < <(ls tests/integ/*.sh 2>/dev/null | sort | \
	{ case ${PV_INTEG:-} in none) cat >/dev/null ;; '') cat ;; *) grep -E "${PV_INTEG}" ;; esac; })
if [ ${#integ[@]} -gt 0 ]; then
	printf '%s\n' "${integ[@]}" | xargs -P "$jobs" -I{} bash -c '
		t={}; n=$(basename "$t" .sh); log='"$B"'/integ-logs/$n.log
		start=$(date +%s)
		if timeout -k 10 ${PV_INTEG_TIMEOUT:-900} bash "$t" >"$log" 2>&1; then r=PASS; else r="FAIL($?)"; fi
		echo "$r $n $(( $(date +%s) - start ))s" > '"$B"'/integ-logs/$n.result' || true
	for t in "${integ[@]}"; do
		n=$(basename "$t" .sh); res=$(cat "$B/integ-logs/$n.result" 2>/dev/null || echo "FAIL(no result) $n")
		echo "integ: $res"
		# a test may state its figures on lines "summary: ..."
		grep '^summary: ' "$B/integ-logs/$n.log" 2>/dev/null | sed 's/^summary: /       /'
		if [[ $res == PASS* ]]; then passed=$((passed + 1)); else
			note_fail "integ $n"; echo "---- tail of $B/integ-logs/$n.log"; tail -40 "$B/integ-logs/$n.log"; echo "----"
		fi
	done
fi

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "check: $passed passed, $failed failed"
if [ $((passed + failed)) -eq 0 ]; then
	echo "check: no test was executed" >&2
	exit 1
fi
[ "$failed" -eq 0 ]
