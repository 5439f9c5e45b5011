#!/usr/bin/env bash
# console_issue.sh: issuing at `pivstation console` (tmux, PIN-pad readers):
#  - the identity form checks each field as it is left, with the words
#    identity.json gets from `pivstation issue` (same rules, same text);
#  - a full issuance with the cardholder typing the PIN on the reader's
#    pad: the steps live, the summary; the card takes that PIN
#    (yubico-piv-tool), the pad saw the CHANGE REFERENCE DATA, the PIN is
#    on no screen;
#  - a person already enrolled picked with F7, the PIN typed twice on the
#    keyboard (masked), and the card pulled in the middle of the issuance:
#    the screen says what happened and that the job is kept; with the
#    card back, R resumes the same job to the end;
#  - Esc between steps: cancelled, the job kept, R finishes it;
#  - every row of the issuances audited under the operator, and the log
#    verifies.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --pinpad --card 0:usb-key --card 1:usb-key \
		--card 2:usb-key --card 3:usb-key --card 4:usb-key \
		--card-args 4 '--latency apdu=200' -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
unset PIVSTATION_HOME PIVSTATION_CA_PASSPHRASE PIVSTATION_KRA_PASSPHRASE
. "$ROOT/tests/sandbox/console_lib.sh"
trap 'cl_stop; rm -rf "$TL_TMP"' EXIT
sqlq() { sqlite3 "$H/store.db" "$1"; }
Y() { local s=$1; shift; yubico-piv-tool -r "$(vcardctl reader "$s")" "$@"; }

check "station with an operator card in slot 0" cl_station
jq -n '{given_name: "Carol", family_name: "Cardholder", person_id: "0000000003",
	affiliation: "Contractor", email: "carol@example.gov"}' >carol.json
check "Carol is enrolled (her first card, slot 3, by the CLI)" \
	cl_issue 3 carol.json 31415926

check "tmux at 80x24" cl_start 80 24
cl_console
cl_wait "the sign-in screen" "Operator sign-in"
cl_type "$OP_PIN"; cl_keys Enter
cl_wait "signed in" "Signed in as olivia"
cl_keys F2
cl_wait "the identity form" "given_name \*"
cl_wait "the blank card in reader 1 is chosen" "< Virtual PCD 00 01 > +blank"

# ---- the form's checks, in identity.json's words -------------------------------------
cl_type "Dana"; cl_keys Tab Tab
cl_type "Doe"; cl_keys Tab
cl_type "12345"; cl_keys Tab
cl_wait "person_id: 5 digits" "form: person_id: expected 10 digits, got 5" 10
cl_keys Tab		# affiliation left empty
cl_type "dana.example.gov"; cl_keys Tab
cl_wait "email: not an address" "form: email: not an address" 10
jq -n '{given_name: "Dana", family_name: "Doe", person_id: "0000012345",
	affiliation: "Employee", email: "dana.example.gov"}' >bad.json
check_fails_out "pivstation issue says the same of a file" \
	'bad.json: email: not an address' "$P" issue --home "$H" -r 1 \
	--identity bad.json --pin-stdin --passphrase-file pass </dev/null
cl_keys F8
cl_wait "F8 with errors: refused, the first bad field named" \
	"form: person_id: expected 10 digits" 10
cl_wait "... affiliation missing marked" "!affiliation" 10
# Fix them: person_id (the focus went back to it), affiliation, email.
cl_keys C-u; cl_type "0000012345"; cl_keys Tab
cl_type "Employee"; cl_keys Tab
cl_keys C-u; cl_type "dana@example.gov"; cl_keys Tab
cl_gone "no field marked bad" "^ !" 10

# ---- the PIN on the pad ------------------------------------------------------------------
PIN1=24681357
check "the cardholder will type a new PIN on the pad, twice" vcardctl pinpad 1 "$PIN1"
cl_keys F8
cl_wait "the issuance runs, its steps shown" "Issuing to Doe, Dana" 20
cl_wait "the summary" "Issued: job [0-9]+, device [0-9]+" 120
cl_wait "... the FASC-N and the four certificates" "cert 9E +[0-9a-f]{16,}" 5
check_out "the card takes the PIN typed on the pad" 'Successfully verified PIN' \
	Y 1 -a verify-pin -P "$PIN1"
check_out "the pad changed the PIN (CHANGE REFERENCE DATA)" 'MODIFY slot=1 sw=9000' \
	vcardctl pinpad-log 1
check "the PIN is on no screen" bash -c "! tmux -S '$CL_SOCK' capture-pane -p -t pv -S - | grep -q $PIN1"
check_out "the issuance is audited under olivia" '^olivia$' \
	sqlq "select distinct actor from audit where action = 'cert.add' and seq > (select max(seq) from audit where action = 'operator.signin')"
