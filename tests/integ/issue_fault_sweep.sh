#!/usr/bin/env bash
# issue_fault_sweep.sh: a card pulled at APDU k of `pivstation issue`, put
# back, and the same command run again finishes the issuance (issue 5,
# "Done means": the fault sweep).
#
# A reference issuance onto a fresh usb-key vcard gives N, the APDUs of a
# full issuance (its trace; the vcard's count must agree).  Then, for each k
# chosen: a fresh station home (a copy of one template) and a factory-fresh
# card with `--fault remove-after=k`; the issuance must stop with exit 3
# (card gone) and nothing done in the store; the vcard is restarted on the
# same state file without the fault; the same command again must complete,
# resuming the job when the first run had registered one; then
# iss_verify (tests/sweep/issue_lib.sh): one active certificate per slot,
# one current escrow envelope for the card's 9D key (it opens with the KRA
# key to that key), the escrowed PUK is the card's, `audit verify` passes,
# the card's certificates are the store's and its keys sign / decrypt for
# them.  k = N must complete in one go with no fault fired: N is exact.
#
#   PV_SWEEP_KS=sample (default)  k = 1; the last APDU before SET
#                       MANAGEMENT KEY, before IMPORT KEY (the 9D key is
#                       escrowed, not on the card: made and escrowed again;
#                       on a piv-card GENERATE 9D) and before the
#                       certificates are written; the PUK change and the
#                       import (or 9D GENERATE) themselves; N-1 (the
#                       reference issuance stands for k = N: it used
#                       exactly N APDUs, and is checked like the others)
#   PV_SWEEP_KS=all     every k from 1 to N (`make check-sweep`)
#   PV_SWEEP_KS="3 7"   those k
#   PV_SWEEP_JOBS=J     J cards (readers) at once, one k each (default 1)
#   PV_SWEEP_SECOND=m   pull the card again at APDU m of the second run (a
#                       resume interrupted in turn; it may also complete
#                       within m), then a third run must complete
#   PV_SWEEP_PROFILE=piv-card  a plain PIV card (short APDUs, chaining, GET
#                       RESPONSE; no IMPORT: [escrow] policy = optional)
#                       instead of the usb-key
#
# Counts APDUs and checks states only; the times printed are information.
. "$(dirname "$0")/../sandbox/testlib.sh"
J=${PV_SWEEP_JOBS:-1}
args=()
for ((i = 0; i < J; i++)); do
	args+=(--card "$i:${PV_SWEEP_PROFILE:-usb-key}" --card-args "$i" -v)
done
tl_sandbox "${args[@]}"
. "$PV_ROOT/tests/sweep/issue_lib.sh"
export ISS_PROFILE=${PV_SWEEP_PROFILE:-usb-key}
t_start=$(date +%s)

iss_setup
check "station home template and CA" test -s "$ISS_DIR/kra-plain.key" || { tl_done; exit 1; }

# ---- the reference issuance: N ---------------------------------------------------------
iss_fresh_card 0
H=$(iss_home ref)
printf '%s\n' "$ISS_PIN" | "$P" issue --home "$H" -r "$(vcardctl reader 0)" \
	--identity "$ISS_DIR/identity.json" --pin-stdin --trace "$ISS_DIR/ref.trace" \
	>"$ISS_DIR/ref.log" 2>&1
check "reference issuance completes" test $? -eq 0 || { cat "$ISS_DIR/ref.log" >&2; tl_done; exit 1; }
# One line per command APDU in the trace, "INS P1 P2" in hex.
grep '^>' "$ISS_DIR/ref.trace" | awk '{ print $3, $4, $5 }' >"$ISS_DIR/ref.ins"
N=$(wc -l <"$ISS_DIR/ref.ins")
check_out "reference issuance: the vcard counted N = $N APDUs too" "^$N\$" iss_apdus 0
check "reference issuance: store and card" iss_verify "$H" 0
# The APDU number of the first command matching INS (and P1 P2) regex.
first() { grep -nE -m1 "^$1" "$ISS_DIR/ref.ins" | cut -d: -f1; }

case ${PV_SWEEP_KS:-sample} in
all) KS=$(seq 1 "$N") ;;
sample)
	# SET MANAGEMENT KEY (a usb-key only), the PUK change, the 9D key
	# (IMPORT on a usb-key, GENERATE on a piv-card), the first PUT DATA after
	# it (the certificates)
	k_mgm=$(first 'ff ff ff'); k_puk=$(first '24 00 81')
	k_imp=$(first 'fe '); [ -n "$k_imp" ] || k_imp=$(first '47 00 9d')
	k_crt=$(awk -v imp="$k_imp" 'NR > imp && $1 == "db" { print NR; exit }' "$ISS_DIR/ref.ins")
	check "sample: the trace has the PUK change, the 9D key, the certificates" \
		test -n "$k_puk" -a -n "$k_imp" -a -n "$k_crt"
	KS=$(printf '%s\n' 1 ${k_mgm:+$((k_mgm - 1))} "$k_puk" $((k_imp - 1)) "$k_imp" \
		$((k_crt - 1)) $((N - 1)) | sort -n -u) ;;
*) KS=$PV_SWEEP_KS ;;
esac
KS=$(tr '\n' ' ' <<<"$KS")
tl_log "# $ISS_PROFILE: N = $N APDUs; k = $KS; $J card(s) at once"

