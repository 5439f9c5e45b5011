#!/usr/bin/env bash
# batch_readers.sh: readers plugged in and pulled out while `pivstation
# batch` runs (vcardctl readers N: pcscd comes back with another reader
# list).  Four people, the batch on every reader (the default):
#   - two readers at the start issue two people;
#   - two readers plugged in are taken into the batch, and a card put in
#     one of them is issued there;
#   - those two pulled out again are dropped from the batch (never driven
#     afterwards), and the last person is issued in a reader of the start;
# then each person is issued exactly once (store, every card read back
# with pivstation diag and yubico-piv-tool).
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --readers 2 --card 0:usb-key --card 1:usb-key \
		--card-args 0 -v --card-args 1 -v -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
. "$ROOT/tests/integ/lib/batch_lib.sh"
bl_setup >setup.log 2>&1
check "station home and CA" test -s "$BL_DIR/kra-plain.key" || { cat setup.log >&2; tl_done; exit 1; }
R() { sed -n "$(( $1 + 1 ))p" "$PV_SANDBOX_DIR/readers"; }
keep() {	# keep() SLOT: pull the card of SLOT, keep it for the read-back
	local st serial
	st=$(vcardctl state "$1"); serial=$(bl_state_serial "$st")
	vcardctl stop "$1" >/dev/null && cp "$st" "$BL_CARDS/$serial.state"
}
done_on() {	# done_on READER: rows done there
	jq -s "[.[] | select(.event == \"row\" and .state == \"done\" and .reader == \"$1\")] | length" a.jsonl
}
bl_people 4 people.csv 9000

"$P" batch --home "$BL_HOME" people.csv --json >a.jsonl 2>a.err &
main=$!
check "two readers at the start issue two people" bl_wait_json a.jsonl \
	'[.[] | select(.event == "row" and .state == "done")] | length == 2' 90
check_out "... one in each" '^1 1$' echo "$(done_on "$(R 0)") $(done_on "$(R 1)")"
keep 0
keep 1

# ---- two readers plugged in ------------------------------------------------------------
vcardctl readers 4 >/dev/null
R2=$(R 2) R3=$(R 3)
check "reader plugged in: $R2 taken into the batch" bl_wait_json a.jsonl \
	"any(.event == \"reader\" and .reader == \"$R2\" and .state == \"waiting\" and .text == \"taken into the batch\")"
check "... and $R3" bl_wait_json a.jsonl \
	"any(.event == \"reader\" and .reader == \"$R3\" and .state == \"waiting\")"
vcardctl insert 2 "$BL_DIR/new-reader.state" -v >/dev/null
check "a card in the new reader is issued there" bl_wait_json a.jsonl \
	"any(.event == \"row\" and .state == \"done\" and .reader == \"$R2\")" 90
keep 2

# ---- the two pulled out again -------------------------------------------------------------
vcardctl readers 2 >/dev/null
check "reader pulled out: $R2 dropped from the batch" bl_wait_json a.jsonl \
	"any(.event == \"reader\" and .reader == \"$R2\" and .state == \"gone\")"
check "... and $R3" bl_wait_json a.jsonl \
	"any(.event == \"reader\" and .reader == \"$R3\" and .state == \"gone\")"
gone_at=$(wc -l <a.jsonl)
vcardctl insert 0 "$BL_DIR/last.state" -v >/dev/null
wait $main
check "the batch completes in a reader of the start (exit 0)" test $? = 0 || tail -5 a.err >&2
keep 0
check_out "4 rows issued, 3 readers used" '^true 4 3$' bash -c \
	"jq -s -r '([.[] | select(.event == \"summary\")][0] | \"\(.complete) \(.progress.issued)\") + \" \" +
	    ([.[] | select(.event == \"row\" and .state == \"done\") | .reader] | unique | length | tostring)' a.jsonl"
check_out "nothing on the pulled-out readers after they went" '^0$' bash -c \
	"tail -n +$((gone_at + 1)) a.jsonl | jq -c 'select((.event == \"row\" or .event == \"step\" or .event == \"card\") and (.reader == \"$R2\" or .reader == \"$R3\"))' | wc -l"
check "the store: 4 people issued exactly once" bl_verify_store 4
BL_MAILER=$TL_TMP/people.pins.csv
check "every card read back; each PIN-mailer PIN verifies" bl_verify_cards
tl_done
