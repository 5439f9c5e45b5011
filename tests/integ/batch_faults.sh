#!/usr/bin/env bash
# batch_faults.sh: `pivstation batch` through what a badge office meets,
# four people on the readers of slots 0-3 (slot 4 stays outside):
#   - another batch of the same station holds slot 3 (started first, with
#     --readers 3): this batch reports the reader claimed and never touches
#     it, while the other batch issues its person there;
#   - pcscd restarted while two cards make their keys: their rows wait,
#     and their jobs resume and complete when pcscd is back;
#   - a card pulled while its keys are made and put back in another reader
#     (slot 2) resumes its job there;
#   - a card that is not blank (a CHUID and a 9A certificate written by
#     yubico-piv-tool) is skipped and reported; a card the batch issued, put back, is reported
#     as issued, not issued again.
# The end state is each person issued exactly once (store, and every card
# read back with pivstation diag and yubico-piv-tool).
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --readers 6 --card 0:usb-key --card 1:usb-key \
		--card-args 0 '-v --latency apdu=100' --card-args 1 '-v --latency apdu=100' \
		-- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
. "$ROOT/tests/integ/lib/batch_lib.sh"
bl_setup >setup.log 2>&1
check "station home and CA" test -s "$BL_DIR/kra-plain.key" || { cat setup.log >&2; tl_done; exit 1; }
R() { cat "$PV_SANDBOX_DIR/readers" | sed -n "$(( $1 + 1 ))p"; }
ev() { jq -c "select($2)" "$1" 2>/dev/null; }
keep() {	# keep() SLOT: pull the card of SLOT, keep it for the read-back
	local st serial
	st=$(vcardctl state "$1"); serial=$(bl_state_serial "$st")
	vcardctl stop "$1" >/dev/null && cp "$st" "$BL_CARDS/$serial.state"
}
bl_people 4 people.csv 7000
bl_people 1 other.csv 8000

# ---- another batch holds slot 3 ------------------------------------------------
"$P" batch --home "$BL_HOME" other.csv --readers 3 --json >other.jsonl 2>other.err &
other=$!
check "the other batch takes slot 3" bl_wait_json other.jsonl \
	"any(.event == \"reader\" and .reader == \"$(R 3)\" and .state == \"waiting\")"
