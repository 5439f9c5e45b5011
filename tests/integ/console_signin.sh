#!/usr/bin/env bash
# console_signin.sh: `pivstation console` driven in tmux (send-keys,
# capture-pane) against virtual cards on PIN-pad readers:
#  - sign-in: a valid card that is no operator's is refused without a PIN
#    try spent; an operator's card with a wrong PIN is refused with the
#    tries left; the right PIN signs in; the PIN typed on the reader's pad
#    signs in too; each attempt is in the audit log, the refusals under
#    the station's actor and the sign-in under the operator;
#  - the idle lock (--idle-lock), and unlocking to the same screen;
#  - the lock when the operator's card leaves its reader;
#  - resize between 80x24 and 200x60 (the readers panel moves to the side
#    and back, the screen keeps its text);
#  - F1 help, monochrome with NO_COLOR.
# Assertions are on the screen's text, never its layout.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --pinpad --card 0:usb-key --card 1:usb-key \
		--card 2:usb-key -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
unset PIVSTATION_HOME PIVSTATION_CA_PASSPHRASE PIVSTATION_KRA_PASSPHRASE
. "$ROOT/tests/sandbox/console_lib.sh"
trap 'cl_stop; rm -rf "$TL_TMP"' EXIT

check "station with an operator card in slot 0" cl_station
# Bob has a valid card of this station, and is no operator.
jq -n '{given_name: "Bob", family_name: "Bystander", person_id: "0000000002",
	affiliation: "Employee"}' >bob.json
check "a card for Bob (no operator) in slot 2" cl_issue 2 bob.json 11223344
# tries SLOT: the PIN tries left as yubico-piv-tool reads them; "-1" is
# its "could not tell" (the console's reader watch had the card at that
# moment), asked again, up to 5 times.
tries() {
	local i t
	for ((i = 0; i < 5; i++)); do
		t=$(yubico-piv-tool -r "$(vcardctl reader "$1")" -a status \
			2>/dev/null | sed -n 's/^PIN tries left:[[:space:]]*//p')
		[ -n "$t" ] && [ "$t" != -1 ] && break
		sleep 0.5
	done
	echo "$t"
}
sqlq() { sqlite3 "$H/store.db" "$1"; }

check "tmux at 80x24" cl_start 80 24
cl_console --idle-lock 4
cl_wait "the sign-in screen" "Operator sign-in"
cl_wait "the readers panel shows the operator's card as issued" \
	"Virtual PCD 00 00 +issued +Operator, Olivia"
cl_wait "... the blank card" "Virtual PCD 00 01 +blank"

# ---- refused: Bob's card --------------------------------------------------------
cl_keys Down Down		# reader 0 -> 1 -> 2
cl_wait "reader 2 chosen" "Virtual PCD 2 00 00 +\(Up/Down\)"
cl_type 55555555; cl_keys Enter
cl_wait "Bob's card: not an operator's card" "not an operator's card"
check_out "no PIN try spent on Bob's card" '^3$' tries 2
check_out "the refusal is audited under the station's actor" \
	'^uid [0-9]+.*\|operator\.signin-refused\|.*not an operator' \
	sqlq "select actor||'|'||action||'|'||detail from audit where action like 'operator.signin%' order by seq"

# ---- refused: wrong PIN on the operator's card ------------------------------------
cl_keys Up Up
cl_wait "reader 0 chosen" "Virtual PCD 00 00 +\(Up/Down\)"
cl_type 12121212; cl_keys Enter
cl_wait "wrong PIN: the tries left" "wrong PIN \(2 tries left\)"
check_out "one try spent" '^2$' tries 0

# ---- signed in ----------------------------------------------------------------------
cl_type "$OP_PIN"; cl_keys Enter
cl_wait "signed in" "Signed in as olivia"
cl_wait "the header names the operator and roles" "olivia \[administrator\]"
check_out "the sign-in is audited under olivia" '^olivia\|operator\.signin\|operator:olivia$' \
	sqlq "select actor||'|'||action||'|'||object from audit where action = 'operator.signin'"
check_out "the PIN tries are back to 3, and the card is not left unlocked" \
	'^3$' tries 0

# ---- help ----------------------------------------------------------------------------
cl_keys F1
cl_wait "F1 shows the keys" "Any key closes this help"
cl_keys x
cl_gone "any key closes it" "Any key closes this help" 10
cl_keys '?'
cl_wait "? shows them too" "Any key closes this help"
cl_keys Escape

# ---- idle lock and unlock -----------------------------------------------------------------
cl_keys F4
cl_wait "the audit screen" "Filter: none"
cl_wait "idle for 4 s: locked" "The console is locked" 30
cl_wait "... saying why" "Locked \(idle\)"
check_out "the lock is audited" '^olivia\|console\.lock\|.*idle' \
	sqlq "select actor||'|'||action||'|'||detail from audit where action = 'console.lock'"
cl_type "$OP_PIN"; cl_keys Enter
cl_wait "unlocked back to the same screen" "Filter: none"

# ---- the operator's card pulled: locked -------------------------------------------------------
check "the operator card leaves its reader" vcardctl stop 0
cl_wait "locked when the card left" "Locked \(operator card removed\)" 30
check "the card comes back" vcardctl start 0
cl_wait "the card is read again" "Virtual PCD 00 00 +(issued|operator card) +Operator" 30
cl_keys Enter
cl_wait "the pad is asked for when no PIN is typed" "PIN pad" 10
check "the operator types the PIN on the pad" vcardctl pinpad 0 "$OP_PIN"
cl_wait "unlocked with the PIN typed on the pad" "Filter: none" 60
check_out "the pad's VERIFY carried the PIN" 'VERIFY slot=0 sw=9000' \
	bash -c "vcardctl pinpad-log 0 | tail -1"

# ---- resize ------------------------------------------------------------------------------------
cl_keys Escape
cl_wait "the menu" "Issue a card or key"
cl_resize 200 60
cl_wait "200x60: still the menu" "Issue a card or key" 10
cl_wait "200x60: the readers on the side, two lines each" "^.{140,}Virtual PCD 00 01" 10
cl_resize 80 24
cl_wait "80x24 again: the readers on top" "^│.{0,3}1 Virtual PCD 00 01 +blank" 10
cl_wait "... and the menu" "Issue a card or key" 10

# ---- quit ----------------------------------------------------------------------------------------
cl_keys F10
cl_wait "F10 quits" "console-exit=0" 30
check_out "the sign-out is audited" '^olivia\|operator\.signout' \
	sqlq "select actor||'|'||action from audit where action = 'operator.signout'"

# ---- monochrome ------------------------------------------------------------------------------------
cl_clear
CL_ENV="env NO_COLOR=1" cl_console
cl_wait "NO_COLOR: the console runs" "Operator sign-in"
cl_keys F10
cl_wait "... and quits" "console-exit=0" 30
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
