#!/usr/bin/env bash
# console_demo.sh: a scripted session of `pivstation console` for make demo,
# in tmux inside the pcsc sandbox (PIN-pad readers): the officer signs in
# with their PIV card, issues a key to Dana (she types her PIN on the pad),
# looks at her card at the help desk and at the audit log.  The captured
# screens are printed one after another; a screen that never comes fails
# the demo with what the terminal showed instead.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --pinpad --card 0:usb-key --card 1:usb-key \
		-- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
unset PIVSTATION_HOME PIVSTATION_CA_PASSPHRASE PIVSTATION_KRA_PASSPHRASE \
	PIVSTATION_OPERATOR
. "$ROOT/tests/sandbox/console_lib.sh"
trap 'cl_stop; rm -rf "$TL_TMP"' EXIT

# need CMD...: quiet when it works; its complaint (the screen) and the end
# of the demo when not.
need() {
	local log
	if ! log=$("$@" 2>&1 >/dev/null); then
		printf '%s\n' "$log" >&2
		exit 1
	fi
}

echo "(a station with its CA; Olivia's operator card in reader 0, issued with the"
echo " command line and registered: pivstation operator add olivia -r 0 ...)"
need check "station with an operator card in reader 0" cl_station
need check "tmux at 80x24" cl_start 80 24
cl_console
need cl_wait "the sign-in screen" "Operator sign-in"
need cl_wait "the operator's card read" "Virtual PCD 00 00 +issued +Operator, Olivia" 30
cl_shot "pivstation console: sign-in (Olivia's card is in reader 0)"
cl_type "$OP_PIN"; cl_keys Enter
need cl_wait "signed in" "Signed in as olivia"
cl_shot "signed in: PIN and proof of possession checked, the card validated"

cl_keys F2
cl_type "Dana"; cl_keys Tab Tab; cl_type "Doe"; cl_keys Tab
cl_type "0000012345"; cl_keys Tab; cl_type "Employee"; cl_keys Tab
cl_type "dana@example.gov"
need cl_cycle "Dana's blank key chosen" "< Virtual PCD 00 01 > +blank" Right
need cl_wait "the PIN on the pad" "< on the reader's PIN pad >" 30
cl_shot "F2: the identity form, checked field by field"
vcardctl pinpad 1 24681357	# what Dana will type, twice
cl_keys F8
need cl_wait "issued" "Issued: job [0-9]+" 180
cl_shot "F8: the issuance, step by step (Dana typed her PIN on the pad)"

cl_keys Escape F3
need cl_wait "the help desk" "Doe, Dana +person_id 0000012345" 30
cl_shot "F3: the help desk for the card in the reader"
cl_keys F4
need cl_wait "the audit log" "Filter: none" 30
cl_keys v
need cl_wait "verified" "audit log intact" 60
cl_shot "F4: the audit log, every row under the operator, verified"
cl_keys F10
need cl_wait "F10 quits" "console-exit=0" 30
echo
echo "(end of the console session: every screen above came as expected)"
