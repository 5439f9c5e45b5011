#!/usr/bin/env bash
# batch_policy.sh: what `pivstation batch` does with cards it cannot simply
# issue, as the operator asked:
#   - --reissue: a card that is not blank (a CHUID written by
#     yubico-piv-tool, factory PIN and PUK) is issued again instead of
#     skipped;
#   - a card that answers garbage once its job has started is tried once
#     more, then given up: its job cancelled (device terminated), its row
#     back to pending; with --max-failures 1 the batch stops there (exit
#     status of the card class) and the same command with a good card
#     finishes the row.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --readers 2 --card 0:usb-key \
		--card-args 0 -v -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
. "$ROOT/tests/integ/lib/batch_lib.sh"
bl_setup >setup.log 2>&1
check "station home and CA" test -s "$BL_DIR/kra-plain.key" || { cat setup.log >&2; tl_done; exit 1; }
R0=$(vcardctl reader 0)
keep() {	# keep() SLOT: pull the card of SLOT, keep it for the read-back
	local st serial
	st=$(vcardctl state "$1"); serial=$(bl_state_serial "$st")
	vcardctl stop "$1" >/dev/null && cp "$st" "$BL_CARDS/$serial.state"
}

# ---- --reissue: a card not blank is issued again --------------------------------------
# a CHUID and a 9A certificate (an unsigned CHUID alone is factory content,
# issued over without --reissue)
yubico-piv-tool -r "$R0" -a set-chuid >/dev/null 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout foreign.key \
	-subj /CN=foreign -days 30 -out foreign.crt 2>/dev/null
yubico-piv-tool -r "$R0" -a import-key -s 9a -i foreign.key >/dev/null 2>&1
yubico-piv-tool -r "$R0" -a import-certificate -s 9a -i foreign.crt >/dev/null 2>&1
check "the card in slot 0 has a CHUID and a 9A certificate (not blank)" \
	bash -c "yubico-piv-tool -r '$R0' -a status | grep -q '^CHUID:' &&
		yubico-piv-tool -r '$R0' -a status | grep -q '^Slot 9a:'"
bl_people 1 re.csv 9100
"$P" batch --home "$BL_HOME" re.csv --reissue --readers 0 --json >re.jsonl 2>re.err
check "with --reissue the batch issues it (exit 0)" test $? = 0 || tail -5 re.err >&2
check_out "... the row done in slot 0, no card skipped" '^true 1 0$' \
	jq -r 'select(.event == "summary") | "\(.complete) \(.progress.issued) \(.progress.cards_skipped)"' re.jsonl
keep 0

# ---- a card that fails mid-job, --max-failures 1 -------------------------------------------
bl_people 2 mf.csv 9200
vcardctl insert 0 "$BL_DIR/bad.state" -v --fault garbage-after=14 >/dev/null
"$P" batch --home "$BL_HOME" mf.csv --readers 0 --max-failures 1 --json >mf.jsonl 2>mf.err
rc=$?
check "a card answering garbage mid-job: the batch stops (exit 3: the first failure's class)" test $rc = 3 ||
	{ echo "exit $rc" >&2; tail -5 mf.err >&2; }
check "... it was tried once more first" bl_wait_json mf.jsonl \
	'any(.event == "row" and (.text | test("trying it once more")))' 1
check "... then set aside: its job cancelled, the row back to another card" bl_wait_json mf.jsonl \
	'any(.event == "card" and (.text | test("defective: .*job [0-9]+ cancelled, row 2 goes to another card")))' 1
check_out "the summary: stopped by --max-failures, nothing issued" '^false true 0$' \
	jq -r 'select(.event == "summary") | "\(.complete) \(.too_many_failures) \(.progress.issued)"' mf.jsonl
check_out "the store: that job cancelled, its device terminated, the rows pending" \
	'^cancelled terminated pending,pending$' bl_sql "SELECT
	  (SELECT group_concat(state) FROM jobs WHERE id IN (SELECT id FROM jobs ORDER BY id DESC LIMIT 1)) || ' ' ||
	  (SELECT group_concat(status) FROM devices WHERE id IN (SELECT id FROM devices ORDER BY id DESC LIMIT 1)) || ' ' ||
	  (SELECT group_concat(state) FROM batch_rows WHERE batch_id = (SELECT max(id) FROM batches))"
check_out "... and the results file says so" '^2$' \
	bash -c "awk -F, 'NR > 1 && /,pending,/' mf.results.csv | wc -l"

vcardctl insert 0 "$BL_DIR/fresh-1.state" -v >/dev/null	# the bad card set aside
bl_feeder_start 2 0
"$P" batch --home "$BL_HOME" mf.csv --readers 0 --max-failures 1 --json >mf2.jsonl 2>mf2.err
rc=$?
bl_feeder_stop
check "the same command with good cards finishes the batch (exit 0)" test $rc = 0 || tail -5 mf2.err >&2
check_out "... both rows issued" '^true 2$' \
	jq -r 'select(.event == "summary") | "\(.complete) \(.progress.issued_now)"' mf2.jsonl
check "the store: 3 people issued exactly once" bl_verify_store 3
cat mf.pins.csv | tail -n +2 >>re.pins.csv
BL_MAILER=$TL_TMP/re.pins.csv
check "every card read back; each PIN-mailer PIN verifies" bl_verify_cards
tl_done
