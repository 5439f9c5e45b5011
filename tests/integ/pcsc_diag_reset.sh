#!/usr/bin/env bash
# pcsc_diag_reset.sh: a card reset by another program in the middle of
# `pivstation diag`: diag reconnects, SELECTs again, checks it is the same
# card (serial), says security status was lost, and completes with every
# object read.  Then a card pulled mid-diag gives a clean "no card" exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PV_BIN=${PV_BIN:-$PWD/build}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	# 60 ms per APDU makes diag last about a second.
	exec tests/sandbox/run --card 0:usb-key \
	    --card-args 0 '--serial 424242 --latency apdu=60' -- bash "$0" "$@"
fi
PV=$PV_BIN/pivstation
T=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; exit 1; }
R=$(vcardctl reader 0)

# Something to read: CHUID, CCC and a certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/k.pem" -out "$T/c.pem" -days 30 -subj "/CN=Reset Test" 2>/dev/null
yubico-piv-tool -r "$R" -a set-chuid -a set-ccc >/dev/null 2>&1
yubico-piv-tool -r "$R" -a import-certificate -s 9e -i "$T/c.pem" >/dev/null 2>&1

# Baseline without interference.
"$PV" diag --json > "$T/base.json"

# pcsc-lite makes a waiting program retry every 100 ms, so a pause of
# 150 ms between diag's transactions lets the reset in (see
# firmware-notes/pcsc-lock-starvation.md).
PIVSTATION_STEP_GAP_MS=150 "$PV" diag --json --stats --trace "$T/trace.txt" \
    > "$T/d.json" 2> "$T/d.err" &
D=$!
# Reset once diag is connected and has read a few objects.
for i in $(seq 500); do
	[ "$(grep -c '^> ' "$T/trace.txt" 2>/dev/null || true)" -ge 4 ] && break
	sleep 0.02
done
vcardctl reset 0 || fail "vcardctl reset"
rc=0; wait "$D" || rc=$?
[ "$rc" -eq 0 ] || fail "diag exit $rc: $(cat "$T/d.err")"
[ "$(jq .resets_survived "$T/d.json")" -ge 1 ] || fail "diag did not see the reset"
[ "$(jq .security_status_lost "$T/d.json")" = true ] || fail "security status not reported lost"
grep -q "same card after reset (serial checked)" "$T/trace.txt" || fail "no same-card check in the trace"
grep -q "card reset by another program" "$T/d.err" || fail "--stats does not mention the reset"
# Everything read, and read the same as without the reset.
for f in '.piv.serial' '.chuid.guid' '.ccc.present' \
    '[.certificates[] | .present]' '.certificates[3].subject'; do
	a=$(jq -c "$f" "$T/base.json"); b=$(jq -c "$f" "$T/d.json")
	[ "$a" = "$b" ] || fail "$f: $b after the reset, $a without"
done
echo "ok: diag survived a reset by another program: $(jq -c .stats "$T/d.json")"

# A card pulled after 6 APDUs: a clean failure naming the cause, exit 3.
vcardctl restart 0 --serial 424242 --fault remove-after=6
rc=0; "$PV" diag > "$T/pull.txt" 2> "$T/pull.err" || rc=$?
[ "$rc" -eq 3 ] || fail "diag with the card pulled: exit $rc, expected 3"
grep -qiE "removed|no card" "$T/pull.err" || fail "no reason given: $(cat "$T/pull.err")"
echo "ok: card pulled mid-diag: $(cat "$T/pull.err")"
echo "pcsc_diag_reset: all checks passed"
