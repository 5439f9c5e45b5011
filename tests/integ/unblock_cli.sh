#!/usr/bin/env bash
# unblock_cli.sh: `pivstation unblock -r R`, the help desk's PIN unblock
# with the escrowed PUK, on the command line:
#  - a blocked PIN, a new one from --pin-stdin: the card takes it
#    (yubico-piv-tool), the PUK is opened from escrow with the KRA key and
#    appears nowhere (the trace redacts RESET RETRY COUNTER);
#  - refusals with their exit codes: a weak PIN (6), the wrong KRA
#    passphrase (5), a card this station did not issue (1);
#  - the new PIN typed on the reader's pad (it never reaches the station);
#  - the card pulled during the unblock: exit 3, the job kept; the same
#    command resumes it (--json says so).
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --pinpad --card 0:usb-key --card 1:usb-key \
		-- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
unset PIVSTATION_HOME PIVSTATION_CA_PASSPHRASE PIVSTATION_KRA_PASSPHRASE
export PIVSTATION_OPERATOR=integ
P=$PV_BIN/pivstation
H=$TL_TMP/home
Y() { local s=$1; shift; yubico-piv-tool -r "$(vcardctl reader "$s")" "$@"; }
block() { local i; for i in 1 2 3; do Y "$1" -a verify-pin -P 00000000 >/dev/null 2>&1; done; }
unblock() { "$P" unblock --home "$H" --kra-passphrase-file pass "$@"; }

printf 'unblock test passphrase\n' >pass; chmod 600 pass
printf 'not the passphrase\n' >wrong; chmod 600 wrong
check "init" "$P" init --home "$H" --admin integ
sed -i -e 's/^slot_9c = rsa2048/slot_9c = eccp256/' \
	-e 's/^slot_9d = rsa2048/slot_9d = eccp256/' "$H/pivstation.conf"
check "ca init" "$P" ca init --home "$H" --passphrase-file pass --kra-passphrase-file pass
check "Ivan's card in slot 0" bash -c "echo 11223344 | '$P' issue --home '$H' -r 0 \
	--identity '$PV_ROOT/examples/identity.json' --pin-stdin --passphrase-file pass"
block 0
check_fails_out "the PIN is blocked" 'blocked' Y 0 -a verify-pin -P 11223344

# ---- refusals ----------------------------------------------------------------------------
echo 123456 | unblock -r 0 --pin-stdin >weak.txt 2>&1; rc=$?
check "a weak PIN: exit 6 (got $rc)" test $rc = 6
check_out "... saying why" 'factory default value is refused' cat weak.txt
echo 55667788 | "$P" unblock --home "$H" --kra-passphrase-file wrong -r 0 \
	--pin-stdin >kra.txt 2>&1; rc=$?
check "the wrong KRA passphrase: exit 5 (got $rc)" test $rc = 5
echo 55667788 | unblock -r 1 --pin-stdin >foreign.txt 2>&1; rc=$?
check "a card this station did not issue: exit 1 (got $rc)" test $rc = 1
check_out "... saying so" 'not issued by this station' cat foreign.txt
check_fails_out "the PIN is still blocked" 'blocked' Y 0 -a verify-pin -P 11223344

# ---- unblocked ----------------------------------------------------------------------------
echo 55667788 | unblock -r 0 --pin-stdin --trace trace.txt >ok.txt 2>&1; rc=$?
check "unblocked: exit 0 (got $rc)" test $rc = 0 || cat ok.txt >&2
check_out "... PIN unblocked, the job and device named" \
	'^PIN unblocked: job [0-9]+, device 1 \(Example, Alice M\)' cat ok.txt
check_out "the card takes the new PIN" 'Successfully verified PIN' \
	Y 0 -a verify-pin -P 55667788
check_out "the trace shows RESET RETRY COUNTER, PUK and PIN redacted" \
	'^> 00 2[Cc] 00 80 10( \*\*){16}( #.*)?$' cat trace.txt
check "the new PIN is not in the trace, as text or bytes" bash -c "! grep -qiE '55667788|35 35 36 36 37 37 38 38' trace.txt"
check_out "audited: pin.unblock" '^integ\|pin\.unblock$' \
	sqlite3 "$H/store.db" "select actor||'|'||action from audit where action = 'pin.unblock'"

# ---- the new PIN on the pad ------------------------------------------------------------------
block 0
check "the cardholder will type a new PIN on the pad, twice" vcardctl pinpad 0 77778888
unblock -r 0 --pin-pad </dev/null >pad.txt 2>&1; rc=$?
check "on the pad: exit 0 (got $rc)" test $rc = 0 || cat pad.txt >&2
check_out "the pad changed the PIN" 'MODIFY slot=0 sw=9000' vcardctl pinpad-log 0
check_out "the card takes the PIN typed on the pad" 'Successfully verified PIN' \
	Y 0 -a verify-pin -P 77778888

# ---- pulled, then resumed ------------------------------------------------------------------------
# SELECT and the inspection take 7 APDUs; RESET RETRY COUNTER is the 8th:
# the card is pulled there, back 500 ms later.
block 0
check "card 0 restarted with the fault" vcardctl restart 0 --fault remove-after=7:500
echo 24682468 | unblock -r 0 --pin-stdin >pulled.txt 2>&1; rc=$?
check "pulled: exit 3 (got $rc)" test $rc = 3 || cat pulled.txt >&2
check_out "... the job kept" 'job [0-9]+ is kept: put the card back' cat pulled.txt
check "card 0 is back" vcardctl ready 0
echo 24682468 | unblock -r 0 --pin-stdin --json >resumed.jsonl 2>/dev/null; rc=$?
check "resumed: exit 0 (got $rc)" test $rc = 0
check_out "... the same job, resumed" '^true true$' \
	jq -r 'select(.event == "result") | "\(.ok) \(.resumed)"' resumed.jsonl
check_out "the card takes the new PIN" 'Successfully verified PIN' \
	Y 0 -a verify-pin -P 24682468
check_out "three unblock jobs, all done" '^done,done,done$' \
	sqlite3 "$H/store.db" "select group_concat(state) from jobs where kind = 'unblock'"
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
