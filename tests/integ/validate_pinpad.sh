#!/usr/bin/env bash
# validate_pinpad.sh: `pivstation validate -r --pin-pad` on a PIN-pad
# reader (the sandbox's --pinpad readers, a scripted cardholder at the
# keypad): the PIN typed on the pad proves possession with the same APDUs
# as --pin-stdin (VERIFY goes through the pad), never reaching the station
# or the trace; a wrong PIN on the pad fails pop.pin with the tries left,
# Cancel on the pad fails it saying so; a reader without a pad is refused
# before anything is read.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --pinpad --card 0:usb-key
tl_station --alg p256 --env --set ocsp=
PIN=24681357

echo "$PIN" | "$P" issue --home "$H" -r 0 --identity "$PV_ROOT/examples/identity.json" \
	--pin-stdin >issue.log 2>&1
check "card issued (PIN from stdin)" test $? = 0
check "ca crl (the station's own CRL file answers)" "$P" ca crl --home "$H"

check "the cardholder will type the PIN" vcardctl pinpad 0 "$PIN"
"$P" validate --home "$H" -r 0 --pin-pad --json --trace trace.txt </dev/null >v.json 2>v.err
rc=$?
check "validated with the PIN typed on the pad: exit 0 (got $rc)" test $rc = 0 || cat v.err >&2
check_out "pop.pin and pop.9a passed" '^pass pass$' \
	jq -r '[.checks[] | select(.id == "pop.pin" or .id == "pop.9a") | .status] | join(" ")' v.json
check_out "the pad verified the PIN (VERIFY 00 20 00 80)" '^1$' \
	bash -c "vcardctl pinpad-log 0 | grep -c '00 *20 *00 *80'"
check "the trace does not hold the PIN" bash -c "! grep -qE '$PIN|32 34 36 38 31 33 35 37' trace.txt"
check_out "the trace notes the pad" 'PIN pad' cat trace.txt

check "the cardholder will type a wrong PIN" vcardctl pinpad 0 11112222
"$P" validate --home "$H" -r 0 --pin-pad --json </dev/null >v.json 2>v.err; rc=$?
check "wrong PIN on the pad: exit 7 (got $rc)" test $rc = 7
check_out "pop.pin: wrong PIN, tries left" '^fail wrong PIN: 2 tries left$' \
	jq -r '.checks[] | select(.id == "pop.pin") | "\(.status) \(.text)"' v.json

check "the cardholder will press Cancel" vcardctl pinpad 0 cancel
"$P" validate --home "$H" -r 0 --pin-pad --json </dev/null >v.json 2>v.err; rc=$?
check "Cancel on the pad: exit 7 (got $rc)" test $rc = 7
check_out "pop.pin says Cancel was pressed" '^fail the cardholder pressed Cancel on the PIN pad$' \
	jq -r '.checks[] | select(.id == "pop.pin") | "\(.status) \(.text)"' v.json
check "the right PIN on the pad again" vcardctl pinpad 0 "$PIN"
check "valid again" "$P" validate --home "$H" -r 0 --pin-pad
tl_done
