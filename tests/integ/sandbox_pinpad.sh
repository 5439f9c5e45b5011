#!/usr/bin/env bash
# sandbox_pinpad.sh: the sandbox's PIN-pad readers (run --pinpad,
# tests/sandbox/pinpad-ifd.c) end to end through the real pcscd.
#  - pivstation diag sees the part 10 features and properties;
#  - OpenSC (the judge) drives the pad for a PKCS#11 login: right PIN,
#    wrong PIN (one try fewer for yubico-piv-tool), cancel, timeout,
#    PIN too short;
#  - PIN_VERIFY/PIN_MODIFY_STRUCTUREs sent with SCardControl (the VERIFY
#    one as pcsc/part10.c builds it): one card APDU per entry, none when
#    the pad answers by itself, hostile structures refused;
#  - the pad's log shows every operation and never a digit;
#  - without --pinpad the reader still has no PIN pad.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	rc=0
	"$PV_ROOT/tests/sandbox/run" --pinpad --card 0:usb-key --card 1:piv-card -- \
	    bash "$TL_SELF" pinpad || rc=1
	"$PV_ROOT/tests/sandbox/run" --card 0:usb-key -- bash "$TL_SELF" plain || rc=1
	exit $rc
fi
MOD=$(tl_opensc_module) || exit 1
P11=(pkcs11-tool --module "$MOD")

if [ "${1:-}" = plain ]; then
	"$P" diag -r 0 --json >"$TL_TMP/plain.json" 2>"$TL_TMP/plain.err"
	check_out "plain vpcd reader: pin pad false" '^false$' \
	    jq -r .reader.pin_pad "$TL_TMP/plain.json"
	check_out "plain vpcd reader: no part 10 features" '^0$' \
	    jq -r '.reader.part10_features | length' "$TL_TMP/plain.json"
	"$P" diag -r 0 --pin-pad --json >"$TL_TMP/plainpad.json" 2>/dev/null
	check_out "plain vpcd reader: diag --pin-pad says there is no pad" \
	    '^the reader has no PIN pad$' jq -r .piv.pin.verify_result "$TL_TMP/plainpad.json"
	tl_done; exit
fi

R0=$(vcardctl reader 0)
apdus() { vcardctl stats "$1" | jq .apdus; }
tries() { yubico-piv-tool -r "$R0" -a status 2>/dev/null |
	sed -n 's/^PIN tries left:[[:space:]]*//p'; }
login() {	# login PKCS11-SLOT-INDEX: pkcs11-tool login through the pad
	"${P11[@]}" --slot-index "$1" --login --list-objects 2>&1
}
logged() {	# logged SLOT PATTERN: the pad's last log line matches
	vcardctl pinpad-log "$1" | tail -1 | grep -Eq -- "$2"
}

# ---- diag -----------------------------------------------------------------
"$P" diag -r 0 --json >"$TL_TMP/d0.json" 2>"$TL_TMP/d0.err" ||
	tl_log "diag failed: $(cat "$TL_TMP/d0.err")"
J=$TL_TMP/d0.json
check_out "diag: pin pad true" '^true$' jq -r .reader.pin_pad "$J"
check_out "diag: the reader's vendor, model, serial and driver version (SCardGetAttrib)" \
    '^pivstation sandbox\|PIN-pad reader \(part 10 over vpcd\)\|PVPAD-0\|1\.0\.0$' \
    jq -r '[.reader.vendor, .reader.model, .reader.serial, .reader.driver_version] | join("|")' "$J"
check_out "diag: the four features with the CCID control codes" \
    '^06=0x42330006 07=0x42330007 0A=0x4233000A 12=0x42330012$' \
    jq -r '[.reader.part10_features[] | "\(.tag)=\(.control_code)"] | join(" ")' "$J"
check_out "diag: feature names" \
    '^FEATURE_VERIFY_PIN_DIRECT FEATURE_MODIFY_PIN_DIRECT FEATURE_IFD_PIN_PROPERTIES FEATURE_GET_TLV_PROPERTIES$' \
    jq -r '[.reader.part10_features[].name] | join(" ")' "$J"
check_out "diag: TLV properties (2x16 LCD, PIN 4..8)" '^528 4 8$' \
    jq -r '.reader.properties | "\(.wLcdLayout) \(.bMinPINSize) \(.bMaxPINSize)"' "$J"
check_out "diag on slot 1 (second slot of the entry): pin pad true" '^true$' \
    sh -c "'$P' diag -r 1 --json | jq -r .reader.pin_pad"

