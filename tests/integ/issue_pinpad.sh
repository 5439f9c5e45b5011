#!/usr/bin/env bash
# issue_pinpad.sh: `pivstation issue --pin-pad` on PIN-pad readers (the
# sandbox's --pinpad readers: pcscd's vpcd driver behind a part 10 shim,
# with a scripted cardholder at the keypad, tests/sandbox/README.md).
#  - card 0: the cardholder types the new PIN twice on the pad; nothing is
#    read from stdin; the card then takes that PIN (yubico-piv-tool), the
#    pad saw one CHANGE REFERENCE DATA, and neither the --trace nor the
#    output holds the PIN;
#  - card 1: two entries that differ, Cancel, nobody typing: each a clear
#    message and its exit code, the job kept, the card's PIN still the
#    factory one; then typed right: the same job finishes;
#  - card 2: pulled just after the pad set the PIN; the run that resumes
#    asks for that PIN on the pad: a wrong one is refused (a try spent),
#    the right one finishes the job.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --pinpad --card 0:usb-key --card 1:usb-key --card 2:usb-key
tl_station

ID=$PV_ROOT/examples/identity.json
Y() { local s=$1; shift; yubico-piv-tool -r "$(vcardctl reader "$s")" "$@"; }
# pad_issue SLOT LOG [ARGS...]: issue with --pin-pad, nothing on stdin
pad_issue() {
	local s=$1 log=$2; shift 2
	"$P" issue --home "$H" -r "$s" --identity "$ID" --pin-pad \
		--passphrase-file "$TL_PASS" "$@" </dev/null >"$log" 2>&1
}
jobs_state() { sqlite3 "$H/store.db" "select group_concat(state, ' ') from jobs order by id"; }

# ---- card 0: the PIN typed on the pad ------------------------------------------------
PIN0=24681357
check "the cardholder will type $((${#PIN0})) digits, twice" vcardctl pinpad 0 "$PIN0"
pad_issue 0 out0.jsonl --json --trace trace0.txt; rc=$?
check "issued with --pin-pad: exit 0 (got $rc)" test $rc = 0 || tail -5 out0.jsonl >&2
check_out "a pin-pad event told the cardholder to type" '^1$' \
	jq -s '[.[] | select(.event == "pin-pad" and (.text | test("new PIN")))] | length' out0.jsonl
check_out "set-pin done on the pad" 'PIN pad' \
	jq -r 'select(.event == "step" and .step == "set-pin") | .text' out0.jsonl
check_out "the result line says ok" '^true$' jq -s '.[-1].event == "result" and .[-1].ok' out0.jsonl
check_out "the pad changed the PIN once (CHANGE REFERENCE DATA 00 24 00 80)" '^1$' \
	bash -c "vcardctl pinpad-log 0 | grep -c '00 *24 *00 *80'"
check "the pad's queue is used up" test ! -s "$PV_SANDBOX_DIR/pinpad0.keys"
check "the card takes the PIN typed on the pad" Y 0 -a verify-pin -P "$PIN0"
check_fails_out "... and no longer the factory PIN" '2 tries left' Y 0 -a verify-pin -P 123456
pinhex=$(printf '%s' "$PIN0" | xxd -p)
check "the trace holds neither the PIN's digits nor their hex" \
	bash -c "! grep -qiE '$PIN0|$pinhex|$(echo "$pinhex" | sed 's/../& /g; s/ $//')' trace0.txt"
check "nor does the output" bash -c "! grep -q '$PIN0' out0.jsonl"
check_out "the trace notes the pad" "PIN pad" cat trace0.txt
check "audit verify passes" "$P" audit verify --home "$H"

# ---- card 1: mismatch, Cancel, nobody typing, then right ------------------------------
check "card 1: two entries that differ" vcardctl pinpad 1 "11112222 11113333"
pad_issue 1 mismatch.txt; rc=$?
check "differing entries: exit 6 (got $rc)" test $rc = 6 || cat mismatch.txt >&2
check_out "differing entries: message" 'new PIN and its confirmation differ' cat mismatch.txt
check_out "differing entries: the job is kept" 'job [0-9]+ is kept: run the same command again' \
	cat mismatch.txt
check_out "differing entries: that job is running" '^done running$' jobs_state
check "differing entries: the factory PIN still works" Y 1 -a verify-pin -P 123456
check "card 1: Cancel on the pad" vcardctl pinpad 1 cancel
pad_issue 1 cancel.txt; rc=$?
check "Cancel: exit 130 (got $rc)" test $rc = 130 || cat cancel.txt >&2
check_out "Cancel: message" 'cancelled on the pad' cat cancel.txt
check "card 1: nobody types" vcardctl pinpad 1 timeout
pad_issue 1 timeout.txt; rc=$?
check "nobody typing: exit 3 (got $rc)" test $rc = 3 || cat timeout.txt >&2
check_out "nobody typing: message" 'no PIN entered in time' cat timeout.txt
check_out "still one job for card 1, running" '^done running$' jobs_state
check "card 1: typed right" vcardctl pinpad 1 11112222
pad_issue 1 right.txt; rc=$?
check "typed right: exit 0 (got $rc)" test $rc = 0 || tail -5 right.txt >&2
check_out "typed right: the same job resumed" "resuming the person's job" cat right.txt
check_out "both jobs done" '^done done$' jobs_state
check "card 1 takes the PIN typed" Y 1 -a verify-pin -P 11112222

# ---- card 2: pulled after the pad set the PIN; resumed ------------------------------------
# The usb-key gets 17 APDUs up to and including CHANGE REFERENCE DATA of the
# PIN (the pad's one among them); the card is pulled at the next and comes
# back 300 ms later.  Restarted now, so that no other client's APDUs count.
ID2=$TL_TMP/id2.json
jq '.person_id = "0000077777" | .given_name = "Carol" | .email = "carol@example.gov"
	| del(.upn)' "$ID" >"$ID2"
ID=$ID2
check "card 2 restarted with the fault" vcardctl restart 2 --fault remove-after=17:300
check "card 2: the cardholder types a PIN" vcardctl pinpad 2 55667788
pad_issue 2 pulled.txt; rc=$?
check "pulled card: exit 3 (got $rc)" test $rc = 3 || cat pulled.txt >&2
check_out "pulled card: set-pin was done" 'set-pin +done' cat pulled.txt
check "card 2 is back" vcardctl ready 2
check "card 2: a wrong PIN typed" vcardctl pinpad 2 99999999
pad_issue 2 wrong.txt; rc=$?
check "resumed, wrong PIN on the pad: exit 5 (got $rc)" test $rc = 5 || cat wrong.txt >&2
check_out "resumed, wrong PIN on the pad: message" \
	"already set the person's PIN.*wrong PIN \(2 tries left\)" cat wrong.txt
check_out "the pad asked for the PIN this job set" 'type the PIN this job set' cat wrong.txt
check "card 2: the right PIN typed" vcardctl pinpad 2 55667788
pad_issue 2 resumed.txt; rc=$?
check "resumed, right PIN on the pad: exit 0 (got $rc)" test $rc = 0 || tail -5 resumed.txt >&2
check_out "three jobs, all done" '^done done done$' jobs_state
check "card 2 takes the PIN typed" Y 2 -a verify-pin -P 55667788
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
