#!/usr/bin/env bash
# vcard_faults.sh: the vcard's faults, latency accounting and statistics as a
# PC/SC client sees them.
#   slot 0 usb-key  remove-after=3          (gone for good)
#   slot 1 usb-key  remove-after=3:1500      (back 1.5 s later, after pcscd saw it go)
#   slot 2 piv-card garbage-after=2
#   slot 3 piv-card mute-after=2:800
#   slot 4 piv-card reset-after=1
#   slot 5 usb-key  --latency yubikey5,apdu=0.5
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key --card-args 0 '--fault remove-after=3' \
	--card 1:usb-key --card-args 1 '--fault remove-after=3:1500' \
	--card 2:piv-card --card-args 2 '--fault garbage-after=2' \
	--card 3:piv-card --card-args 3 '--fault mute-after=2:800' \
	--card 4:piv-card --card-args 4 '--fault reset-after=1' \
	--card 5:usb-key --card-args 5 '--latency yubikey5,apdu=0.5'

SEL=00A4040005A000000308
STATUS=0020008000
PIN=0020008008313233343536FFFF
stat_of() { vcardctl stats "$1" | sed -nE "s/.*\"$2\":([0-9]+).*/\\1/p"; }

# --- remove-after -------------------------------------------------------------------
out=$(vcardctl transmit 0 $SEL $STATUS $STATUS $STATUS 2>&1); rc=$?
check "remove: the 4th APDU fails at the client (an empty response)" test $rc -ne 0
check_out "remove: three answers came first" '^3$' bash -c "grep -c '^[0-9A-F]\\+$' <<<'$out'"
check "remove: pcscd sees the reader empty" vcardctl wait-absent 0
check_fails "remove: opensc-tool finds no card" opensc-tool -r 0 -a
check_out "remove: counted as a fault" '"faults":1' vcardctl stats 0

out=$(vcardctl transmit 1 $SEL $STATUS $STATUS $STATUS 2>&1); rc=$?
check "remove+reinsert: the 4th APDU fails" test $rc -ne 0
check "remove+reinsert: pcscd sees the reader empty" vcardctl wait-absent 1
check "remove+reinsert: the card is back" vcardctl wait 1
check_out "remove+reinsert: and works" 'Version:' \
	yubico-piv-tool -r "$(vcardctl reader 1)" -a status
check_out "remove+reinsert: a second connection" '"connections":2' vcardctl stats 1

# --- garbage-after ---------------------------------------------------------------------
out=$(vcardctl transmit 2 $SEL $STATUS $STATUS $STATUS 2>&1)
check_out "garbage: the first two answers are sound" '^61.*9000$' bash -c "sed -n 1p <<<'$out'"
check_out "garbage: ... the second too" '^63C3$' bash -c "sed -n 2p <<<'$out'"
check "garbage: then noise, not 63C3" test "$(sed -n 3p <<<"$out")" != 63C3
check_fails "garbage: OpenSC cannot use the card" \
	bash -c 'opensc-tool -r 2 -n | grep "Personal Identity Verification Card"'

# --- mute-after ------------------------------------------------------------------------
out=$(timeout 20 "$PV_PCSC_PROBE" transmit "$(vcardctl reader 3)" $SEL $STATUS $STATUS 2>&1)
rc=$?
check "mute: the client's 3rd APDU fails (no hang past the mute time)" \
	test $rc -ne 0 -a $rc -ne 124
check_out "mute: two answers first" '^2$' bash -c "grep -c '^[0-9A-F]\\+$' <<<'$out'"
check "mute: then the card is gone" vcardctl wait-absent 3

# --- reset-after and PC/SC reset -----------------------------------------------------------
out=$(vcardctl transmit 4 "$PIN" $STATUS)
check_out "reset-after: VERIFY succeeded" '^9000$' bash -c "sed -n 1p <<<'$out'"
check_out "reset-after: the PIN status was lost" '^63C3$' bash -c "sed -n 2p <<<'$out'"
check_out "the PIN status survives a new PC/SC connection" '^9000$' \
	bash -c "vcardctl transmit 4 $PIN >/dev/null; vcardctl transmit 4 $STATUS"
check "vcardctl reset: a PC/SC warm reset" vcardctl reset 4
check_out "... clears the PIN status" '^63C3$' vcardctl transmit 4 $STATUS

# --- latency accounting and statistics -------------------------------------------------
before_apdus=$(stat_of 5 apdus); before_us=$(stat_of 5 latency_us)
before_in=$(stat_of 5 bytes_in); before_out=$(stat_of 5 bytes_out)
check_out "latency: SELECT and VERIFY" '^61.*9000$' bash -c \
	"vcardctl transmit 5 $SEL $PIN | sed -n 1p"
check_out "stats: 2 more APDUs" "^$((before_apdus + 2))\$" stat_of 5 apdus
check_out "stats: 10 + 13 bytes in" "^$((before_in + 23))\$" stat_of 5 bytes_in
check_out "stats: 21 + 2 bytes out" "^$((before_out + 23))\$" stat_of 5 bytes_out
# yubikey5: SELECT 1.3 ms + VERIFY 9.1 ms, plus 0.5 ms per APDU (computed
# by the model, not measured)
check_out "latency: modelled card time 1300 + 9100 + 2 x 500 us" \
	"^$((before_us + 11400))\$" stat_of 5 latency_us
check_out "stats: per-INS counts" '"a4":[0-9]+.*"20":[0-9]+|"20":[0-9]+.*"a4":[0-9]+' \
	vcardctl stats 5
tl_done
