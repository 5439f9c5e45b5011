#!/usr/bin/env bash
# pcsc_watch_pcscd_restart.sh: pcscd killed and restarted while
# `pivstation readers --watch` runs: the watcher reports the service lost,
# then the readers and the card again, and keeps reporting card events,
# without being restarted.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key
set -e
fail() { cat "$TL_TMP/w.txt" >&2; tl_fail "$@"; }	# what the watcher said, too
R=$(vcardctl reader 0)

"$P" readers --watch > "$TL_TMP/w.txt" 2> "$TL_TMP/w.err" &
W=$!
tl_on_exit 'kill "$W" 2>/dev/null'
wait_line() {	# wait_line REGEX [COUNT]
	for i in $(seq 300); do
		[ "$(grep -cE "$1" "$TL_TMP/w.txt" || true)" -ge "${2:-1}" ] && return 0
		sleep 0.05
	done
	fail "no line matching '$1' (x${2:-1})"
}
wait_line "reader-added +\"$R\": card ATR 3B FD"

for round in 1 2; do
	vcardctl pcscd-stop
	wait_line "service-lost" $round
	wait_line "reader-removed +\"$R\"" $round
	vcardctl pcscd-start
	wait_line "service-back" $round
	wait_line "reader-added +\"$R\"" $((round + 1))
	wait_line "card-inserted +\"$R\": card ATR 3B FD" $round
	kill -0 "$W" || fail "the watcher died"
done
# Still following card events on the new pcscd.
vcardctl stop 0
wait_line "card-removed +\"$R\"" 3
vcardctl start 0
wait_line "card-inserted +\"$R\"" 3
kill -TERM "$W"; rc=0; wait "$W" || rc=$?
[ "$rc" -eq 130 ] || fail "exit $rc after SIGTERM, expected 130"
cat "$TL_TMP/w.txt"

# Started while pcscd is down: it says so, then finds the readers.
vcardctl pcscd-stop
: > "$TL_TMP/w.txt"
"$P" readers --watch > "$TL_TMP/w.txt" 2> "$TL_TMP/w.err" &
W=$!
wait_line "service-lost"
vcardctl pcscd-start
wait_line "service-back"
wait_line "card-inserted +\"$R\": card ATR 3B FD"
kill -INT "$W"; rc=0; wait "$W" || rc=$?
[ "$rc" -eq 130 ] || fail "exit $rc after SIGINT, expected 130"
cat "$TL_TMP/w.txt"
echo "pcsc_watch_pcscd_restart: all checks passed"
