#!/usr/bin/env bash
# pcsc_trace_pin.sh: --trace (text and JSON Lines) after a VERIFY never
# holds the PIN: the test searches both traces for the PIN in every form a
# trace could show it (hex spaced or not, either case, ASCII).
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key --card 1:piv-card
set -e

no_pin() {	# no_pin FILE PIN
	local f=$1 pin=$2 hex spaced
	hex=$(printf '%s' "$pin" | od -An -tx1 | tr -d ' \n')
	spaced=$(printf '%s' "$pin" | od -An -tx1 | sed 's/^ //' | tr -d '\n')
	for pat in "$hex" "$spaced" "$pin"; do
		if grep -qiF -- "$pat" "$f"; then
			tl_fail "$f contains the PIN as '$pat'"
		fi
	done
	[ "${3:-}" = any-mode ] || [ "$(stat -c %a "$f")" = 600 ] ||
	    tl_fail "$f has mode $(stat -c %a "$f"), expected 600"
}

for slot in 0 1; do
	# The right PIN, text trace.
	echo 123456 | "$P" diag -r $slot --pin-stdin --json --trace "$TL_TMP/t$slot.txt" > "$TL_TMP/d$slot.json"
	[ "$(jq -r .piv.pin.verify_result "$TL_TMP/d$slot.json")" = "PIN accepted" ] || tl_fail "PIN not accepted"
	grep -qE '^> 00 20 00 80 (00 00 )?08 \*\* \*\* \*\* \*\* \*\* \*\* \*\* \*\*' "$TL_TMP/t$slot.txt" ||
	    tl_fail "no redacted VERIFY in the trace: $(grep '00 20' "$TL_TMP/t$slot.txt")"
	no_pin "$TL_TMP/t$slot.txt" 123456
	# A wrong PIN, JSON Lines trace.
	echo 97531864 | "$P" diag -r $slot --pin-stdin --json --trace "$TL_TMP/j$slot.jsonl" --trace-json > "$TL_TMP/w$slot.json" || true
	[ "$(jq -r .piv.pin.verify_result "$TL_TMP/w$slot.json")" = "wrong PIN" ] || tl_fail "wrong PIN not reported"
	jq -e -s 'map(select(.cmd | startswith("0020008008") or startswith("002000800000"))) | length == 1' "$TL_TMP/j$slot.jsonl" >/dev/null ||
	    tl_fail "no VERIFY in the JSON trace"
	jq -e -s 'all(.[]; (.seq | type) == "number" and (.t | type) == "string" and (.us | type) == "number")' "$TL_TMP/j$slot.jsonl" >/dev/null ||
	    tl_fail "JSON trace lines lack seq/t/us"
	no_pin "$TL_TMP/j$slot.jsonl" 97531864
	# The trace reads back through `pivstation decode` when that exists.
	if "$P" --help 2>&1 | grep -q '^  decode '; then
		"$P" decode "$TL_TMP/t$slot.txt" > "$TL_TMP/dec$slot.txt" || tl_fail "decode rejects our trace"
		no_pin "$TL_TMP/dec$slot.txt" 123456 any-mode
	fi
done
# Restore the PIN counters (a wrong PIN cost a try on each card).
echo 123456 | "$P" diag -r 0 --pin-stdin --json > /dev/null
echo "pcsc_trace_pin: all checks passed"
