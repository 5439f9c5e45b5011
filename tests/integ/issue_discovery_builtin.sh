#!/usr/bin/env bash
# issue_discovery_builtin.sh: `pivstation issue` onto applets that build their
# Discovery Object themselves and refuse PUT DATA 7E with 6A80 (vcard --quirk
# discovery-builtin, firmware-notes/discovery-builtin.md).  A usb-key and a
# plain PIV card are issued (before: exit 4 at the objects step, "writing
# discovery object: ... 6A80", after keys and certificates were made); the
# objects step says the card's own object was kept (its PIN policy is the
# one we want) and records it in the job; GET DATA 7E still gives the
# applet's object; yubico-piv-tool sees the four certificates, the CCC and
# the CHUID and the card takes the PIV PIN; OpenSC lists the certificates.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --card 0:usb-key --card-args 0 '--quirk discovery-builtin' \
		--card 1:piv-card --card-args 1 '--quirk discovery-builtin' -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
unset PIVSTATION_HOME PIVSTATION_CA_PASSPHRASE PIVSTATION_KRA_PASSPHRASE
export PIVSTATION_OPERATOR=integ

P=$PV_BIN/pivstation
H=$TL_TMP/home
PIN=24681357
SEL=00A4040005A000000308
DISC='7E124F0BA0000003080000100001005F2F0240009000'
ident() {
	jq --arg p "000000820$1" --arg e "builtin$1@example.gov" \
		'.person_id = $p | .email = $e | .upn = $e' "$PV_ROOT/examples/identity.json" >id$1.json
}

printf 'discovery builtin ca passphrase\n' >pass
chmod 600 pass
check "pivstation init" "$P" init --home "$H" --admin integ
check "ca init" "$P" ca init --home "$H" --passphrase-file pass --kra-passphrase-file pass
# the plain card cannot import a 9D key: let it be made on the card
sed -i 's/^policy = required$/policy = optional/' "$H/pivstation.conf"

for r in 0 1; do
	ident $r
	echo "$PIN" | "$P" issue --home "$H" -r $r --identity id$r.json --pin-stdin \
		--passphrase-file pass --json >events$r.jsonl 2>issue$r.err
	rc=$?
	check "card $r: issue exits 0 (got $rc)" test $rc = 0 || cat issue$r.err >&2
	check_out "card $r: the objects step kept the card's own Discovery Object" \
		"^CCC written; the card's own Discovery Object kept \\(PIV AID, PIN policy 4000\\); Key History written\$" \
		jq -r 'select(.event == "step" and .step == "objects") | .text' events$r.jsonl
	job=$(jq -r 'select(.event == "result") | .job' events$r.jsonl)
	check_out "card $r: the job records it" '^kept\|4000\|written$' sqlite3 "$H/store.db" \
		"select json_extract(detail, '\$.discovery') || '|' || json_extract(detail, '\$.discovery_policy')
		 || '|' || json_extract(detail, '\$.key_history') from job_steps
		 where job_id = $job and name = 'objects' and state = 'done'"
	check_out "card $r: GET DATA 7E is still the applet's own" "^$DISC\$" \
		bash -c "vcardctl transmit $r $SEL 00CB3FFF035C017E00 | sed -n 2p"
	yubico-piv-tool -r "$(vcardctl reader $r)" -a status >status$r.txt 2>&1
	check_out "card $r: yubico-piv-tool status: four certificates" '^4$' \
		grep -c '^Slot 9[acde]:' status$r.txt
	check_out "card $r: yubico-piv-tool status: CCC" '^CCC:[[:space:]]+f0' cat status$r.txt
	check_out "card $r: yubico-piv-tool status: CHUID" '^CHUID:[[:space:]]+3019' cat status$r.txt
	check "card $r: the card takes the PIV PIN (yubico-piv-tool)" \
		yubico-piv-tool -r "$(vcardctl reader $r)" -a verify-pin -P "$PIN"
	check_out "card $r: OpenSC lists the four certificates" '^4$' \
		bash -c "pkcs15-tool --reader $r --list-certificates 2>/dev/null | grep -c '^X.509 Certificate'"
done
check_out "two active devices" '^2$' sqlite3 "$H/store.db" \
	"select count(*) from devices where status = 'active'"
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
