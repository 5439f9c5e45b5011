#!/usr/bin/env bash
# pcsc_watch_pcscd_restart.sh: pcscd killed and restarted while
# `pivstation readers --watch` runs: the watcher reports the service lost,
# then the readers and the card again, and keeps reporting card events,
# without being restarted.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PV_BIN=${PV_BIN:-$PWD/build}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec tests/sandbox/run --card 0:usb-key -- bash "$0" "$@"
fi
PV=$PV_BIN/pivstation
T=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; cat "$T/w.txt" >&2; kill "$W" 2>/dev/null; exit 1; }
R=$(vcardctl reader 0)

"$PV" readers --watch > "$T/w.txt" 2> "$T/w.err" &
W=$!
wait_line() {	# wait_line REGEX [COUNT]
	for i in $(seq 300); do
		[ "$(grep -cE "$1" "$T/w.txt" || true)" -ge "${2:-1}" ] && return 0
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
cat "$T/w.txt"

# Started while pcscd is down: it says so, then finds the readers.
vcardctl pcscd-stop
: > "$T/w.txt"
"$PV" readers --watch > "$T/w.txt" 2> "$T/w.err" &
W=$!
wait_line "service-lost"
vcardctl pcscd-start
wait_line "service-back"
wait_line "card-inserted +\"$R\": card ATR 3B FD"
kill -INT "$W"; rc=0; wait "$W" || rc=$?
[ "$rc" -eq 130 ] || fail "exit $rc after SIGINT, expected 130"
cat "$T/w.txt"
echo "pcsc_watch_pcscd_restart: all checks passed"
