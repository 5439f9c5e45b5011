#!/usr/bin/env bash
# issue_factory_chuid.sh: `pivstation issue` onto cards that left the factory
# with an unsigned placeholder CHUID (vcard --quirk factory-chuid,
# firmware-notes/factory-chuid.md).  A usb-key and a plain PIV card are
# issued (before: exit 1, "the card is not blank: it has a CHUID"); the
# inspect step says the CHUID is factory content; the CHUID on the card is
# then this station's: a new GUID and FASC-N, its signature verified by
# openssl cms with the station's chain.  With [card] factory_chuid = refuse
# the same card is refused as not blank, exit 1, nothing written to the
# card or the store.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --card 0:usb-key --card-args 0 '--quirk factory-chuid' \
		--card 1:piv-card --card-args 1 '--quirk factory-chuid' \
		--card 2:usb-key --card-args 2 '--quirk factory-chuid' -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
unset PIVSTATION_HOME PIVSTATION_CA_PASSPHRASE PIVSTATION_KRA_PASSPHRASE
export PIVSTATION_OPERATOR=integ

P=$PV_BIN/pivstation
H=$TL_TMP/home
PIN=24681357
PLACEHOLDER=d4e739da739ced39ce739d836858210842108421c84210c3eb
bin2hex() { xxd -p | tr -d '\n'; }
# tlv_list FILE: one line "TAG HEXRAW HEXVALUE" per top-level BER-TLV
# (one-byte tags, lengths up to 82 xx xx).
tlv_list() {
	local h i=0 s tag len ll
	h=$(bin2hex <"$1")
	while [ $i -lt ${#h} ]; do
		s=$i; tag=${h:$i:2}; i=$((i + 2))
		len=$((16#${h:$i:2})); i=$((i + 2))
		if [ $len -gt 128 ]; then
			ll=$((len - 128)); len=$((16#${h:$i:$((2 * ll))})); i=$((i + 2 * ll))
		fi
		printf '%s %s %s\n' "$tag" "${h:$s:$((i - s + 2 * len))}" "${h:$i:$((2 * len))}"
		i=$((i + 2 * len))
	done
}
tlv_hex() { tlv_list "$1" | awk -v t="$2" '$1 == t { print $3; exit }'; }
# chuid READER OUT: the CHUID's content, read by yubico-piv-tool
chuid() { yubico-piv-tool -r "$(vcardctl reader "$1")" -a read-object --id 0x5fc102 2>/dev/null |
	xxd -r -p >"$2"; }
rows() {
	sqlite3 "$H/store.db" "select (select count(*) from people), (select count(*) from devices),
		(select count(*) from jobs), (select count(*) from certificates), (select count(*) from audit)"
}
writes() {
	vcardctl stats "$1" | jq '[.ins | to_entries[] | select(.key | IN("db","47","24","2c","fe","ff"))
		| .value] | add // 0'
}
# ident N: an identity of its own for person N
ident() {
	jq --arg p "000000810$1" --arg e "factory$1@example.gov" \
		'.person_id = $p | .email = $e | .upn = $e' "$PV_ROOT/examples/identity.json" >id$1.json
}

printf 'factory chuid ca passphrase\n' >pass
chmod 600 pass
check "pivstation init" "$P" init --home "$H" --admin integ
check "ca init" "$P" ca init --home "$H" --passphrase-file pass --kra-passphrase-file pass
# the plain card cannot import a 9D key: let it be made on the card
sed -i 's/^policy = required$/policy = optional/' "$H/pivstation.conf"

for r in 0 1; do
	chuid $r before$r.bin
	check "card $r: a factory CHUID, unsigned, with the placeholder FASC-N" \
		test "$(tlv_hex before$r.bin 30)" = $PLACEHOLDER -a -z "$(tlv_hex before$r.bin 3e)"
	ident $r
	echo "$PIN" | "$P" issue --home "$H" -r $r --identity id$r.json --pin-stdin \
		--passphrase-file pass --json >events$r.jsonl 2>issue$r.err
	rc=$?
	check "card $r: issue exits 0 (got $rc)" test $rc = 0 || cat issue$r.err >&2
	check_out "card $r: the inspect step says the CHUID is factory content" \
		'unsigned CHUID; blank \(the CHUID is factory content' \
		jq -r 'select(.event == "step" and .step == "inspect") | .text' events$r.jsonl
	check_out "card $r: the chuid step replaced it" 'signed CHUID written over the factory one' \
		jq -r 'select(.event == "step" and .step == "chuid") | .text' events$r.jsonl
	chuid $r after$r.bin
	check "card $r: a new GUID" test "$(tlv_hex after$r.bin 34)" != "$(tlv_hex before$r.bin 34)"
	check "card $r: the station's FASC-N" test "$(tlv_hex after$r.bin 30)" != $PLACEHOLDER
	check_out "card $r: the new GUID is the job's card UUID" "^$(tlv_hex after$r.bin 34)\$" \
		jq -r 'select(.event == "result") | .guid' events$r.jsonl
	tlv_list after$r.bin | awk '$1 != "ee" && $1 != "3e" { printf "%s", $2 }' | xxd -r -p >tbs$r
	tlv_hex after$r.bin 3e | xxd -r -p >sig$r
	check "card $r: openssl cms verifies the CHUID signature" openssl cms -verify -binary \
		-content tbs$r -inform DER -in sig$r -CAfile "$H/ca/chain.pem" -purpose any -out /dev/null
done

# ---- [card] factory_chuid = refuse ------------------------------------------------
sed -i 's/^factory_chuid = overwrite$/factory_chuid = refuse/' "$H/pivstation.conf"
ident 2
before=$(rows)
w0=$(writes 2)
echo "$PIN" | "$P" issue --home "$H" -r 2 --identity id2.json --pin-stdin \
	--passphrase-file pass >out2.txt 2>err2.txt
rc=$?
check "factory_chuid = refuse: exit 1 (got $rc)" test $rc = 1
check_out "factory_chuid = refuse: not blank, named" \
	'not blank: it has an unsigned factory CHUID \(\[card\] factory_chuid = refuse\)' cat err2.txt
check "factory_chuid = refuse: the store is as it was" test "$(rows)" = "$before"
check "factory_chuid = refuse: nothing written to the card" test "$(writes 2)" = "$w0"
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
