#!/usr/bin/env bash
# issue_usbkey.sh: `pivstation issue` onto a blank usb-key vcard, judged by
# third-party tools.  Station and CA made with a passphrase file, the PIN
# given on stdin, --json events.  Then: OpenSC's PKCS#11 module lists the
# four certificates and private keys, signs with 9A (ECDSA P-256), 9C
# (RSA-2048, PIN again) and 9E, decrypts with 9D, every result checked by
# openssl; yubico-piv-tool status shows the four certificates, CHUID and
# CCC; openssl verify accepts each certificate with -policy <its test OID>
# -explicit_policy; the CHUID signature (content rebuilt per PIV-REFERENCE
# §6) and the Security Object verify with openssl cms and the Security
# Object's hashes are those of the card's CHUID and Printed Information;
# the FASC-N of the CHUID is the one in the 9A and 9E SANs, its GUID the
# SAN UUID; openssl cms -decrypt of the 9D escrow envelope with the KRA key
# gives the private key of the 9D certificate; the management key is no
# longer the factory default; the --trace of the issuance shows neither the
# PIN nor the 9D private key.  APDUs are counted, not timed.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key
tl_station

PIN=24681357
MOD=$(tl_opensc_module) || exit 1
Y() { yubico-piv-tool -r "$PV_READER_0" "$@"; }
P11() { pkcs11-tool --module "$MOD" --slot-index 0 "$@"; }
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

# ---- the issuance --------------------------------------------------------------
echo "$PIN" | "$P" issue --home "$H" -r 0 --identity "$PV_ROOT/examples/identity.json" \
	--pin-stdin --passphrase-file "$TL_PASS" --json --trace trace.txt >events.jsonl 2>issue.err
rc=$?
check "issue exits 0" test $rc = 0 || cat issue.err >&2
check_out "the result line says ok" '^true$' jq -s '.[-1].event == "result" and .[-1].ok' events.jsonl
check_out "15 steps reported done, in order" '^"register,mgmt-key,chuid,escrow-puk,set-puk,set-pin,key-9a,key-9c,escrow-9d,key-9d,key-9e,certs,objects,secobj,finish"$' \
	jq -s '[.[] | select(.event == "step" and .state == "done" and .index > 0) | .step] | join(",")' events.jsonl
check_out "9D escrowed, PUK escrowed, management key changed" '^true$' \
	jq -s '.[-1] | .key_9d_escrowed and .puk_escrowed and .mgmt_key.changed' events.jsonl
apdus=$(jq -s '.[-1].stats.apdus' events.jsonl)
vc=$(vcardctl stats 0 | jq .apdus)
check "pivstation counted the APDUs the card answered ($apdus)" test "$apdus" = "$vc"
check "one issuance takes at most 40 APDUs ($apdus)" test "$apdus" -le 40

# ---- OpenSC PKCS#11 -------------------------------------------------------------
P11 -O >objects.txt 2>&1
check_out "PKCS#11 lists four certificates" '^4$' grep -c '^Certificate Object' objects.txt
P11 --login --pin "$PIN" -O --type privkey >priv.txt 2>&1
check_out "PKCS#11 lists four private keys" '^4$' grep -c '^Private Key Object' priv.txt
for id in 01 02 03 04; do
	P11 --read-object --type cert --id $id -o c$id.der >/dev/null 2>&1
	openssl x509 -inform DER -in c$id.der -out c$id.pem 2>/dev/null
	openssl x509 -in c$id.pem -noout -pubkey >p$id.pem 2>/dev/null
	check "certificate $id read through PKCS#11" test -s p$id.pem
done
head -c 1000 /dev/urandom >data
openssl dgst -sha256 -binary data >data.sha256
check "9A signs (ECDSA)" P11 --login --pin "$PIN" --sign --id 01 -m ECDSA \
	--signature-format openssl -i data.sha256 -o sig01
check "openssl verifies the 9A signature" openssl pkeyutl -verify -pubin -inkey p01.pem \
	-in data.sha256 -sigfile sig01
check "9C signs (SHA256-RSA-PKCS)" P11 --login --pin "$PIN" --sign --id 02 -m SHA256-RSA-PKCS \
	-i data -o sig02
check "openssl verifies the 9C signature" openssl dgst -sha256 -verify p02.pem -signature sig02 data
check "9E signs (ECDSA)" P11 --login --pin "$PIN" --sign --id 04 -m ECDSA --signature-format openssl \
	-i data.sha256 -o sig04
