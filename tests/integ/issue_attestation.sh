#!/usr/bin/env bash
# issue_attestation.sh: key attestation at issuance ([attestation], issuance/
# attest.h).  The station trusts the pivstation-vcard attestation root
# (pivstation-vcard --attestation-root) with policy = refuse.  A usb-key is
# issued: each key made on it (9A, 9C, 9E) is attested through the token's
# F9 certificate before it is certified, and the job records it; openssl,
# with yubico-piv-tool's ATTEST and F9 certificate, agrees that the 9A key
# the station certified is the one the token attests.  A plain card (no
# attestation) is refused under refuse, nothing certified, exit 1; under
# record it is issued and its keys are recorded "not attested".
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --card 0:usb-key --card 1:piv-card -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
unset PIVSTATION_HOME PIVSTATION_CA_PASSPHRASE PIVSTATION_KRA_PASSPHRASE
export PIVSTATION_OPERATOR=integ

P=$PV_BIN/pivstation
H=$TL_TMP/home
PIN=24681357
ident() {
	jq --arg p "000000830$1" --arg e "attest$1@example.gov" \
		'.person_id = $p | .email = $e | .upn = $e' "$PV_ROOT/examples/identity.json" >id$1.json
}
issue() { # READER: the events in events$1.jsonl, stderr in issue$1.err
	echo "$PIN" | "$P" issue --home "$H" -r "$1" --identity id$1.json --pin-stdin \
		--passphrase-file pass --json >events$1.jsonl 2>issue$1.err
}
# attested JOB STATUS: how many key steps of JOB have that attestation
attested() {
	sqlite3 "$H/store.db" "select count(*) from job_steps where job_id = $1 and
		name like 'key-9%' and state = 'done' and json_extract(detail, '\$.attestation') = '$2'"
}

printf 'attestation ca passphrase\n' >pass
chmod 600 pass
check "pivstation init" "$P" init --home "$H" --admin integ
check "ca init" "$P" ca init --home "$H" --passphrase-file pass --kra-passphrase-file pass
"$PV_BIN/pivstation-vcard" --attestation-root >"$H/attestation-roots.pem"
check_out "the vcard attestation root" 'subject=CN = pivstation-vcard PIV Attestation Root' \
	openssl x509 -in "$H/attestation-roots.pem" -noout -subject
sed -i -e 's/^roots =$/roots = attestation-roots.pem/' -e 's/^policy = record$/policy = refuse/' \
	-e 's/^policy = required$/policy = optional/' "$H/pivstation.conf"

# ---- a usb-key: attested ------------------------------------------------------------
ident 0
issue 0; rc=$?
check "usb-key: issue exits 0 (got $rc)" test $rc = 0 || cat issue0.err >&2
for k in 9a 9c 9e; do
	check_out "usb-key: key-$k attested before it was certified" \
		'generated on the card; key generated on the token, attested through CN=pivstation-vcard PIV Attestation [0-9]+ to CN=pivstation-vcard PIV Attestation Root' \
		jq -r --arg s key-$k 'select(.event == "step" and .step == $s) | .text' events0.jsonl
done
job0=$(jq -r 'select(.event == "result") | .job' events0.jsonl)
check_out "usb-key: the job records three verified attestations" '^3$' attested "$job0" verified
R0=$(vcardctl reader 0)
check "yubico-piv-tool: ATTEST 9a" yubico-piv-tool -r "$R0" -a attest -s 9a -o att9a.pem
check "yubico-piv-tool: the F9 certificate" yubico-piv-tool -r "$R0" -a read-certificate -s f9 -o f9.pem
check_out "openssl verify: the attestation chains to the root through F9" ': OK' \
	openssl verify -CAfile "$H/attestation-roots.pem" -untrusted f9.pem att9a.pem
check "yubico-piv-tool: the 9a certificate" yubico-piv-tool -r "$R0" -a read-certificate -s 9a -o c9a.pem
check "the key the station certified is the attested one" \
	cmp <(openssl x509 -in c9a.pem -noout -pubkey) <(openssl x509 -in att9a.pem -noout -pubkey)

# ---- a plain card: no attestation ------------------------------------------------------
ident 1
issue 1; rc=$?
check "plain card, policy = refuse: exit 1 (got $rc)" test $rc = 1
check_out "plain card, policy = refuse: says why" \
	'\[attestation\] policy = refuse: the PIV Authentication key made on the token is not certified: no attestation' \
	cat issue1.err
check_out "plain card, policy = refuse: nothing certified" '^0$' sqlite3 "$H/store.db" \
	"select count(*) from certificates c join devices d on d.id = c.device_id
	 join people p on p.id = d.person_id where p.person_id = '0000008301'"
sed -i 's/^policy = refuse$/policy = record/' "$H/pivstation.conf"
issue 1; rc=$?
check "plain card, policy = record: the job completes (got $rc)" test $rc = 0 || cat issue1.err >&2
job1=$(jq -r 'select(.event == "result") | .job' events1.jsonl)
check_out "plain card: four keys recorded not attested" '^4$' attested "$job1" "not attested"
check_out "plain card: the key-9a step says so" \
	'not attested: the token has no key attestation' \
	jq -r 'select(.event == "step" and .step == "key-9a") | .text' events1.jsonl
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
