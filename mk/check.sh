#!/usr/bin/env bash
# check.sh BUILD [FUZZBUILD]: run every test kind against the sanitizer build
# in BUILD, and each libFuzzer target of FUZZBUILD for PV_FUZZ_SECONDS (5)
# with leak detection on (`make check` passes both); print one closing line
# "N passed, N failed".  A run that executes no test fails.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build/asan}
FB=${2:-}
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
	# Criterion counts a test that passed and then died on its way out
	# (LeakSanitizer runs at exit) as passing: count it as failed.
	ex=0
	while IFS= read -r n; do
		[ -n "$n" ] && ! grep -qF "[FAIL] $n:" <<<"$out" && ex=$((ex + 1))
	done < <(grep -oE 'The test `[^`]+` crashed during its setup or teardown' <<<"$out" | cut -d'`' -f2)
	if [[ $line =~ Passing:\ ([0-9]+)\ \|\ Failing:\ ([0-9]+)\ \|\ Crashing:\ ([0-9]+) ]]; then
		[ "$ex" -gt "${BASH_REMATCH[1]}" ] && ex=${BASH_REMATCH[1]}
		passed=$((passed + BASH_REMATCH[1] - ex))
		f=$((BASH_REMATCH[2] + BASH_REMATCH[3] + ex))
		failed=$((failed + f))
		[ "$f" -gt 0 ] && failures+=("${t##*/}")
		[ "$ex" -gt 0 ] && echo "${t##*/}: $ex passing test(s) crashed on exit (leak?)"
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

# 3. Every libFuzzer target for a few seconds, two at a time, on a scratch
# copy of its corpus, leak detection on (mk/fuzz.sh prints one line each).
# PV_FUZZ=none skips them; PV_FUZZ=REGEX runs the matching targets only.
if [ -n "$FB" ] && [ "${PV_FUZZ:-}" != none ]; then
	nt=0
	for f in "$FB"/fuzz/fuzz_*; do
		[ -x "$f" ] && [[ ${f##*/fuzz_} =~ ${PV_FUZZ:-.} ]] && nt=$((nt + 1))
	done
	fwork=$(mktemp -d "${TMPDIR:-/tmp}/pv-fuzz.XXXXXX")
	nl=0
	while IFS= read -r l; do
		echo "$l"
		case $l in
		"fuzz "*": ok,"*) passed=$((passed + 1)); nl=$((nl + 1)) ;;
		"fuzz "*": FAILED"*) n=${l#fuzz }; note_fail "fuzz run ${n%%:*}"; nl=$((nl + 1)) ;;
		esac
	done < <(PV_FUZZ_WORK=$fwork PV_FUZZ_ONLY=${PV_FUZZ:-.} \
		PV_FUZZ_JOBS=${PV_FUZZ_JOBS:-2} \
		bash mk/fuzz.sh "$FB" "${PV_FUZZ_SECONDS:-5}" 2>&1)
	rm -rf "$fwork"
	if [ "$nt" -eq 0 ] || [ "$nl" -ne "$nt" ]; then
		echo "fuzz run: $nl results for $nt targets in $FB/fuzz"
		note_fail "fuzz run ($nl of $nt targets)"
	fi
fi

# 4. Integration tests, each in its own pcsc sandbox.
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
