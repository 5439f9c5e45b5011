#!/usr/bin/env bash
# issue_yk4.sh: `pivstation issue` onto a YubiKey 4 (usb-key vcard with
# --firmware 4.3.5: no GET SERIAL, no metadata, no AES management keys).
# The serial comes from the OTP applet and is the one yubico-piv-tool
# reads; the device is recorded by it; the per-card management key is 3DES
# and no longer the factory one; yubico-piv-tool shows the four
# certificates, CHUID and CCC; the person's PIN verifies; a second run
# says "already issued" (the same-card check works by that serial).
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key --card-args 0 '--firmware 4.3.5'
tl_station

PIN=13572468
ID=$PV_ROOT/examples/identity.json
Y() { yubico-piv-tool -r "$PV_READER_0" "$@"; }

ysn=$(Y -a status 2>/dev/null | sed -nE 's/^Serial Number:[[:space:]]+([0-9]+)$/\1/p')
check "yubico-piv-tool reads a serial (OTP applet)" test -n "$ysn"
echo "$PIN" | "$P" issue --home "$H" -r 0 --identity "$ID" --pin-stdin --passphrase-file "$TL_PASS" \
	--json >out.jsonl 2>err.txt; rc=$?
check "issue onto firmware 4.3.5: exit 0 (got $rc)" test $rc = 0 || tail -5 err.txt >&2
check_out "the result: that serial, 3DES management key changed" "^$ysn 3DES true\$" \
	jq -r 'select(.event == "result") | "\(.serial) \(.mgmt_key.alg) \(.mgmt_key.changed)"' out.jsonl
check_out "the store records the device by that serial" "^$ysn\|active\$" \
	sqlite3 "$H/store.db" "select serial || '|' || status from devices"
check_fails "the factory management key no longer authenticates" \
	Y -a set-chuid -k 010203040506070801020304050607080102030405060708
st=$(Y -a status 2>&1)
for s in 9a 9c 9d 9e; do
	check_out "yubico-piv-tool status: slot $s" "^Slot $s:" echo "$st"
done
check_out "yubico-piv-tool status: CHUID and CCC" '^CCC:' echo "$st"
check "the person's PIN verifies" Y -a verify-pin -P "$PIN"
echo "$PIN" | "$P" issue --home "$H" -r 0 --identity "$ID" --pin-stdin --passphrase-file "$TL_PASS" \
	>again.txt 2>&1; rc=$?
check "the same command again: exit 0 (got $rc)" test $rc = 0 || cat again.txt >&2
check_out "... already issued, nothing to do" 'already issued .*nothing to do' cat again.txt
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
