#!/usr/bin/env bash
# escrow_recover.sh: key escrow judged by openssl.  `pivstation escrow
# keygen` makes a 9d key on the host and seals it to the KRA; `openssl cms
# -decrypt -inform DER -recip kra.crt -inkey kra.key` opens the envelope
# (EC KRA: ECDH key agreement; RSA KRA: RSA-OAEP) and the private key
# inside matches the public key of the 9d certificate `ca issue` makes for
# it; the envelope uses AES-256.  `pivstation escrow recover` writes a
# PKCS#12 (0600) that `openssl pkcs12` opens with its passphrase: SHA-256
# MAC, AES-256 bags, the same key and certificate.  A wrong KRA
# passphrase, a foreign certificate and an existing output file are
# refused.  Every attempt (with its required --reason) is in the audit
# log, the refused ones too, and the log still verifies.  No card: no
# pcsc sandbox.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none
set -e
export PIVSTATION_OPERATOR=integ PIVSTATION_CA_PASSPHRASE="escrow ca passphrase"

FASCN=D4E739DA739CED39CE739D836858210842108421C84210C3EB
UUID=3f6c1a22-9b4e-4d1c-8a55-0e9d7120c4b7
EXPIRY=$(date -u -d '+4 years' +%Y-%m-%d)
tl_secret_file "$TL_TMP/p12pass" 'p12 export passphrase'
tl_secret_file "$TL_TMP/krapass" 'escrow kra passphrase'

REASON="court order 2026-117"
# audited H ACTION: the escrow.recover* rows of home H, one per line:
# action|actor|reason|error class
audited() {
	sqlite3 "$1/store.db" "SELECT action || '|' || actor || '|' || \
		coalesce(json_extract(detail, '\$.reason'), '') || '|' || \
		coalesce(json_extract(detail, '\$.error'), '') FROM audit \
		WHERE action LIKE 'escrow.recover%' ORDER BY seq"
}

n=0
for kra in p384 rsa2048 rsa3072; do
	for key in p256 rsa2048; do
		H=$TL_TMP/home-$kra
		D=$TL_TMP/$kra-$key
		mkdir "$D"
		[ -d "$H" ] || "$P" init --home "$H" --admin integ >/dev/null || tl_fail "init"
		[ -d "$H/ca" ] || "$P" ca init --home "$H" --alg p256 --kra-alg $kra \
			--kra-passphrase-file "$TL_TMP/krapass" >/dev/null || tl_fail "ca init ($kra KRA)"
		"$P" escrow keygen --home "$H" --alg $key --envelope "$D/env.der" --pubkey "$D/pub.pem" \
			>/dev/null || tl_fail "escrow keygen $key"
		[ "$(stat -c %a "$D/env.der")" = 600 ] || tl_fail "envelope mode"
		"$P" ca issue --home "$H" --slot 9d --pubkey "$D/pub.pem" --fascn $FASCN --uuid $UUID \
			--expiry "$EXPIRY" --subject "CN=Jane Doe" --out "$D/9d.pem" 2>/dev/null || tl_fail "ca issue 9d"

		# the shape
		openssl cms -cmsout -print -inform DER -in "$D/env.der" >"$D/print"
		grep -q "contentType: pkcs7-envelopedData" "$D/print" || tl_fail "$kra/$key: not EnvelopedData"
		grep -A1 "contentEncryptionAlgorithm:" "$D/print" | grep -q "aes-256-cbc" \
			|| tl_fail "$kra/$key: content not AES-256-CBC"
		case $kra in
		rsa*) grep -q "d.ktri:" "$D/print" || tl_fail "$kra: no ktri"
		      grep -A1 "keyEncryptionAlgorithm:" "$D/print" | grep -q "rsaesOaep" || tl_fail "$kra: not OAEP" ;;
		p*) grep -q "d.kari:" "$D/print" || tl_fail "$kra: no kari"
		    grep -A1 "keyEncryptionAlgorithm:" "$D/print" | grep -q "dhSinglePass-stdDH-sha256kdf-scheme" \
			|| tl_fail "$kra: KDF not SHA-256" ;;
		esac

		# the judge: openssl opens it with the KRA certificate and key
		openssl pkey -in "$H/ca/kra.key" -passin "file:$TL_TMP/krapass" -out "$D/kra-plain.key"
		openssl cms -decrypt -inform DER -in "$D/env.der" -recip "$H/ca/kra.crt" \
			-inkey "$D/kra-plain.key" -out "$D/key.p8" || tl_fail "$kra/$key: openssl cms -decrypt"
		openssl pkey -inform DER -in "$D/key.p8" -pubout >"$D/recovered.pub" \
			|| tl_fail "$kra/$key: the content is not a PKCS#8 key"
		openssl x509 -in "$D/9d.pem" -noout -pubkey >"$D/cert.pub"
		cmp -s "$D/recovered.pub" "$D/cert.pub" || tl_fail "$kra/$key: recovered key differs from the 9d certificate's"
		cmp -s "$D/recovered.pub" "$D/pub.pem" || tl_fail "$kra/$key: recovered key differs from keygen's"

		# recovery to PKCS#12
		"$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" --cert "$D/9d.pem" \
			--passphrase-file "$TL_TMP/krapass" --p12-passphrase-file "$TL_TMP/p12pass" \
			--name "Jane Doe key management" --out "$D/out.p12" >/dev/null || tl_fail "$kra/$key: recover"
		[ "$(stat -c %a "$D/out.p12")" = 600 ] || tl_fail "p12 mode"
		openssl pkcs12 -in "$D/out.p12" -passin "file:$TL_TMP/p12pass" -info -noout 2>"$D/info" \
			|| tl_fail "$kra/$key: openssl pkcs12: $(cat "$D/info")"
		grep -q "MAC: sha256" "$D/info" || tl_fail "$kra/$key: MAC not SHA-256: $(cat "$D/info")"
		grep -q "PBES2, PBKDF2, AES-256-CBC" "$D/info" || tl_fail "$kra/$key: bags not AES-256"
		openssl pkcs12 -in "$D/out.p12" -passin "file:$TL_TMP/p12pass" -nocerts -nodes 2>/dev/null \
			| openssl pkey -pubout >"$D/p12.pub"
		cmp -s "$D/p12.pub" "$D/cert.pub" || tl_fail "$kra/$key: PKCS#12 key differs"
		openssl pkcs12 -in "$D/out.p12" -passin "file:$TL_TMP/p12pass" -nokeys -clcerts 2>/dev/null \
			| openssl x509 -outform DER >"$D/p12.der"
		openssl x509 -in "$D/9d.pem" -outform DER | cmp -s - "$D/p12.der" || tl_fail "$kra/$key: PKCS#12 certificate differs"
		if openssl pkcs12 -in "$D/out.p12" -passin pass:wrong -noout 2>/dev/null; then
			tl_fail "$kra/$key: PKCS#12 opens with a wrong passphrase"
		fi
		n=$((n + 1))
	done