check "openssl verifies the 9E signature" openssl pkeyutl -verify -pubin -inkey p04.pem \
	-in data.sha256 -sigfile sig04
head -c 32 /dev/urandom >secret
openssl pkeyutl -encrypt -pubin -inkey p03.pem -in secret -out secret.enc
check "9D decrypts (RSA-PKCS)" P11 --login --pin "$PIN" --decrypt --id 03 -m RSA-PKCS \
	-i secret.enc -o secret.dec
check "the 9D decryption is the plaintext" cmp secret secret.dec

# ---- yubico-piv-tool ---------------------------------------------------------------
Y -a status >status.txt 2>&1
check_out "status: four certificates" '^4$' grep -c '^Slot 9[acde]:' status.txt
check_out "status: CHUID with a FASC-N" '^CHUID:[[:space:]]+3019' cat status.txt
check_out "status: CCC" '^CCC:[[:space:]]+f0' cat status.txt

# ---- certificates against the CA -------------------------------------------------
# [policy] set = test: 9A authentication 48.11, 9C/9D hardware 48.9, 9E cardAuth 48.13
for sp in 01:48.11 02:48.9 03:48.9 04:48.13; do
	id=${sp%%:*}; oid=2.16.840.1.101.3.2.1.${sp#*:}
	check "openssl verify $id -policy $oid -explicit_policy" openssl verify \
		-CAfile "$H/ca/root.crt" -untrusted "$H/ca/issuing.crt" -policy "$oid" \
		-explicit_policy c$id.pem
done
check_fails "openssl verify 9E refuses the 9A policy" openssl verify \
	-CAfile "$H/ca/root.crt" -untrusted "$H/ca/issuing.crt" -policy 2.16.840.1.101.3.2.1.48.11 \
	-explicit_policy c04.pem

# ---- CHUID ----------------------------------------------------------------------
Y -a read-object --id 0x5fc102 2>/dev/null | xxd -r -p >chuid.bin
check "CHUID read" test -s chuid.bin
tlv_list chuid.bin >chuid.tlv
awk '$1 != "ee" && $1 != "3e" { printf "%s", $2 }' chuid.tlv | xxd -r -p >chuid.tbs
tlv_hex chuid.bin 3e | xxd -r -p >chuid.sig
check "CHUID ends with FE" test "$(tail -1 chuid.tlv | cut -c1-2)" = fe
check "openssl cms verifies the CHUID signature over the rebuilt content" openssl cms -verify \
	-binary -content chuid.tbs -inform DER -in chuid.sig -CAfile "$H/ca/chain.pem" \
	-purpose any -out /dev/null
fascn=$(tlv_hex chuid.bin 30)
guid=$(tlv_hex chuid.bin 34)
check "CHUID FASC-N is 25 bytes" test ${#fascn} = 50
for id in 01 04; do
	san=$(openssl x509 -in c$id.pem -outform DER | bin2hex |
		grep -oE '06086086480165030606a01b0419[0-9a-f]{50}' | cut -c29-)
	check "the FASC-N in the CHUID is the one in the SAN of $id" test "$san" = "$fascn"
done
uuid=${guid:0:8}-${guid:8:4}-${guid:12:4}-${guid:16:4}-${guid:20:12}
for id in 01 04; do
	check_out "the SAN of $id has the CHUID GUID as its UUID" "URI:urn:uuid:$uuid" \
		openssl x509 -in c$id.pem -noout -ext subjectAltName
done

# ---- Security Object --------------------------------------------------------------
Y -a read-object --id 0x5fc106 2>/dev/null | xxd -r -p >so.bin
Y -a verify-pin -P "$PIN" -a read-object --id 0x5fc109 2>/dev/null | xxd -r -p >pi.bin
check "Security Object and Printed Information read" test -s so.bin -a -s pi.bin
tlv_hex so.bin bb | xxd -r -p >so.sig
check "openssl cms verifies the Security Object (signer certificate given)" openssl cms \
	-verify -inform DER -in so.sig -certfile "$H/ca/signer.crt" -CAfile "$H/ca/chain.pem" \
	-purpose any -binary -out lds.der
openssl asn1parse -inform DER -in lds.der >lds.txt 2>&1
md=sha256; grep -q ':sha384' lds.txt && md=sha384
for f in chuid.bin pi.bin; do
	h=$(openssl dgst -$md -r $f | cut -d' ' -f1)
	check "the Security Object holds the hash of $f" grep -qi "HEX DUMP\]:$h" lds.txt
done

# ---- escrow ---------------------------------------------------------------------
check_out "one current 9D envelope and one PUK envelope" '^1\|1$' sqlite3 "$H/store.db" \
	"select sum(kind = '9d-key' and current = 1), sum(kind = 'puk' and current = 1) from escrow"
sqlite3 "$H/store.db" "select hex(cms) from escrow where kind = '9d-key' and current = 1" |
	xxd -r -p >env.der
openssl pkey -in "$H/ca/kra.key" -passin "file:$TL_PASS" -out kra-plain.key
check "openssl cms -decrypt opens the 9D envelope with the KRA key" openssl cms -decrypt \
	-inform DER -in env.der -recip "$H/ca/kra.crt" -inkey kra-plain.key -out key.p8
openssl pkey -inform DER -in key.p8 -pubout -out escrowed.pub 2>/dev/null
check "the escrowed key is the 9D certificate's" cmp escrowed.pub p03.pem
# Recovered by the person, as a help desk would: a PKCS#12 openssl opens,
# with the card's 9D certificate and its key; audited with the reason.
tl_secret_file p12pass 'recovered p12 passphrase'
check "escrow recover --person with a reason" "$P" escrow recover --home "$H" \
	--person alice.example@example.gov --reason "lost laptop, mail archive" \
	--passphrase-file "$TL_PASS" --p12-passphrase-file p12pass --out recovered.p12
openssl pkcs12 -in recovered.p12 -passin file:p12pass -nocerts -nodes 2>/dev/null |
	openssl pkey -pubout >recovered.pub
check "the recovered key is the 9D certificate's" cmp recovered.pub p03.pem
check_out "the recovery is audited with the operator, the reason and the envelope" \
	'^integ\|lost laptop, mail archive\|escrow:[0-9]+\|[0-9a-f]+$' sqlite3 "$H/store.db" \
	"SELECT actor || '|' || json_extract(detail, '\$.reason') || '|' || object || '|' || \
	json_extract(detail, '\$.cert') FROM audit WHERE action = 'escrow.recover'"
# the trace: the modulus of the 9D key is there (positive control), its
# prime and the PIN are not
spaced() { tr -d ' :\n' | sed -E 's/^(00)+//' | cut -c1-24 | sed -E 's/(..)/\1 /g; s/ $//'; }
field() { openssl pkey -inform DER -in key.p8 -noout -text | awk -v f="$1:" '$1 == f { on = 1; next }
	/^[a-zA-Z]/ { on = 0 } on'; }
modulus=$(field modulus | spaced)
prime=$(field prime1 | spaced)
check "the trace shows the 9D public modulus ($modulus)" grep -q "$modulus" trace.txt
check "the trace does not show the 9D private key's prime" test -n "$prime" -a -n "$(grep -c "$prime" trace.txt | grep -x 0)"
check "the trace does not show the PIN" test "$(grep -c '32 34 36 38 31 33 35 37' trace.txt)" = 0
check_out "the trace redacts both CHANGE REFERENCE DATA" '^2$' grep -c '^> 00 24 00 8[01] 10 \*\* ' trace.txt
check "audit verify passes" "$P" audit verify --home "$H"
# A certificate's status changed behind pivstation's back: exit 7, named.
cp -a "$H" tampered
s9a=$(sqlite3 tampered/store.db "SELECT serial FROM certificates WHERE slot = 154")
sqlite3 tampered/store.db "UPDATE certificates SET status = 'revoked', revoked_at = 1, reason = 1 WHERE serial = '$s9a'"
check_out "audit verify names the altered certificate (exit 7)" "^exit 7 .*certificates row [0-9]+ \(cert:$s9a\) was altered" \
	bash -c 'out=$("$0" audit verify --home "$1" 2>&1); echo "exit $? $out"' "$P" tampered
# A step of the issuance job marked pending again by hand: the job is named.
cp -a "$H" tampered-job
sqlite3 tampered-job/store.db "UPDATE job_steps SET state = 'pending' WHERE name = 'secobj'"
check_out "audit verify names the job whose step was altered (exit 7)" \
	'^exit 7 .*jobs row 1 \(job:1\) was altered' \
	bash -c 'out=$("$0" audit verify --home "$1" 2>&1); echo "exit $? $out"' "$P" tampered-job

# ---- management key ----------------------------------------------------------------
check_fails_out "the factory management key no longer authenticates" '[Aa]uthenticat' \
	Y -a set-chuid
tl_done
