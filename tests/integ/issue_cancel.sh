#!/usr/bin/env bash
# issue_cancel.sh: a person's issuance is interrupted after certificates
# exist and the card is lost for good (vcard pulled after 20 of the 31
# APDUs, never back).  Another card is refused while the job runs ("put
# that card back").  `pivstation job list` shows the job; `pivstation job
# cancel` revokes its live certificates (keyCompromise), terminates the
# device, keeps the escrow envelopes and is audited; `pivstation ca crl`
# lists the revoked serials; the same identity is then issued onto a
# fresh usb-key: exactly one active certificate per slot, audit intact.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key --card 1:usb-key
. "$PV_ROOT/tests/sweep/issue_lib.sh"

iss_setup
check "station home template and CA" test -s "$ISS_DIR/kra-plain.key" || { tl_done; exit 1; }
H=$(iss_home cancel)
D=$ISS_DIR
PERSON=$(jq -r .person_id "$ISS_DIR/identity.json")

# ---- the issuance onto card 0 stops after 20 APDUs; the card is gone --------------------
check "card 0 restarted, pulled after 20 APDUs for good" iss_fresh_card 0 --fault remove-after=20
iss_issue "$H" 0 "$D/run1.log"; rc=$?
check "pulled card: exit 3 (got $rc)" test "$rc" = 3 || tail -5 "$D/run1.log" >&2
iss_sql "$H" "SELECT serial FROM certificates WHERE status = 'active' ORDER BY serial" >"$D/live.txt"
n_live=$(wc -l <"$D/live.txt")
check "certificates were issued before the pull ($n_live live)" test "$n_live" -ge 1
JOB=$(iss_sql "$H" "SELECT id FROM jobs WHERE state = 'running'")
DEV=$(iss_sql "$H" "SELECT device_id FROM jobs WHERE state = 'running'")
SERIAL=$(iss_sql "$H" "SELECT serial FROM devices WHERE id = '$DEV'")
check "one running job, bound to a device with a serial" test -n "$JOB" -a -n "$SERIAL"
ESC_BEFORE=$(iss_sql "$H" "SELECT group_concat(id || kind || current || hex(fingerprint)) FROM escrow")
check "escrow records exist before the cancel" test -n "$ESC_BEFORE"

# ---- another card is refused while the job runs ----------------------------------------
iss_issue "$H" 1 "$D/refused.log"; rc=$?
check "another card while the job runs: refused (exit $rc)" test "$rc" -ne 0
check_out "refusal says to put the card back" "put that .* back" cat "$D/refused.log"

# ---- job list ----------------------------------------------------------------------------
"$P" job list --home "$H" --json >"$D/list.json"
check_out "job list --json: the one running job" "^$JOB $PERSON $SERIAL running [0-9]+$" \
	jq -r '.jobs[] | "\(.id) \(.person) \(.serial) \(.state) \(.steps_done)"' "$D/list.json"
check_out "job list --json: reader and last step done" '^Virtual PCD.* key-' \
	jq -r '.jobs[0] | "\(.reader) \(.last_step_done)"' "$D/list.json"
check_out "job list (text) names the job and the serial" "^job $JOB +issue +running.*$PERSON" \
	"$P" job list --home "$H"
check_out "job list (text): device serial" "serial $SERIAL" "$P" job list --home "$H"

# ---- job cancel: refusals ---------------------------------------------------------------
"$P" job cancel "$JOB" --home "$H" >/dev/null 2>"$D/err"; rc=$?
check "job cancel without --reason: usage (exit $rc)" test "$rc" = 2
"$P" job cancel 9999 --home "$H" --reason lost >/dev/null 2>"$D/err"; rc=$?
check "job cancel of an unknown job: refused as bad input (exit $rc)" test "$rc" = 6
check_out "unknown job: the message names it" "no job 9999" cat "$D/err"
check_out "refusals changed nothing" "^$n_live$" \
	iss_sql "$H" "SELECT count(*) FROM certificates WHERE status = 'active'"

# ---- job cancel -------------------------------------------------------------------------
check "job cancel --reason" sh -c "'$P' job cancel '$JOB' --home '$H' --json \
	--reason 'card lost in transit' >'$D/cancel.json'"
check_out "cancel --json: all live certificates revoked, device terminated" \
	"^$n_live true $(paste -sd, "$D/live.txt")\$" \
	jq -r '"\(.n_revoked) \(.device_terminated) \(.revoked | sort | join(","))"' "$D/cancel.json"