# ---- OpenSC drives the pad --------------------------------------------------
check_out "factory PIN tries" '^3$' tries
vcardctl pinpad 0 123456
check_out "pkcs11-tool login with 123456 typed on the pad" 'Cardholder' login 0
check_out "pad log: VERIFY with 6 digits, 9000" \
    '^VERIFY slot=0 sw=9000 digits=6 apdu=00 20 00 80 08( \*\*){6} FF FF$' \
    vcardctl pinpad-log 0
check "the keypad line was consumed" test ! -s "$PV_SANDBOX_DIR/pinpad0.keys"

vcardctl pinpad 0 111111
check_fails_out "pkcs11-tool login with a wrong PIN typed" CKR_PIN_INCORRECT login 0
check "pad log: 63C2" logged 0 '^VERIFY slot=0 sw=63C2 digits=6 '
check_out "yubico-piv-tool: one try fewer" '^2$' tries

vcardctl pinpad 0 cancel
check_fails_out "pkcs11-tool login cancelled on the pad" CKR_FUNCTION_CANCELED login 0
check "pad log: 6401 cancel" logged 0 '^VERIFY slot=0 sw=6401 cancel '
vcardctl pinpad 0 timeout
check_fails_out "pkcs11-tool login: nobody types" CKR_FUNCTION_CANCELED login 0
check "pad log: 6400 timeout" logged 0 '^VERIFY slot=0 sw=6400 timeout '
vcardctl pinpad 0 123
check_fails_out "pkcs11-tool login: PIN too short for the pad" CKR_PIN_LEN_RANGE login 0
check "pad log: 6403" logged 0 '^VERIFY slot=0 sw=6403 PIN length outside 4..8 digits=3 '
check_out "no try lost to cancel, timeout or a short PIN" '^2$' tries
vcardctl pinpad 0 123456
check_out "pkcs11-tool login again, tries back to 3" 'Cardholder' login 0
vcardctl reset 0 >/dev/null
check_out "tries back to 3 after the good PIN (fresh after a reset)" '^3$' tries

# pivstation diag --pin-pad: VERIFY on the pad, result reported
vcardctl pinpad 0 123456
"$P" diag -r 0 --pin-pad --json >"$TL_TMP/dpad.json" 2>"$TL_TMP/dpad.err"
check_out "diag --pin-pad: PIN accepted, 3 tries" '^PIN accepted 3$' \
    jq -r '"\(.piv.pin.verify_result) \(.piv.pin.tries_left)"' "$TL_TMP/dpad.json"
check_out "diag --pin-pad: the cardholder was asked" 'types the PIN on the reader' \
    cat "$TL_TMP/dpad.err"
check "pad log: diag's VERIFY, 9000" logged 0 '^VERIFY slot=0 sw=9000 digits=6 '
vcardctl pinpad 0 654321
"$P" diag -r 0 --pin-pad --json >"$TL_TMP/dpad2.json" 2>/dev/null
check_out "diag --pin-pad, wrong PIN typed: reported with the tries left" '^wrong PIN 2$' \
    jq -r '"\(.piv.pin.verify_result) \(.piv.pin.tries_left)"' "$TL_TMP/dpad2.json"
vcardctl pinpad 0 cancel
"$P" diag -r 0 --pin-pad --json >"$TL_TMP/dpad3.json" 2>/dev/null
check_out "diag --pin-pad, Cancel: reported" '^cancelled on the pad$' \
    jq -r .piv.pin.verify_result "$TL_TMP/dpad3.json"
vcardctl pinpad 0 123456
check "... and the right PIN again" "$P" diag -r 0 --pin-pad

# The second slot of the entry (plain PIV card; PKCS#11 index 1).
vcardctl pinpad 1 123456
check_out "piv-card slot 1: pkcs11-tool login through its own pad" 'Cardholder' login 1
check "pad log of slot 1" logged 1 '^VERIFY slot=1 sw=9000 digits=6 '
check_out "slot 0's pad saw nothing of it (its own 10 VERIFYs)" '^10$' \
    sh -c "vcardctl pinpad-log 0 | grep -c ^VERIFY"

