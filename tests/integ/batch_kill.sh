#!/usr/bin/env bash
# batch_kill.sh: `pivstation batch` of 9 people on 3 readers killed with
# SIGKILL at 10 random moments, run again after each kill, then once more
# to the end (a feeder swaps each card the store shows issued, whatever
# the batch process is doing).  The end state is that of a batch never
# interrupted: every person issued exactly once, by exactly one job (no
# job abandoned, none cancelled), one active device each, four active
# certificates, the escrowed 9D key the card's, an audit chain that
# verifies; every card read back with pivstation diag and yubico-piv-tool,
# and each card's PIN the one its PIN-mailer line shows (the PIN of a job
# killed after it set the PIN is found again there).  Where each kill
# landed (steps of the running jobs) is printed, not judged.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --card 0:usb-key --card 1:usb-key \
		--card 2:usb-key --card-args 0 '-v --latency apdu=25' \
		--card-args 1 '-v --latency apdu=25' \
		--card-args 2 '-v --latency apdu=25' -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
. "$ROOT/tests/integ/lib/batch_lib.sh"
bl_setup >setup.log 2>&1
check "station home and CA" test -s "$BL_DIR/kra-plain.key" || { cat setup.log >&2; tl_done; exit 1; }
# 9C on the card as P-256 (fast), so the kills spread over every step.
sed -i 's/^slot_9c = rsa2048$/slot_9c = eccp256/' "$BL_HOME/pivstation.conf"
bl_people 9 people.csv 3000
export BL_CARD_ARGS='-v --latency apdu=60'
bl_feeder_start 9 0 1 2

# Where the batch was when it died: rows done, and the next step of each
# running job.
where() {
	bl_sql "SELECT (SELECT count(*) FROM batch_rows WHERE state = 'done') ||
	  ' done; running: ' || coalesce((SELECT group_concat(s, ',') FROM
	  (SELECT (SELECT name FROM job_steps WHERE job_id = j.id AND
	  state <> 'done' ORDER BY seq LIMIT 1) AS s FROM jobs j WHERE
	  j.state = 'running')), '-')" 2>/dev/null
}

kills=0 landed=()
for k in $(seq 1 10); do
	# A random moment once the run is under way (before it, sometimes).
	ms=$((RANDOM % 2500))
	"$P" batch --home "$BL_HOME" people.csv --json >run-$k.jsonl 2>run-$k.err &
	bp=$!
	[ $k -gt 2 ] && bl_wait_json run-$k.jsonl 'any(.event == "start")' 20
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	if kill -KILL $bp 2>/dev/null; then
		kills=$((kills + 1))
		wait $bp 2>/dev/null
		landed+=("kill $k at ${ms} ms$([ $k -gt 2 ] && echo " after the start"): $(where)")
	else
		wait $bp
		landed+=("run $k ended by itself (exit $?) before ${ms} ms")
	fi
done
# A late run may finish the last rows before its kill comes (the moments are
# random and the work shrinks with each run): most kills must land.
check "at least 8 of the 10 SIGKILLs landed ($kills)" test $kills -ge 8
"$P" batch --home "$BL_HOME" people.csv --json >final.jsonl 2>final.err
rc=$?
bl_feeder_stop
check "the last run completes the batch (exit 0)" test $rc = 0 || tail -5 final.err >&2
printf 'summary: %s\n' "${landed[@]}" >&2
check_out "... with every row issued" '^true 9$' \
	jq -r 'select(.event == "summary") | "\(.complete) \(.progress.issued)"' final.jsonl
check "the store: 9 people issued exactly once" bl_verify_store 9
check_out "one job per person, none abandoned or cancelled" "^9 9 0.0$" \
	bl_sql "SELECT count(*) || ' ' || count(DISTINCT person_id) || ' ' ||
	  total(state <> 'done') FROM jobs WHERE kind = 'issue'" 
check_out "no escrowed key or PUK twice" '^0$' bl_sql "SELECT count(*) FROM
	  (SELECT 1 FROM escrow GROUP BY kind, fingerprint HAVING count(*) > 1)"
check_out "PIN mailer: one line per card" '^9$' \
	bash -c "awk -F, 'NR > 1 && \$(NF-1) == \"issued\"' people.pins.csv | wc -l"
BL_MAILER=$TL_TMP/people.pins.csv BL_RESULTS=$TL_TMP/people.results.csv
check "every card read back; each PIN-mailer PIN verifies" bl_verify_cards
tl_done