done
[ $n = 6 ] || tl_fail "only $n cases"
# each recovery is in the log, with who and why
[ "$(audited "$TL_TMP/home-p384")" = "$(printf 'escrow.recover|integ|%s|\nescrow.recover|integ|%s|' "$REASON" "$REASON")" ] ||
	tl_fail "recoveries audited: $(audited "$TL_TMP/home-p384")"

# --json: what was written, with its size
H=$TL_TMP/home-p384
D=$TL_TMP/json
mkdir "$D"
"$P" escrow keygen --home "$H" --alg rsa2048 --envelope "$D/env.der" --pubkey "$D/pub.pem" \
	--json >"$D/keygen.json" || tl_fail "escrow keygen --json"
jq -e --argjson n "$(stat -c %s "$D/env.der")" '.alg == "rsa2048" and .envelope_bytes == $n' \
	"$D/keygen.json" >/dev/null || tl_fail "escrow keygen --json: $(cat "$D/keygen.json")"
"$P" ca issue --home "$H" --slot 9d --pubkey "$D/pub.pem" --fascn $FASCN --uuid $UUID \
	--expiry "$EXPIRY" --subject "CN=Jane Doe" --out "$D/9d.pem" 2>/dev/null || tl_fail "ca issue 9d (json)"
"$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" \
	--cert "$D/9d.pem" --passphrase-file "$TL_TMP/krapass" --p12-passphrase-file "$TL_TMP/p12pass" \
	--out "$D/out.p12" --json >"$D/recover.json" || tl_fail "escrow recover --json"
jq -e --arg out "$D/out.p12" --argjson n "$(stat -c %s "$D/out.p12")" \
	'.out == $out and .bytes == $n' "$D/recover.json" >/dev/null ||
	tl_fail "escrow recover --json: $(cat "$D/recover.json")"

# refusals
H=$TL_TMP/home-p384
D=$TL_TMP/p384-p256
rc=0; "$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" --cert "$D/9d.pem" \
	--passphrase-fd 3 --p12-passphrase-file "$TL_TMP/p12pass" --out "$TL_TMP/x.p12" 3<<<"wrong kra pass" \
	>/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 5 ] || tl_fail "wrong KRA passphrase: exit $rc ($(cat "$TL_TMP/err"))"
[ ! -e "$TL_TMP/x.p12" ] || tl_fail "a PKCS#12 was written with a wrong passphrase"
[ "$(audited "$H" | tail -1)" = "escrow.recover.refused|integ|$REASON|auth" ] ||
	tl_fail "wrong KRA passphrase not audited: $(audited "$H" | tail -1)"
rc=0; "$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" --cert "$TL_TMP/p384-rsa2048/9d.pem" \
	--passphrase-file "$TL_TMP/krapass" --p12-passphrase-file "$TL_TMP/p12pass" --out "$TL_TMP/x.p12" \
	>/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 7 ] || tl_fail "foreign certificate: exit $rc ($(cat "$TL_TMP/err"))"
grep -q "does not belong" "$TL_TMP/err" || tl_fail "foreign certificate said: $(cat "$TL_TMP/err")"
[ "$(audited "$H" | tail -1)" = "escrow.recover.refused|integ|$REASON|verify" ] ||
	tl_fail "foreign certificate not audited: $(audited "$H" | tail -1)"
