#!/usr/bin/env bash
# pcsc_diag_reset.sh: a card reset by another program in the middle of
# `pivstation diag`: diag reconnects, SELECTs again, checks it is the same
# card (serial), says security status was lost, and completes with every
# object read.  Then a card pulled mid-diag gives a clean "no card" exit.
. "$(dirname "$0")/../sandbox/testlib.sh"
# 60 ms per APDU makes diag last about a second.
tl_sandbox --card 0:usb-key \
	--card-args 0 '--serial 424242 --latency apdu=60'
set -e
R=$(vcardctl reader 0)

# Something to read: CHUID, CCC and a certificate.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TL_TMP/k.pem" -out "$TL_TMP/c.pem" -days 30 -subj "/CN=Reset Test" 2>/dev/null
yubico-piv-tool -r "$R" -a set-chuid -a set-ccc >/dev/null 2>&1
yubico-piv-tool -r "$R" -a import-certificate -s 9e -i "$TL_TMP/c.pem" >/dev/null 2>&1

# Baseline without interference.
"$P" diag --json > "$TL_TMP/base.json"

# pcsc-lite makes a waiting program retry every 100 ms, so a pause of
# 150 ms between diag's transactions lets the reset in (see
# firmware-notes/pcsc-lock-starvation.md).
PIVSTATION_STEP_GAP_MS=150 "$P" diag --json --stats --trace "$TL_TMP/trace.txt" \
    > "$TL_TMP/d.json" 2> "$TL_TMP/d.err" &
D=$!
# Reset once diag is connected and has read a few objects.
for i in $(seq 500); do
	[ "$(grep -c '^> ' "$TL_TMP/trace.txt" 2>/dev/null || true)" -ge 4 ] && break
	sleep 0.02
done
vcardctl reset 0 || tl_fail "vcardctl reset"
rc=0; wait "$D" || rc=$?
[ "$rc" -eq 0 ] || tl_fail "diag exit $rc: $(cat "$TL_TMP/d.err")"
[ "$(jq .resets_survived "$TL_TMP/d.json")" -ge 1 ] || tl_fail "diag did not see the reset"
[ "$(jq .security_status_lost "$TL_TMP/d.json")" = true ] || tl_fail "security status not reported lost"
grep -q "same card after reset (serial checked)" "$TL_TMP/trace.txt" || tl_fail "no same-card check in the trace"
grep -q "card reset by another program" "$TL_TMP/d.err" || tl_fail "--stats does not mention the reset"
# Everything read, and read the same as without the reset.
for f in '.piv.serial' '.chuid.guid' '.ccc.present' \
    '[.certificates[] | .present]' '.certificates[3].subject'; do
	a=$(jq -c "$f" "$TL_TMP/base.json"); b=$(jq -c "$f" "$TL_TMP/d.json")
	[ "$a" = "$b" ] || tl_fail "$f: $b after the reset, $a without"
done
echo "ok: diag survived a reset by another program: $(jq -c .stats "$TL_TMP/d.json")"

# A card pulled after 6 APDUs: a clean failure naming the cause, exit 3.
vcardctl restart 0 --serial 424242 --fault remove-after=6
rc=0; "$P" diag > "$TL_TMP/pull.txt" 2> "$TL_TMP/pull.err" || rc=$?
[ "$rc" -eq 3 ] || tl_fail "diag with the card pulled: exit $rc, expected 3"
grep -qiE "removed|no card" "$TL_TMP/pull.err" || tl_fail "no reason given: $(cat "$TL_TMP/pull.err")"
echo "ok: card pulled mid-diag: $(cat "$TL_TMP/pull.err")"
echo "pcsc_diag_reset: all checks passed"