cl_keys Enter
cl_wait "Enter: the form for the next card" "given_name \*" 10

# ---- a person already enrolled, PIN on the keyboard, card pulled ---------------------------
# The usb-key in slot 2 is pulled at its 30th APDU from now (the watch reads
# it first, then the issuance starts) and back 1.5 s later.
check "card 2 restarted with the fault" vcardctl restart 2 --fault remove-after=30:1500
cl_keys F7
cl_wait "F7: find a person" "Find a person"
cl_type "Car"
cl_wait "Carol is found" "0000000003 +Cardholder, Carol" 10
cl_keys Enter
cl_wait "the form holds Carol" "person_id \* +0000000003" 10
cl_keys Tab Tab Tab Tab Tab Tab Tab Tab Tab Tab Tab Tab
cl_wait "the reader row" "^ +reader .*< Virtual PCD" 10
cl_keys Right
cl_wait "reader 2 chosen" "< Virtual PCD 2 00 00 > +blank" 10
cl_keys Tab
# the pad is preselected once the watch has read the card (slow under
# load); only then is Right the officer's switch to the keyboard
cl_wait "PIN entry: the pad, preselected" "< on the reader's PIN pad >" 30
cl_keys Right
cl_wait "PIN entry: the keyboard" "< typed here, twice >" 10
cl_keys F8
cl_wait "the PIN is asked" "New PIN" 10
cl_type 27182818; cl_keys Enter
cl_wait "... again" "Again, to confirm" 10
cl_type 27182818; cl_keys Enter
cl_wait "the issuance runs" "Issuing to Cardholder, Carol" 20
cl_wait "the card pulled: what happened" "no card in the reader|removed|communication with the card" 120
cl_wait "... and that the job is kept" "the job is kept: R resumes it" 10
cl_wait "... R resumes it" "R resumes job [0-9]+ \(kept\)" 10
check "the card is back" vcardctl ready 2
sleep 1
cl_keys r
cl_wait "R resumes the job" "Issuing to Cardholder, Carol" 20
cl_wait "... to the end" "Issued: job [0-9]+" 120
check_out "one job for the second card, resumed and done" '^done$' \
	sqlq "select state from jobs where person_id = (select id from people where person_id = '0000000003') order by id desc limit 1"
check_out "Carol's second card takes the PIN typed on the keyboard" \
	'Successfully verified PIN' Y 2 -a verify-pin -P 27182818
check "the keyboard PIN is on no screen" bash -c "! tmux -S '$CL_SOCK' capture-pane -p -t pv -S - | grep -q 27182818"

# ---- Esc between steps ------------------------------------------------------------------------
cl_keys Enter
cl_wait "the form again" "given_name \*" 10
cl_keys F11
# Carol's person_id by mistake: the stored person's other details are
# named, and nothing changes unless the officer says so.
cl_type "Eve"; cl_keys Tab Tab; cl_type "Early"; cl_keys Tab
cl_type "0000000003"; cl_keys Tab; cl_type "Employee"; cl_keys Tab
cl_keys Tab Tab Tab Tab Tab Tab Tab
cl_wait "the reader row" "^ +reader .*< Virtual PCD" 10
cl_cycle "reader 4 (a slow card) chosen" "< Virtual PCD 3 00 00 > +blank" Right
cl_keys F8
cl_wait "a person enrolled with other details: asked" "Update the person\?" 10
cl_wait "... each field named" "'Carol', given 'Eve'; family_name" 5
cl_keys n
cl_gone "n: back to the form" "Update the person\?" 10
check_out "... nothing changed" '^Carol$' \
	sqlq "select given_name from people where person_id = '0000000003'"
cl_keys Up Up Up Up Up Up Up Up Up C-u
cl_type "0000000005"
cl_wait "the person_id corrected" "person_id \* +0000000005" 10
check "the cardholder will type a PIN on the pad" vcardctl pinpad 4 16180339
cl_keys F8
cl_wait "the issuance runs" "Issuing to Early, Eve" 20
cl_wait "a step is done" "register: job [0-9]+" 30
cl_keys Escape
cl_wait "Esc: cancelled between steps" "cancelled before step" 120
cl_wait "... the job kept" "R resumes job [0-9]+ \(kept\)" 10
check_out "the job is running (kept)" '^running$' \
	sqlq "select state from jobs where person_id = (select id from people where person_id = '0000000005')"
cl_keys r
cl_wait "R finishes it" "Issued: job [0-9]+" 180
check_out "... the same job, done" '^done$' \
	sqlq "select group_concat(state) from jobs where person_id = (select id from people where person_id = '0000000005')"

cl_keys Escape
cl_wait "the menu" "Issue a card or key"
cl_keys F10
cl_wait "F10 quits" "console-exit=0" 30
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