# no reason, or one with a control character: usage, before any attempt
before=$(audited "$H" | wc -l)
rc=0; "$P" escrow recover --home "$H" --envelope "$D/env.der" --cert "$D/9d.pem" \
	--passphrase-file "$TL_TMP/krapass" --p12-passphrase-file "$TL_TMP/p12pass" --out "$TL_TMP/x.p12" \
	>/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 2 ] || tl_fail "no --reason: exit $rc ($(cat "$TL_TMP/err"))"
grep -q "a reason is required" "$TL_TMP/err" || tl_fail "no --reason said: $(cat "$TL_TMP/err")"
rc=0; "$P" escrow recover --reason "$(printf 'a\tb')" --home "$H" --envelope "$D/env.der" \
	--cert "$D/9d.pem" --passphrase-file "$TL_TMP/krapass" --p12-passphrase-file "$TL_TMP/p12pass" \
	--out "$TL_TMP/x.p12" >/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 2 ] || tl_fail "a reason with a tab: exit $rc ($(cat "$TL_TMP/err"))"
[ "$(audited "$H" | wc -l)" = "$before" ] || tl_fail "a usage error was audited as an attempt"
# an operator whose role may not recover: refused, and that is audited
"$P" operator add --home "$H" clerk --role enroller >/dev/null || tl_fail "operator add"
rc=0; PIVSTATION_OPERATOR=clerk "$P" escrow recover --reason "$REASON" --home "$H" \
	--envelope "$D/env.der" --cert "$D/9d.pem" --passphrase-file "$TL_TMP/krapass" \
	--p12-passphrase-file "$TL_TMP/p12pass" --out "$TL_TMP/x.p12" >/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 1 ] || tl_fail "an enroller recovering: exit $rc ($(cat "$TL_TMP/err"))"
grep -q "may not" "$TL_TMP/err" || tl_fail "an enroller recovering said: $(cat "$TL_TMP/err")"
[ ! -e "$TL_TMP/x.p12" ] || tl_fail "a PKCS#12 was written for an enroller"
audited "$H" | tail -1 | grep -q "^escrow.recover.refused|clerk|$REASON|" ||
	tl_fail "the enroller's attempt not audited: $(audited "$H" | tail -1)"
rc=0; "$P" escrow recover --reason "$REASON" --home "$TL_TMP/home-rsa2048" --envelope "$D/env.der" --cert "$D/9d.pem" \
	--passphrase-file "$TL_TMP/krapass" --p12-passphrase-file "$TL_TMP/p12pass" --out "$TL_TMP/x.p12" \
	>/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 7 ] || tl_fail "another station's KRA: exit $rc ($(cat "$TL_TMP/err"))"
rc=0; "$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" --cert "$D/9d.pem" \
	--passphrase-file "$TL_TMP/krapass" --p12-passphrase-file "$TL_TMP/p12pass" --out "$D/out.p12" \
	>/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 1 ] || tl_fail "existing output: exit $rc"
# the PKCS#12 passphrase follows the CA's rule (8 characters), naming
# where it came from; nothing is written
tl_secret_file "$TL_TMP/p12short" x
rc=0; "$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" --cert "$D/9d.pem" \
	--passphrase-file "$TL_TMP/krapass" --p12-passphrase-file "$TL_TMP/p12short" --out "$TL_TMP/x.p12" \
	>/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 6 ] || tl_fail "a 1-character PKCS#12 passphrase: exit $rc ($(cat "$TL_TMP/err"))"
grep -q -- "--p12-passphrase-file $TL_TMP/p12short: PKCS#12 passphrase: 1 character, at least 8" "$TL_TMP/err" ||
	tl_fail "short PKCS#12 passphrase said: $(cat "$TL_TMP/err")"
[ ! -e "$TL_TMP/x.p12" ] || tl_fail "a PKCS#12 was written with a 1-character passphrase"
rc=0; PIVSTATION_P12_PASSPHRASE=1234567 "$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" \
	--cert "$D/9d.pem" --passphrase-file "$TL_TMP/krapass" --out "$TL_TMP/x.p12" >/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 6 ] || tl_fail "a 7-character PKCS#12 passphrase: exit $rc ($(cat "$TL_TMP/err"))"
grep -q -- "PIVSTATION_P12_PASSPHRASE: PKCS#12 passphrase: 7 characters, at least 8" "$TL_TMP/err" ||
	tl_fail "short PKCS#12 passphrase from the environment said: $(cat "$TL_TMP/err")"
rc=0; setsid -w "$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" --cert "$D/9d.pem" \
	--passphrase-file "$TL_TMP/krapass" --out "$TL_TMP/y.p12" </dev/null >/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 6 ] || tl_fail "no PKCS#12 passphrase and no terminal: exit $rc ($(cat "$TL_TMP/err"))"
"$P" audit verify --home "$H" >/dev/null || tl_fail "audit verify after the recoveries"
echo "ok: $n envelopes"
