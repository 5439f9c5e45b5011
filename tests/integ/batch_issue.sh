#!/usr/bin/env bash
# batch_issue.sh: `pivstation batch` of 12 people on 4 virtual readers
# (usb-keys), cards fed as they are issued (a card the store shows issued
# is pulled and kept, a fresh one put in).  Every person is issued exactly
# once: checked through the store (rows, jobs, devices, certificates,
# escrow, audit chain) and by reading every card back with pivstation diag
# and yubico-piv-tool (the store's certificates, a CHUID signature that
# verifies, the FASC-N of the results file, the PIN of the PIN mailer).
# Then the same command again finds nothing to do.  --json events, the
# results and PIN-mailer files; APDUs are counted (the same number for
# every card), not timed.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --card 0:usb-key --card 1:usb-key \
		--card 2:usb-key --card 3:usb-key --card-args 0 -v --card-args 1 -v \
		--card-args 2 -v --card-args 3 -v -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
. "$ROOT/tests/integ/lib/batch_lib.sh"

bl_setup >setup.log 2>&1
check "station home and CA" test -s "$BL_DIR/kra-plain.key" || { cat setup.log >&2; tl_done; exit 1; }
bl_people 12 people.csv
check_out "--check: 12 rows, every one good" '^people.csv: 12 rows, every one good$' \
	"$P" batch --home "$BL_HOME" people.csv --check

bl_feeder_start 12 0 1 2 3
"$P" batch --home "$BL_HOME" people.csv --json >events.jsonl 2>batch.err
rc=$?
bl_feeder_stop
check "batch exits 0" test $rc = 0 || tail -20 batch.err >&2
check_out "the summary says complete, 12 issued now" '^true 12 12 0$' \
	jq -r 'select(.event == "summary") | "\(.complete) \(.progress.issued) \(.progress.issued_now) \(.progress.failed)"' events.jsonl
check_out "12 rows done, each once" '^12$' \
	jq -s '[.[] | select(.event == "row" and .state == "done") | .row] | unique | length' events.jsonl
check_out "no row done twice" '^12$' \
	jq -s '[.[] | select(.event == "row" and .state == "done")] | length' events.jsonl
check_out "all four readers issued cards" '^4$' \
	jq -s '[.[] | select(.event == "row" and .state == "done") | .reader] | unique | length' events.jsonl
check_out "every step of every card reported, 15 per card" '^180$' \
	jq -s '[.[] | select(.event == "step" and .index > 0 and .state == "done")] | length' events.jsonl
check_out "every card took the same number of APDUs, at most 40" '^true$' \
	jq -s '[.[] | select(.event == "row" and .state == "done") | .apdus] |
		(unique | length == 1) and all(. > 0 and . <= 40)' events.jsonl
echo "summary: batch of 12 on 4 readers: APDUs per card $(jq -s -c '[.[] | select(.event == "row" and .state == "done") | .apdus] | sort' events.jsonl)" >&2

check "the store: 12 people issued exactly once" bl_verify_store 12
check_out "results file: a line per row, all issued" '^12$' \
	bash -c "awk -F, 'NR > 1 && /,issued,/' people.results.csv | wc -l"
check_out "PIN mailer 0600" '^600$' stat -c %a people.pins.csv
check_out "PIN mailer: a line per card, all issued" '^12$' \
	bash -c "awk -F, 'NR > 1 && \$(NF-1) == \"issued\"' people.pins.csv | wc -l"
check "PINs follow [pin] (8 digits, none twice)" test "$(awk -F, 'NR > 1 { print $NF }' \
	people.pins.csv | grep -cE '^[0-9]{8}$')" = 12
check_out "no PIN in the store, the audit log or the events" '^0$' \
	bash -c 'n=0; for p in $(awk -F, "NR > 1 { print \$NF }" people.pins.csv); do
		grep -q "$p" events.jsonl batch.err && n=$((n + 1))
		sqlite3 "'"$BL_HOME"'/store.db" .dump | grep -q "$p" && n=$((n + 1))
	done; echo $n'
BL_MAILER=$TL_TMP/people.pins.csv BL_RESULTS=$TL_TMP/people.results.csv
check "every card read back (diag, yubico-piv-tool, mailer PIN)" bl_verify_cards

# ---- run again: nothing to do ------------------------------------------------
"$P" batch --home "$BL_HOME" people.csv --plain >again.out 2>again.err
check "the same command again exits 0" test $? = 0
check_out "... with nothing left to do" '12 issued \(0 now, 12 before\)' cat again.out
check "the store still has 12 people issued once" bl_verify_store 12
tl_done
