#!/usr/bin/env bash
# pcsc_trace_pin.sh: --trace (text and JSON Lines) after a VERIFY never
# holds the PIN: the test searches both traces for the PIN in every form a
# trace could show it (hex spaced or not, either case, ASCII).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PV_BIN=${PV_BIN:-$PWD/build}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec tests/sandbox/run --card 0:usb-key --card 1:piv-card -- bash "$0" "$@"
fi
PV=$PV_BIN/pivstation
T=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; exit 1; }

no_pin() {	# no_pin FILE PIN
	local f=$1 pin=$2 hex spaced
	hex=$(printf '%s' "$pin" | od -An -tx1 | tr -d ' \n')
	spaced=$(printf '%s' "$pin" | od -An -tx1 | sed 's/^ //' | tr -d '\n')
	for pat in "$hex" "$spaced" "$pin"; do
		if grep -qiF -- "$pat" "$f"; then
			fail "$f contains the PIN as '$pat'"
		fi
	done
	[ "${3:-}" = any-mode ] || [ "$(stat -c %a "$f")" = 600 ] ||
	    fail "$f has mode $(stat -c %a "$f"), expected 600"
}

for slot in 0 1; do
	# The right PIN, text trace.
	echo 123456 | "$PV" diag -r $slot --pin-stdin --json --trace "$T/t$slot.txt" > "$T/d$slot.json"
	[ "$(jq -r .piv.pin.verify_result "$T/d$slot.json")" = "PIN accepted" ] || fail "PIN not accepted"
	grep -qE '^> 00 20 00 80 (00 00 )?08 \*\* \*\* \*\* \*\* \*\* \*\* \*\* \*\*' "$T/t$slot.txt" ||
	    fail "no redacted VERIFY in the trace: $(grep '00 20' "$T/t$slot.txt")"
	no_pin "$T/t$slot.txt" 123456
	# A wrong PIN, JSON Lines trace.
	echo 97531864 | "$PV" diag -r $slot --pin-stdin --json --trace "$T/j$slot.jsonl" --trace-json > "$T/w$slot.json" || true
	[ "$(jq -r .piv.pin.verify_result "$T/w$slot.json")" = "wrong PIN" ] || fail "wrong PIN not reported"
	jq -e -s 'map(select(.cmd | startswith("0020008008") or startswith("002000800000"))) | length == 1' "$T/j$slot.jsonl" >/dev/null ||
	    fail "no VERIFY in the JSON trace"
	jq -e -s 'all(.[]; (.seq | type) == "number" and (.t | type) == "string" and (.us | type) == "number")' "$T/j$slot.jsonl" >/dev/null ||
	    fail "JSON trace lines lack seq/t/us"
	no_pin "$T/j$slot.jsonl" 97531864
	# The trace reads back through `pivstation decode` when that exists.
	if "$PV" --help 2>&1 | grep -q '^  decode '; then
		"$PV" decode "$T/t$slot.txt" > "$T/dec$slot.txt" || fail "decode rejects our trace"
		no_pin "$T/dec$slot.txt" 123456 any-mode
	fi
done
# Restore the PIN counters (a wrong PIN cost a try on each card).
echo 123456 | "$PV" diag -r 0 --pin-stdin --json > /dev/null
echo "pcsc_trace_pin: all checks passed"