check_out "cancel --json: the job, its state and its device" "^$JOB cancelled $DEV\$" \
	jq -r '"\(.job) \(.state) \(.device_id)"' "$D/cancel.json"
check_out "store: the job cancelled with the reason" '^cancelled\|.*card lost in transit' \
	iss_sql "$H" "SELECT state || '|' || detail FROM jobs WHERE id = $JOB"
check_out "store: the device terminated" '^terminated$' \
	iss_sql "$H" "SELECT status FROM devices WHERE id = $DEV"
check_out "store: its certificates revoked, keyCompromise (1)" "^$n_live\|$n_live$" \
	iss_sql "$H" "SELECT count(*) || '|' || sum(reason = 1) FROM certificates
		WHERE device_id = $DEV AND status = 'revoked' AND serial IN
		($(sed "s/.*/'&'/" "$D/live.txt" | paste -sd,))"
check_out "store: nothing of the device is live" '^0$' \
	iss_sql "$H" "SELECT count(*) FROM certificates WHERE device_id = $DEV AND status <> 'revoked'"
check "store: escrow records kept as they were" \
	test "$(iss_sql "$H" "SELECT group_concat(id || kind || current || hex(fingerprint)) FROM escrow")" = "$ESC_BEFORE"
check_out "audit: job.cancel by the operator, with the reason" \
	'^integ job\.cancel job:[0-9]+ .*card lost in transit' \
	sh -c "'$P' audit show --home '$H' --json | jq -r '.rows[] | select(.action == \"job.cancel\") |
		\"\(.actor) \(.action) \(.object) \(.detail | tostring)\"'"
check_out "job list: no running job left" '^0$' \
	sh -c "'$P' job list --home '$H' --json | jq '.jobs | length'"
check_out "job list --all: the job, cancelled" "^$JOB cancelled terminated$" \
	sh -c "'$P' job list --all --home '$H' --json | jq -r '.jobs[] | \"\(.id) \(.state) \(.device_status)\"'"
"$P" job cancel "$JOB" --home "$H" --reason again >/dev/null 2>"$D/err"; rc=$?
check "a second cancel is refused (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 2
check_out "second cancel: says it is cancelled already" "cancelled already" cat "$D/err"

# ---- the CRL lists the revoked serials (Key Compromise) ----------------------------------
check "ca crl" sh -c "'$P' ca crl --home '$H' >/dev/null"
openssl crl -in "$H/ca/crl.pem" -noout -text >"$D/crl.txt"
# openssl prints serials in upper case without leading zero bytes
sed -nE 's/^ *Serial Number: *([0-9A-F]+)$/\1/p' "$D/crl.txt" | tr 'A-F' 'a-f' | sort >"$D/crl.serials"
while read -r s; do
	check "CRL lists revoked serial $s" grep -qx "$(sed -E 's/^(00)+//' <<<"$s")" "$D/crl.serials"
done <"$D/live.txt"
check_out "CRL reasons: Key Compromise for each" "^$n_live$" grep -c "Key Compromise" "$D/crl.txt"

# ---- the same identity onto a fresh card -------------------------------------------------
iss_issue "$H" 1 "$D/run2.log"; rc=$?
check "the same identity onto card 1: issued (exit $rc)" test "$rc" = 0 || tail -8 "$D/run2.log" >&2
check_out "jobs: one cancelled, one done, none running" '^cancelled\|done$' \
	iss_sql "$H" "SELECT group_concat(state, '|') FROM (SELECT state FROM jobs ORDER BY id)"
check_out "exactly one active certificate per slot, all on the new, active device" \
	"^4\|4\|1\|active\|0$" \
	iss_sql "$H" "SELECT count(*) || '|' || count(distinct c.slot) || '|' ||
		count(distinct c.device_id) || '|' || group_concat(distinct d.status) || '|' ||
		sum(c.device_id = $DEV) FROM certificates c JOIN devices d ON d.id = c.device_id
		WHERE c.status = 'active'"
check "the lost card's escrow rows unchanged" test \
	"$(iss_sql "$H" "SELECT group_concat(id || kind || current || hex(fingerprint)) FROM escrow WHERE device_id = $DEV")" \
	= "$ESC_BEFORE"
"$P" job cancel "$(iss_sql "$H" "SELECT id FROM jobs WHERE state = 'done'")" --home "$H" \
	--reason late >/dev/null 2>"$D/err"; rc=$?
check "cancelling the done job is refused (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 2
check_out "done job: says so" "is done already" cat "$D/err"
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