"$P" batch --home "$BL_HOME" people.csv --readers 0,1,2,3 --json >a.jsonl 2>a.err &
main=$!
check "this batch finds slot 3 claimed by the other" bl_wait_json a.jsonl \
	"any(.event == \"reader\" and .reader == \"$(R 3)\" and .state == \"claimed\" and
	    (.text | test(\"pid $other: pivstation batch other.csv\")))"

# ---- pcscd restarted while both cards make their keys -------------------------------
check "slot 1: the card makes its 9A key" bl_wait_log 1 1 '> 00 47 00 9a'
vcardctl pcscd-restart >/dev/null
check "pcscd restarted: the batch says it went away" bl_wait_json a.jsonl \
	'any(.event == "notice" and (.text | test("pcscd went away")))'
row1=$(jq -r 'select(.event == "row" and .reader == "'"$(R 1)"'") | .row' a.jsonl | head -1)
check "... slot 1's row was cut off: it waits for its card" bl_wait_json a.jsonl \
	"any(.event == \"row\" and .row == $row1 and .state == \"running\" and (.text | test(\"waits for its card\")))"
check "... its job resumes when pcscd is back" bl_wait_json a.jsonl \
	"any(.event == \"row\" and .row == $row1 and (.text | test(\"resuming job\")))"
check "... and the card is issued" bl_wait_json a.jsonl \
	"any(.event == \"row\" and .row == $row1 and .state == \"done\")" 90
check "slot 0's card is issued too" bl_wait_json a.jsonl \
	"[.[] | select(.event == \"row\" and .state == \"done\")] | length == 2" 90
keep 0
keep 1

# ---- a card pulled mid-issuance, back in another reader ---------------------------
from=$(($(bl_log_lines 0) + 1))
vcardctl insert 0 "$BL_DIR/moved.state" -v --latency apdu=100 >/dev/null
check "slot 0: a new card makes its 9A key" bl_wait_log 0 "$from" '> 00 47 00 9a'
vcardctl stop 0 >/dev/null
row0=$(jq -r 'select(.event == "row" and .reader == "'"$(R 0)"'" and .state == "running") | .row' a.jsonl | tail -1)
check "... pulled: its row waits for its card" bl_wait_json a.jsonl \
	"any(.event == \"row\" and .row == $row0 and .reader == \"$(R 0)\" and .state == \"running\" and (.text | test(\"waits for its card\")))"
vcardctl insert 2 "$BL_DIR/moved.state" -v >/dev/null
check "... put in slot 2: its job resumes there" bl_wait_json a.jsonl \
	"any(.event == \"row\" and .row == $row0 and .reader == \"$(R 2)\" and (.text | test(\"resuming job\")))"
check "... and is done there" bl_wait_json a.jsonl \
	"any(.event == \"row\" and .row == $row0 and .reader == \"$(R 2)\" and .state == \"done\")" 90
keep 2

# ---- a card not blank, and a card of this batch, put in ------------------------------
vcardctl insert 4 "$BL_DIR/foreign.state" -v >/dev/null
# another issuer's card: a CHUID and a 9A key with its certificate (an
# unsigned CHUID alone is factory content, which the batch issues over)
yubico-piv-tool -r "$(R 4)" -a set-chuid >/dev/null 2>&1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout foreign.key \
	-subj /CN=foreign -days 30 -out foreign.crt 2>/dev/null
yubico-piv-tool -r "$(R 4)" -a import-key -s 9a -i foreign.key >/dev/null 2>&1
yubico-piv-tool -r "$(R 4)" -a import-certificate -s 9a -i foreign.crt >/dev/null 2>&1
check "a foreign card gets a CHUID and a 9A certificate (slot 4, outside the batch)" \
	bash -c "yubico-piv-tool -r '$(R 4)' -a status | grep -q '^CHUID:' &&
		yubico-piv-tool -r '$(R 4)' -a status | grep -q '^Slot 9a:'"
vcardctl stop 4 >/dev/null
vcardctl insert 0 "$BL_DIR/foreign.state" -v >/dev/null
check "a card that is not blank is skipped and reported" bl_wait_json a.jsonl \
	"any(.event == \"card\" and .reader == \"$(R 0)\" and (.text | test(\"skipped: .*not blank\")))"
vcardctl stop 0 >/dev/null
issued=$(ls "$BL_CARDS"/*.state | head -1)
vcardctl insert 1 "$issued" -v >/dev/null
check "a card this batch issued, put back, is reported issued" bl_wait_json a.jsonl \
	"any(.event == \"card\" and .reader == \"$(R 1)\" and (.text | test(\"already issued to row\")))"
vcardctl stop 1 >/dev/null

# ---- the last person on a fresh card; the other batch's card in slot 3 ----------------
vcardctl insert 0 "$BL_DIR/fresh-a.state" -v >/dev/null
wait $main
check "the batch completes (exit 0)" test $? = 0 || tail -5 a.err >&2
keep 0
check_out "4 rows issued, 1 card skipped" '^true 4 1$' \
	jq -r 'select(.event == "summary") | "\(.complete) \(.progress.issued) \(.progress.cards_skipped)"' a.jsonl
check_out "this batch never worked on slot 3" '^0$' \
	bash -c "jq -c 'select((.event == \"row\" or .event == \"step\" or .event == \"card\") and .reader == \"$(R 3)\")' a.jsonl | wc -l"
vcardctl insert 3 "$BL_DIR/fresh-c.state" -v >/dev/null
wait $other
check "the other batch issues its person in slot 3 (exit 0)" test $? = 0 || tail -5 other.err >&2
check_out "... there" '^1$' bash -c "jq -c 'select(.event == \"row\" and .state == \"done\" and .reader == \"$(R 3)\")' other.jsonl | wc -l"
keep 3
check "the store: 5 people issued exactly once" bl_verify_store 5
BL_MAILER=$TL_TMP/people.pins.csv
cat other.pins.csv | tail -n +2 >>people.pins.csv
check "every card read back; each PIN-mailer PIN verifies" bl_verify_cards
tl_done
