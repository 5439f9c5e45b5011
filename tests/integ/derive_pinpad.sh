#!/usr/bin/env bash
# derive_pinpad.sh: `pivstation derive --pin-pad` on a PIN-pad reader (the
# sandbox's --pinpad readers, a scripted cardholder at the keypad): proof
# of possession goes through the pad (VERIFY 00 20 00 80 in the pad's
# log), the PIN never reaches the station or the trace, and the PKCS#12
# opens with the activation code; Cancel on the pad refuses the
# derivation before anything is written.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --pinpad --card 0:usb-key -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
unset PIVSTATION_HOME PIVSTATION_KRA_PASSPHRASE
export PIVSTATION_OPERATOR=integ PIVSTATION_CA_PASSPHRASE="pad ca passphrase"
P=$PV_BIN/pivstation
H=$TL_TMP/home
PIN=24681357

"$P" init --home "$H" --admin integ >/dev/null
sed -i -e 's|^ocsp = .*|ocsp =|' -e 's|^slot_9d =$|slot_9d = 2.16.840.1.101.3.2.1.48.8|' "$H/pivstation.conf"
check "ca init" "$P" ca init --home "$H" --alg p256
echo "$PIN" | "$P" issue --home "$H" -r 0 --identity "$PV_ROOT/examples/identity.json" \
	--pin-stdin >issue.log 2>&1
check "card issued (PIN from stdin)" test $? = 0
check "ca crl" "$P" ca crl --home "$H"

check "the cardholder will press Cancel" vcardctl pinpad 0 cancel
"$P" derive --home "$H" -r 0 --pin-pad --to p12 --out c.p12 --json </dev/null >d.jsonl 2>d.err; rc=$?
check "Cancel on the pad: refused, exit 7 (got $rc)" test $rc = 7
check_out "... pop.pin says Cancel was pressed" 'pressed Cancel on the PIN pad' \
	jq -r 'select(.event == "result") | .failed_checks[] | select(.id == "pop.pin") | .text' d.jsonl
check "... nothing written" test "$(sqlite3 "$H/store.db" 'SELECT count(*) FROM derived')" = 0

check "the cardholder will type the PIN" vcardctl pinpad 0 "$PIN"
"$P" derive --home "$H" -r 0 --pin-pad --to p12 --out a.p12 --json --trace trace.txt \
	</dev/null >d.jsonl 2>d.err; rc=$?
check "derived with the PIN typed on the pad: exit 0 (got $rc)" test $rc = 0 || cat d.err >&2
check_out "the pad verified the PIN (VERIFY 00 20 00 80)" '^2$' \
	bash -c "vcardctl pinpad-log 0 | grep -c '00 *20 *00 *80'"
check "the trace does not hold the PIN" bash -c "! grep -qE '$PIN|32 34 36 38 31 33 35 37' trace.txt"
code=$(jq -r 'select(.event == "result") | .activation_code' d.jsonl)
check "the PKCS#12 opens with the activation code" openssl pkcs12 -in a.p12 -passin "pass:$code" -noout
check "audit verify" "$P" audit verify --home "$H"
tl_done
