#!/usr/bin/env bash
# issue_resume.sh: `pivstation issue` killed (SIGKILL) or cut off by a
# restarted pcscd in the middle, then run again, finishes the job (issue 5
# §7), and the store and card hold what one clean issuance gives
# (iss_verify in tests/sweep/issue_lib.sh).
#
# Slot 0 (vcard -v, 250 ms per APDU until the last kill): one issuance
# killed four times, each time just after the card carried out a write and
# before its answer came back (the vcard logs the command, then sleeps,
# then answers: the kill lands in that sleep), so the card holds what the
# store has not recorded.
# Each run resumes the same job; the next one must find the write on the
# card and carry on from it:
#   SET MANAGEMENT KEY   -> the card already has the station's per-card key
#   CHANGE REFERENCE PUK -> the card already has the job's PUK
#   CHANGE REFERENCE PIN -> the card already has the PIN given
#   IMPORT KEY 9D        -> the escrowed key is on the card already (no
#                           second escrow envelope)
# Slot 1 (100 ms per APDU): killed once the PIN is set, the card's state
# is saved; run again, pcscd is restarted while the card makes the 9C key
# (the 9A certificate is recorded): exit 3 (no service), the job stays
# running.  The card comes back in its saved state, without the 9A key the
# store certified; the same command completes, revoking that certificate
# and issuing another for a new key.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key --card-args 0 '-v --latency apdu=250' \
	--card 1:usb-key --card-args 1 '-v --latency apdu=100'
. "$PV_ROOT/tests/sweep/issue_lib.sh"

iss_setup
check "station home template and CA" test -s "$ISS_DIR/kra-plain.key" || { tl_done; exit 1; }

# step_state HOME STEP: the state of the running issue job's step.
step_state() {
	iss_sql "$1" "SELECT s.state FROM job_steps s JOIN jobs j ON j.id = s.job_id
		WHERE j.kind = 'issue' AND j.state = 'running' AND s.name = '$2'"
}

# kill_at HOME SLOT RE LOG: run the issuance and SIGKILL it as soon as the
# vcard logs a command matching RE (it is then sleeping before answering).
kill_at() {
	local h=$1 s=$2 re=$3 log=$4 f from tailpid rc line
	f=$PV_SANDBOX_DIR/card$s.log
	from=$(($(wc -l <"$f") + 1))
	iss_bg_issue "$h" "$s" "$log"
	exec {fd}< <(exec timeout 120 tail -n "+$from" -f "$f")
	tailpid=$!
	if line=$(grep -m1 -E -- "$re" <&"$fd"); then
		kill -KILL "$ISS_PID" 2>/dev/null
		# information: how long after the card logged the command
		echo "$(date +%s.%N) ${line%% *}" >>"$ISS_DIR/kill-delays"
		rc=0
	else
		rc=1
	fi
	wait "$ISS_PID" 2>/dev/null
	kill "$tailpid" 2>/dev/null
	exec {fd}<&-
	return $rc
}

# ---- SIGKILL at five writes --------------------------------------------------------------
H=$(iss_home kill)
L=$ISS_DIR/kill
n=0
for point in \
	'ff ff ff|mgmt-key|the card already has this station.s per-card' \
	'24 00 81|set-puk|the card already has this job.s PUK' \
	'24 00 80|set-pin|the card already has the PIN given' \
	'fe 07 9d|key-9d|the escrowed key is on the card already'; do
	IFS='|' read -r apdu step note <<<"$point"
	n=$((n + 1))
	check "kill $n: SIGKILL while the card answers '$apdu'" \
		kill_at "$H" 0 "> 00 $apdu " "$L.$n.log"
	check_out "kill $n: the store has '$step' not done (the write is on the card only)" \
		'^(pending|failed)$' step_state "$H" "$step"
	[ $n -gt 1 ] && check_out "kill $n: that run resumed the job" \
		"resuming the person's job" cat "$L.$n.log"
	notes[n]=$note
done
check "kill: the escrow-9d step is done (the key went to escrow before the card)" \
	test "$(step_state "$H" escrow-9d)" = "done"