# ---- one k on card slot s: prints one summary line, fails on any fault --------------------
sweep_one() {
	local k=$1 s=$2 h l1 l2 rc jobs resumed step t0 ins
	t0=$(date +%s)
	l1=$ISS_DIR/k$k.run1.log; l2=$ISS_DIR/k$k.run2.log
	ins=$(sed -n "$((k + 1))p" "$ISS_DIR/ref.ins")
	h=$(iss_home "k$k") || { echo "k=$k: no home"; return 1; }
	iss_fresh_card "$s" --fault "remove-after=$k" || { echo "k=$k: vcard did not start"; return 1; }
	iss_issue "$h" "$s" "$l1"; rc=$?
	if [ "$k" -ge "$N" ]; then
		[ $rc -eq 0 ] || { echo "k=$k: a full issuance within $k APDUs failed (exit $rc)"; tail -5 "$l1"; return 1; }
		[ "$(vcardctl stats "$s" | sed -nE 's/.*"faults":([0-9]+).*/\1/p')" = 0 ] ||
			{ echo "k=$k: the card was pulled: the issuance took more than $N APDUs"; return 1; }
		resumed=no step=none
		# the checks below talk to the card: without the fault
		vcardctl stop "$s" >/dev/null && vcardctl start "$s" -v >/dev/null ||
			{ echo "k=$k: the card did not come back"; return 1; }
	else
		[ $rc -eq 3 ] || { echo "k=$k: the pulled card should stop the issuance with exit 3, got $rc"; tail -5 "$l1"; return 1; }
		jobs=$(iss_sql "$h" "SELECT count(*) || '/' || total(state = 'done') FROM jobs")
		case $jobs in 0/0.0|1/0.0) ;; *) echo "k=$k: after the pull, jobs (count/done) = $jobs"; return 1 ;; esac
		step=$(sed -nE 's/^issue: \[ *[0-9]+\/[0-9]+\] (\S+) +failed.*/\1/p' "$l1" | tail -1)
		step=${step:-inspect}
		if [ -n "${PV_SWEEP_SECOND:-}" ]; then
			vcardctl stop "$s" >/dev/null &&
				vcardctl start "$s" -v --fault "remove-after=$PV_SWEEP_SECOND" >/dev/null ||
				{ echo "k=$k: the card did not come back"; return 1; }
			iss_issue "$h" "$s" "$ISS_DIR/k$k.run1b.log"; rc=$?
			case $rc in
			0) step="$step, then complete" ;;
			3) step="$step, then $(sed -nE 's/^issue: \[ *[0-9]+\/[0-9]+\] (\S+) +failed.*/\1/p' \
				"$ISS_DIR/k$k.run1b.log" | tail -1)" ;;
			*) echo "k=$k: the second run, pulled at $PV_SWEEP_SECOND, exit $rc"
			   tail -5 "$ISS_DIR/k$k.run1b.log"; return 1 ;;
			esac
			[ $rc -eq 0 ] ||
				jobs=$(iss_sql "$h" "SELECT count(*) || '/' || total(state = 'done') FROM jobs")
		fi
		vcardctl stop "$s" >/dev/null && vcardctl start "$s" -v >/dev/null ||
			{ echo "k=$k: the card did not come back"; return 1; }
		if [ -e "$ISS_DIR/k$k.run1b.log" ] && [ "${step##*, then }" = complete ]; then
			l2=$ISS_DIR/k$k.run1b.log	# the second run completed
		else
			iss_issue "$h" "$s" "$l2"; rc=$?
			[ $rc -eq 0 ] || { echo "k=$k: the re-run failed (exit $rc)"; tail -8 "$l2"; return 1; }
		fi
		resumed=no
		grep -q "resuming the person's job" "$l2" && resumed=yes
		if [ "$jobs" = 1/0.0 ] && [ $resumed = no ]; then
			echo "k=$k: the first run left a job, the re-run did not resume it"; return 1
		fi
		if [ "$jobs" = 0/0.0 ] && [ $resumed = yes ]; then
			echo "k=$k: resumed a job that was never registered"; return 1
		fi
	fi
	iss_verify "$h" "$s" 2>&1 || { echo "k=$k: invariants fail (above)"; return 1; }
	echo "k=$k ok: pulled before '${ins:-nothing}' (step $step), resumed=$resumed, $(($(date +%s) - t0)) s"
	rm -rf "$h"
}

worker() {
	local j=$1 i=0 k
	for k in $KS; do
		if [ $((i % J)) -eq "$j" ]; then
			if sweep_one "$k" "$j" >"$ISS_DIR/res.$k" 2>&1; then
				echo pass >>"$ISS_DIR/res.$k"
			else
				echo fail >>"$ISS_DIR/res.$k"
			fi
		fi
		i=$((i + 1))
	done
}

pids=()
for ((j = 0; j < J; j++)); do worker "$j" & pids+=($!); done
wait "${pids[@]}"

passed=0
for k in $KS; do
	if check "k=$k: pulled, put back, re-run completes, invariants hold" \
		grep -qx pass "$ISS_DIR/res.$k"; then
		passed=$((passed + 1))
		head -1 "$ISS_DIR/res.$k" >&2
	else
		sed 's/^/    /' "$ISS_DIR/res.$k" >&2
		for f in "$ISS_DIR/k$k".run*.log; do
			[ -e "$f" ] && { echo "    -- $f" >&2; tail -6 "$f" | sed 's/^/    /' >&2; }
		done
	fi
done
tl_log "# sweep ($ISS_PROFILE): N = $N, $passed of $(wc -w <<<"$KS") k passed, $(($(date +%s) - t_start)) s"
tl_done
