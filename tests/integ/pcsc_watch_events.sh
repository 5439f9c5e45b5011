#!/usr/bin/env bash
# pcsc_watch_events.sh: `pivstation readers --watch --json` reports card
# removal and insertion as a vcard stops and starts, without polling.
#
# What is measured: the time from pcscd announcing the change to the event
# line's timestamp.  pcscd learns of a vpcd card only by polling the driver
# (every 400 ms in pcsc-lite 1.9.9; firmware-notes/vpcd-presence-polling.md),
# so no client can see a change sooner than pcscd's next poll after the
# vcard stops or starts.  The reference is pcsc-tools' pcsc_scan, an
# independent client that also blocks in SCardGetStatusChange: its event
# lines are stamped as it prints them.  Each of our events must come within
# 200 ms of pcsc_scan's (a client that polled, or missed a wake-up, would
# not).  The time from the stop/start itself is printed, not checked: it is
# pcscd's polling plus process start-up, not ours.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key --card 1:piv-card
set -e
now() { echo "$EPOCHREALTIME"; }

# The reference observer: pcsc_scan, each output line stamped on arrival.
stdbuf -oL pcsc_scan -n 2>&1 | while IFS= read -r l; do
	printf '%s %s\n' "$EPOCHREALTIME" "$l"; done > "$TL_TMP/scan.txt" &
"$P" readers --watch --json > "$TL_TMP/w.jsonl" 2> "$TL_TMP/w.err" &
W=$!
tl_on_exit 'kill "$W" 2>/dev/null'
# The initial snapshot: both readers with their cards.
for i in $(seq 100); do [ "$(wc -l < "$TL_TMP/w.jsonl")" -ge 2 ] && break; sleep 0.05; done
[ "$(jq -s '[.[] | select(.initial and .event == "reader-added" and .card)] | length' "$TL_TMP/w.jsonl")" -ge 2 ] ||
    tl_fail "initial snapshot: $(cat "$TL_TMP/w.jsonl")"

# wait_event KIND READER AFTER: the unix time of the first such event
# stamped at or after AFTER (5 s at most).
wait_event() {
	local t
	for i in $(seq 250); do
		t=$(jq -r --arg k "$1" --arg r "$2" --argjson a "$3" \
		    'select(.event == $k and .name == $r and .unix >= $a) | .unix' \
		    "$TL_TMP/w.jsonl" | head -1)
		[ -n "$t" ] && { echo "$t"; return 0; }
		sleep 0.02
	done
	return 1
}

# scan_event KIND READER AFTER: the time pcsc_scan printed that change.
scan_event() {
	local want=${1#card-} t
	for i in $(seq 250); do
		t=$(awk -v r="$2" -v a="$3" -v k="Card $want" '
		    { t = $1; line = substr($0, length($1) + 2) }
		    line ~ /^ Reader [0-9]+: / { sub(/^ Reader [0-9]+: /, "", line); cur = line; next }
		    line ~ /Card state: / && index(line, k) && cur == r && t + 0 >= a + 0 { print t; exit }' \
		    "$TL_TMP/scan.txt")
		[ -n "$t" ] && { echo "$t"; return 0; }
		sleep 0.02
	done
	return 1
}

check_lag() {	# check_lag LABEL T_ACTION T_SCAN T_EVENT
	local abs rel
	abs=$(echo "($4 - $2) * 1000" | bc -l); rel=$(echo "($4 - $3) * 1000" | bc -l)
	printf '%s: %.0f ms after the action, %+.0f ms after pcsc_scan saw it\n' "$1" "$abs" "$rel"
	[ "$(echo "$rel <= 200" | bc -l)" = 1 ] || tl_fail "$1: event $rel ms after pcsc_scan saw it"
}

for i in $(seq 100); do grep -q "Card state" "$TL_TMP/scan.txt" && break; sleep 0.05; done
for slot in 0 1 0 1; do
	R=$(vcardctl reader $slot)
	t0=$(now); vcardctl stop $slot
	te=$(wait_event card-removed "$R" "$t0") || tl_fail "no card-removed for $R"
	ts=$(scan_event card-removed "$R" "$t0") || tl_fail "pcsc_scan saw no removal for $R"
	check_lag "stop slot $slot" "$t0" "$ts" "$te"
	t0=$(now); vcardctl start $slot
	te=$(wait_event card-inserted "$R" "$t0") || tl_fail "no card-inserted for $R"
	ts=$(scan_event card-inserted "$R" "$t0") || tl_fail "pcsc_scan saw no insertion for $R"
	check_lag "start slot $slot" "$t0" "$ts" "$te"
	# The inserted event carries the card's ATR.
	jq -r --arg r "$R" 'select(.event == "card-inserted" and .name == $r) | .atr' \
	    "$TL_TMP/w.jsonl" | tail -1 | grep -q '^3B ' || tl_fail "card-inserted without ATR"
done
kill -INT "$W"; rc=0; wait "$W" || rc=$?
[ "$rc" -eq 130 ] || tl_fail "readers --watch exit $rc after SIGINT, expected 130"
# Nothing but the events we caused: 2 initial + 8.
n=$(wc -l < "$TL_TMP/w.jsonl")
[ "$n" -eq 10 ] || tl_fail "$n event lines, expected 10: $(cat "$TL_TMP/w.jsonl")"
echo "pcsc_watch_events: all checks passed"
