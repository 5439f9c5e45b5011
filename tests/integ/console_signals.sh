#!/usr/bin/env bash
# console_signals.sh: `pivstation console` gives the terminal back as it
# found it (`stty -a` the same before and after, the shell's screen back)
# on every way out:
#  - Ctrl-C at the sign-in screen: exit 130;
#  - Ctrl-C in the middle of an issuance: exit 130, and the job is kept:
#    `pivstation issue` with the same person finishes it;
#  - SIGTERM (143) and SIGHUP (129) from another process;
#  - a crash signal (SIGSEGV): the process dies of it, the terminal is
#    restored first;
#  - the normal way: F10.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --pinpad --card 0:usb-key --card 1:usb-key \
		--card-args 1 '--latency apdu=80' -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
unset PIVSTATION_HOME PIVSTATION_CA_PASSPHRASE PIVSTATION_KRA_PASSPHRASE
. "$ROOT/tests/sandbox/console_lib.sh"
trap 'cl_stop; rm -rf "$TL_TMP"' EXIT
sqlq() { sqlite3 "$H/store.db" "$1"; }

check "station with an operator card in slot 0" cl_station
check "tmux at 80x24" cl_start 80 24

# same_tty DESC: stty -a after the console is what it was before.
same_tty() {
	local i
	for ((i = 0; i < 50; i++)); do
		[ -s stty.after ] && break
		sleep 0.2
	done
	check "$1: stty -a unchanged" diff stty.before stty.after
	rm -f stty.before stty.after console.pid
}
# sig_console SIG EXIT: the console at its sign-in screen ends by SIG.
sig_console() {
	local sig=$1 want=$2
	cl_clear
	cl_console
	cl_wait "$sig: the console runs" "Operator sign-in"
	check "$sig: sent" kill "-$sig" "$(cat console.pid)"
	cl_wait "$sig: exit $want" "console-exit=$want" 30
	cl_gone "$sig: the console's screen is gone" "Operator sign-in" 10
	same_tty "$sig"
}

# ---- Ctrl-C at the sign-in screen --------------------------------------------------
cl_console
cl_wait "the console runs" "Operator sign-in"
cl_keys C-c
cl_wait "Ctrl-C: exit 130" "console-exit=130" 30
cl_gone "Ctrl-C: the console's screen is gone" "Operator sign-in" 10
same_tty "Ctrl-C"

# ---- Ctrl-C during an issuance ----------------------------------------------------------
cl_clear
cl_console
cl_wait "the console runs" "Operator sign-in"
cl_type "$OP_PIN"; cl_keys Enter
cl_wait "signed in" "Signed in as olivia"
cl_keys F2
cl_wait "the form, the slow card chosen" "< Virtual PCD 00 01 > +blank"
cl_type "Gail"; cl_keys Tab Tab; cl_type "Going"; cl_keys Tab
cl_type "0000000009"; cl_keys Tab; cl_type "Employee"; cl_keys Tab
check "the cardholder will type a PIN on the pad" vcardctl pinpad 1 19283746
cl_keys F8
cl_wait "the issuance runs" "register: job [0-9]+" 60
cl_keys C-c
cl_wait "Ctrl-C mid-issue: exit 130" "console-exit=130" 30
same_tty "Ctrl-C mid-issue"
check_out "the job is kept" '^running$' \
	sqlq "select state from jobs where person_id = (select id from people where person_id = '0000000009')"
jq -n '{given_name: "Gail", family_name: "Going", person_id: "0000000009",
	affiliation: "Employee"}' >gail.json
check "pivstation issue will need the pad too" vcardctl pinpad 1 19283746
"$P" issue --home "$H" -r 1 --identity gail.json --pin-pad \
	--passphrase-file pass </dev/null >resume.txt 2>&1
check_out "pivstation issue finishes that job" "resuming the person's job" cat resume.txt
check_out "... the same job, done" '^done$' \
	sqlq "select group_concat(state) from jobs where person_id = (select id from people where person_id = '0000000009')"

# ---- signals from another process ---------------------------------------------------------
sig_console TERM 143
sig_console HUP 129

# ---- a crash ---------------------------------------------------------------------------------------
cl_clear
cl_console
cl_wait "the console runs" "Operator sign-in"
check "SEGV: sent" kill -SEGV "$(cat console.pid)"
cl_wait "SEGV: the process died of it" "console-exit=(1|134|139)$" 30
cl_gone "SEGV: the console's screen is gone" "Operator sign-in" 10
same_tty "SEGV"

# ---- the normal way ------------------------------------------------------------------------------
cl_clear
cl_console
cl_wait "the console runs" "Operator sign-in"
cl_keys F10
cl_wait "F10: exit 0" "console-exit=0" 30
same_tty "F10"
tl_done