# ---- structures sent directly ------------------------------------------------
# PIN_VERIFY_STRUCTURE as pcsc/part10.c's part10_build_verify writes it
# for reference 80 (30 s, ASCII, 6..8 digits, 8-byte FF block).
V=1e1e820800080602010904000000000d000000
V=${V}0020008008ffffffffffffffff
# PIN_MODIFY_STRUCTURE: old PIN at 0, new at 8, 6..8 digits, current PIN
# and confirmation asked for.
M=1e1e82080000080806030203090400010200000015000000
M=${M}0024008010ffffffffffffffffffffffffffffffff
# pcscd powers an unused card down: SELECT on the same connection.
SEL=00a4040009a00000030800001000
a=$(apdus 0)
vcardctl pinpad 0 123456
check_out "VERIFY_PIN_DIRECT: card answers 9000" '^9000$' \
    vcardctl control 0 42330006 "$V" $SEL
check_out "one card APDU for it (after the SELECT)" "^$((a + 2))\$" apdus 0
vcardctl pinpad 0 "123456 87654321"
check_out "MODIFY_PIN_DIRECT (old + new, confirmed): 9000" '^9000$' \
    vcardctl control 0 42330007 "$M" $SEL
check "pad log: MODIFY, both PINs hidden" logged 0 \
    '^MODIFY slot=0 sw=9000 digits=8 old_digits=6 apdu=00 24 00 80 10( \*\*){6} FF FF( \*\*){8}$'
check "yubico-piv-tool accepts the new PIN" \
    yubico-piv-tool -r "$R0" -a verify-pin -P 87654321
# As pcsc/part10.c's part10_build_modify writes it: the host fills in the
# current PIN (87654321 in ASCII), the person types only the new one,
# twice (bConfirmPIN 01).
H=1e1e82080000080806010202090401020000000015000000
H=${H}00240080103837363534333231ffffffffffffffff
vcardctl pinpad 0 24681357
check_out "MODIFY_PIN_DIRECT, current PIN from the host: 9000" '^9000$' \
    vcardctl control 0 42330007 "$H" $SEL
check "pad log: host's current PIN hidden as ##" logged 0 \
    '^MODIFY slot=0 sw=9000 digits=8 apdu=00 24 00 80 10( ##){8}( \*\*){8}$'
check "yubico-piv-tool accepts the PIN typed on the pad" \
    yubico-piv-tool -r "$R0" -a verify-pin -P 24681357
a=$(apdus 0)
vcardctl pinpad 0 "87654321 11111111 22222222"
check_out "MODIFY: confirmation differs: 6402" '^6402$' vcardctl control 0 42330007 "$M"
vcardctl pinpad 0 "87654321 123"
check_out "MODIFY: new PIN too short: 6403" '^6403$' vcardctl control 0 42330007 "$M"
vcardctl pinpad 0 "1 2 3 4"
check_out "unreadable keypad line: 6401" '^6401$' vcardctl control 0 42330006 "$V"
check_out "the pad answered those by itself (no card APDU)" "^$a\$" apdus 0
check_fails_out "ulDataLength not matching: refused" 'not supported' \
    vcardctl control 0 42330006 "${V}00"
check_fails_out "Lc not matching the APDU: refused" 'not supported' \
    vcardctl control 0 42330006 "${V/0020008008/0020008009}"
check_fails_out "structure cut short: refused" 'not supported' \
    vcardctl control 0 42330006 1e1e8208
check_fails_out "right-justified PIN: refused" 'not supported' \
    vcardctl control 0 42330006 "1e1e86${V:6}"
check_fails_out "unknown control code: still vpcd's refusal" 'not supported' \
    vcardctl control 0 42330099
check "pad log names the refusals" sh -c \
    "vcardctl pinpad-log 0 | grep -q 'ERROR ulDataLength 13 but 14 bytes follow' &&
     vcardctl pinpad-log 0 | grep -q 'ERROR right justification'"
check_out "nothing reached the card" "^$a\$" apdus 0
check "no keypad line left over" test ! -s "$PV_SANDBOX_DIR/pinpad0.keys"

# ---- no digits anywhere ---------------------------------------------------------
check_fails "no PIN in the pad logs or pcscd's log" grep -Eiq \
    '123456|111111|87654321|22222222|24681357|38 37 36 35' "$PV_SANDBOX_DIR"/pinpad0.log \
    "$PV_SANDBOX_DIR"/pinpad1.log "$PV_SANDBOX_DIR"/pcscd.log
check_out "keypad files are private" '^600 600$' \
    sh -c "stat -c %a '$PV_SANDBOX_DIR/pinpad0.keys' '$PV_SANDBOX_DIR/pinpad0.lock' | paste -sd' '"
tl_done