awk '{ printf "# kill %d landed %.0f ms after the card logged the command\n", NR, ($1 - $2) * 1000 }' \
	"$ISS_DIR/kill-delays" >&2
# The card comes back without its latency (same state file) for the rest.
check "the card again, without latency" vcardctl restart 0 -v
iss_issue "$H" 0 "$L.final.log"
check "after four kills, the same command completes" test $? -eq 0 ||
	tail -20 "$L.final.log" >&2
# Each run after a kill found the write of the one before on the card.
for i in 1 2 3 4; do
	if [ $i -lt 4 ]; then next=$L.$((i + 1)).log; else next=$L.final.log; fi
	check_out "kill $i: the next run saw the write on the card" "${notes[i]}" cat "$next"
done
check_out "kill: a single 9D escrow envelope was ever made" '^1$' \
	iss_sql "$H" "SELECT count(*) FROM escrow WHERE kind = '9d-key'"
check_out "kill: one job, done, resumed four times" '^1\|done$' \
	iss_sql "$H" "SELECT count(*), max(state) FROM jobs"
check "kill: store, escrow and card as after one clean issuance" iss_verify "$H" 0

# ---- pcscd restarted in the middle; then the card lost keys the store certified -----------
H=$(iss_home pcscd)
check "card 1: SIGKILL once the PIN is set" kill_at "$H" 1 "> 00 24 00 80 " "$ISS_DIR/pcscd.0.log"
ST=$(vcardctl state 1)
check "card 1: its state saved (PIN, PUK and management key set, no keys yet)" \
	bash -c "vcardctl stop 1 >/dev/null && cp '$ST' '$ISS_DIR/card1.saved' && vcardctl start 1 >/dev/null"
f=$PV_SANDBOX_DIR/card1.log
from=$(($(wc -l <"$f") + 1))
iss_bg_issue "$H" 1 "$ISS_DIR/pcscd.1.log"
check "pcscd: the card is making the 9C key (9A is certified)" \
	iss_wait_log 1 "$from" '> 00 47 00 9c '
check "pcscd: restarted" vcardctl pcscd-restart
wait "$ISS_PID"; rc=$?
check "pcscd: the interrupted issuance exits 3 (no service / card gone), not 0" \
	test $rc -eq 3 || tail -5 "$ISS_DIR/pcscd.1.log" >&2
# the error line names the step and says why (it once ended at the step)
check_out "pcscd: the error line says why the step failed" \
	'^pivstation: issue: .*(pcscd|PC/SC|service|reader|card).*$' \
	grep -m1 '^pivstation: issue: ' "$ISS_DIR/pcscd.1.log"
check_fails "pcscd: no error line that only names the job and step" \
	grep -E '^pivstation: issue: job [0-9]+, step [a-z0-9-]+$' "$ISS_DIR/pcscd.1.log"
check_out "pcscd: the job is left running, with 9A certified" '^running\|1$' \
	iss_sql "$H" "SELECT group_concat(state), (SELECT count(*) FROM certificates
		WHERE slot = 154 AND status = 'active') FROM jobs"
a9=$(iss_sql "$H" "SELECT serial FROM certificates WHERE slot = 154")
# The card comes back as it was before its keys were made (its saved
# state): the 9A key of the recorded certificate is no longer on it.
check "card 1: back in its saved state, without latency" \
	bash -c "vcardctl stop 1 >/dev/null && cp '$ISS_DIR/card1.saved' '$ST' && vcardctl start 1 -v >/dev/null"
iss_issue "$H" 1 "$ISS_DIR/pcscd.2.log"
check "the same command again completes" test $? -eq 0 ||
	tail -20 "$ISS_DIR/pcscd.2.log" >&2
check_out "... resuming the job" "resuming the person's job" cat "$ISS_DIR/pcscd.2.log"
check_out "... finding recorded certificates that no longer match the card" \
	"certs +redo +the card's keys no longer match" cat "$ISS_DIR/pcscd.2.log"
check_out "the 9A certificate of the lost key is revoked (superseded), another is active" \
	'^revoked\|4$' iss_sql "$H" "SELECT status, reason FROM certificates WHERE serial = '$a9'"
check "store, escrow and card as after one clean issuance" iss_verify "$H" 1
tl_done
