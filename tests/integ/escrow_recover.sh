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
set -euo pipefail
B=${PV_BIN:?PV_BIN: the build directory}
P=$B/pivstation
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset PIVSTATION_HOME PIVSTATION_KRA_PASSPHRASE PIVSTATION_P12_PASSPHRASE
export PIVSTATION_OPERATOR=integ PIVSTATION_CA_PASSPHRASE="escrow ca passphrase"

FASCN=D4E739DA739CED39CE739D836858210842108421C84210C3EB
UUID=3f6c1a22-9b4e-4d1c-8a55-0e9d7120c4b7
EXPIRY=$(date -u -d '+4 years' +%Y-%m-%d)
printf 'p12 export passphrase\n' >"$T/p12pass"
printf 'escrow kra passphrase\n' >"$T/krapass"
chmod 600 "$T/p12pass" "$T/krapass"

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
		H=$T/home-$kra
		D=$T/$kra-$key
		mkdir "$D"
		[ -d "$H" ] || "$P" init --home "$H" --admin integ >/dev/null || fail "init"
		[ -d "$H/ca" ] || "$P" ca init --home "$H" --alg p256 --kra-alg $kra \
			--kra-passphrase-file "$T/krapass" >/dev/null || fail "ca init ($kra KRA)"
		"$P" escrow keygen --home "$H" --alg $key --envelope "$D/env.der" --pubkey "$D/pub.pem" \
			>/dev/null || fail "escrow keygen $key"
		[ "$(stat -c %a "$D/env.der")" = 600 ] || fail "envelope mode"
		"$P" ca issue --home "$H" --slot 9d --pubkey "$D/pub.pem" --fascn $FASCN --uuid $UUID \
			--expiry "$EXPIRY" --subject "CN=Jane Doe" --out "$D/9d.pem" 2>/dev/null || fail "ca issue 9d"

		# the shape
		openssl cms -cmsout -print -inform DER -in "$D/env.der" >"$D/print"
		grep -q "contentType: pkcs7-envelopedData" "$D/print" || fail "$kra/$key: not EnvelopedData"
		grep -A1 "contentEncryptionAlgorithm:" "$D/print" | grep -q "aes-256-cbc" \
			|| fail "$kra/$key: content not AES-256-CBC"
		case $kra in
		rsa*) grep -q "d.ktri:" "$D/print" || fail "$kra: no ktri"
		      grep -A1 "keyEncryptionAlgorithm:" "$D/print" | grep -q "rsaesOaep" || fail "$kra: not OAEP" ;;
		p*) grep -q "d.kari:" "$D/print" || fail "$kra: no kari"
		    grep -A1 "keyEncryptionAlgorithm:" "$D/print" | grep -q "dhSinglePass-stdDH-sha256kdf-scheme" \
			|| fail "$kra: KDF not SHA-256" ;;
		esac

		# the judge: openssl opens it with the KRA certificate and key
		openssl pkey -in "$H/ca/kra.key" -passin "file:$T/krapass" -out "$D/kra-plain.key"
		openssl cms -decrypt -inform DER -in "$D/env.der" -recip "$H/ca/kra.crt" \
			-inkey "$D/kra-plain.key" -out "$D/key.p8" || fail "$kra/$key: openssl cms -decrypt"
		openssl pkey -inform DER -in "$D/key.p8" -pubout >"$D/recovered.pub" \
			|| fail "$kra/$key: the content is not a PKCS#8 key"
		openssl x509 -in "$D/9d.pem" -noout -pubkey >"$D/cert.pub"
		cmp -s "$D/recovered.pub" "$D/cert.pub" || fail "$kra/$key: recovered key differs from the 9d certificate's"
		cmp -s "$D/recovered.pub" "$D/pub.pem" || fail "$kra/$key: recovered key differs from keygen's"

		# recovery to PKCS#12
		"$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" --cert "$D/9d.pem" \
			--passphrase-file "$T/krapass" --p12-passphrase-file "$T/p12pass" \
			--name "Jane Doe key management" --out "$D/out.p12" >/dev/null || fail "$kra/$key: recover"
		[ "$(stat -c %a "$D/out.p12")" = 600 ] || fail "p12 mode"
		openssl pkcs12 -in "$D/out.p12" -passin "file:$T/p12pass" -info -noout 2>"$D/info" \
			|| fail "$kra/$key: openssl pkcs12: $(cat "$D/info")"
		grep -q "MAC: sha256" "$D/info" || fail "$kra/$key: MAC not SHA-256: $(cat "$D/info")"
		grep -q "PBES2, PBKDF2, AES-256-CBC" "$D/info" || fail "$kra/$key: bags not AES-256"
		openssl pkcs12 -in "$D/out.p12" -passin "file:$T/p12pass" -nocerts -nodes 2>/dev/null \
			| openssl pkey -pubout >"$D/p12.pub"
		cmp -s "$D/p12.pub" "$D/cert.pub" || fail "$kra/$key: PKCS#12 key differs"
		openssl pkcs12 -in "$D/out.p12" -passin "file:$T/p12pass" -nokeys -clcerts 2>/dev/null \
			| openssl x509 -outform DER >"$D/p12.der"
		openssl x509 -in "$D/9d.pem" -outform DER | cmp -s - "$D/p12.der" || fail "$kra/$key: PKCS#12 certificate differs"
		if openssl pkcs12 -in "$D/out.p12" -passin pass:wrong -noout 2>/dev/null; then
			fail "$kra/$key: PKCS#12 opens with a wrong passphrase"
		fi
		n=$((n + 1))
	done
done
[ $n = 6 ] || fail "only $n cases"
# each recovery is in the log, with who and why
[ "$(audited "$T/home-p384")" = "$(printf 'escrow.recover|integ|%s|\nescrow.recover|integ|%s|' "$REASON" "$REASON")" ] ||
	fail "recoveries audited: $(audited "$T/home-p384")"

# refusals
H=$T/home-p384
D=$T/p384-p256
rc=0; "$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" --cert "$D/9d.pem" \
	--passphrase-fd 3 --p12-passphrase-file "$T/p12pass" --out "$T/x.p12" 3<<<"wrong kra pass" \
	>/dev/null 2>"$T/err" || rc=$?
[ $rc = 5 ] || fail "wrong KRA passphrase: exit $rc ($(cat "$T/err"))"
[ ! -e "$T/x.p12" ] || fail "a PKCS#12 was written with a wrong passphrase"
[ "$(audited "$H" | tail -1)" = "escrow.recover.refused|integ|$REASON|auth" ] ||
	fail "wrong KRA passphrase not audited: $(audited "$H" | tail -1)"
rc=0; "$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" --cert "$T/p384-rsa2048/9d.pem" \
	--passphrase-file "$T/krapass" --p12-passphrase-file "$T/p12pass" --out "$T/x.p12" \
	>/dev/null 2>"$T/err" || rc=$?
[ $rc = 7 ] || fail "foreign certificate: exit $rc ($(cat "$T/err"))"
grep -q "does not belong" "$T/err" || fail "foreign certificate said: $(cat "$T/err")"
[ "$(audited "$H" | tail -1)" = "escrow.recover.refused|integ|$REASON|verify" ] ||
	fail "foreign certificate not audited: $(audited "$H" | tail -1)"
# no reason, or one with a control character: usage, before any attempt
before=$(audited "$H" | wc -l)
rc=0; "$P" escrow recover --home "$H" --envelope "$D/env.der" --cert "$D/9d.pem" \
	--passphrase-file "$T/krapass" --p12-passphrase-file "$T/p12pass" --out "$T/x.p12" \
	>/dev/null 2>"$T/err" || rc=$?
[ $rc = 2 ] || fail "no --reason: exit $rc ($(cat "$T/err"))"
grep -q "a reason is required" "$T/err" || fail "no --reason said: $(cat "$T/err")"
rc=0; "$P" escrow recover --reason "$(printf 'a\tb')" --home "$H" --envelope "$D/env.der" \
	--cert "$D/9d.pem" --passphrase-file "$T/krapass" --p12-passphrase-file "$T/p12pass" \
	--out "$T/x.p12" >/dev/null 2>"$T/err" || rc=$?
[ $rc = 2 ] || fail "a reason with a tab: exit $rc ($(cat "$T/err"))"
[ "$(audited "$H" | wc -l)" = "$before" ] || fail "a usage error was audited as an attempt"
# an operator whose role may not recover: refused, and that is audited
"$P" operator add --home "$H" clerk --role enroller >/dev/null || fail "operator add"
rc=0; PIVSTATION_OPERATOR=clerk "$P" escrow recover --reason "$REASON" --home "$H" \
	--envelope "$D/env.der" --cert "$D/9d.pem" --passphrase-file "$T/krapass" \
	--p12-passphrase-file "$T/p12pass" --out "$T/x.p12" >/dev/null 2>"$T/err" || rc=$?
[ $rc = 1 ] || fail "an enroller recovering: exit $rc ($(cat "$T/err"))"
grep -q "may not" "$T/err" || fail "an enroller recovering said: $(cat "$T/err")"
[ ! -e "$T/x.p12" ] || fail "a PKCS#12 was written for an enroller"
audited "$H" | tail -1 | grep -q "^escrow.recover.refused|clerk|$REASON|" ||
	fail "the enroller's attempt not audited: $(audited "$H" | tail -1)"
rc=0; "$P" escrow recover --reason "$REASON" --home "$T/home-rsa2048" --envelope "$D/env.der" --cert "$D/9d.pem" \
	--passphrase-file "$T/krapass" --p12-passphrase-file "$T/p12pass" --out "$T/x.p12" \
	>/dev/null 2>"$T/err" || rc=$?
[ $rc = 7 ] || fail "another station's KRA: exit $rc ($(cat "$T/err"))"
rc=0; "$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" --cert "$D/9d.pem" \
	--passphrase-file "$T/krapass" --p12-passphrase-file "$T/p12pass" --out "$D/out.p12" \
	>/dev/null 2>"$T/err" || rc=$?
[ $rc = 1 ] || fail "existing output: exit $rc"
# the PKCS#12 passphrase follows the CA's rule (8 characters), naming
# where it came from; nothing is written
printf 'x\n' >"$T/p12short"
rc=0; "$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" --cert "$D/9d.pem" \
	--passphrase-file "$T/krapass" --p12-passphrase-file "$T/p12short" --out "$T/x.p12" \
	>/dev/null 2>"$T/err" || rc=$?
[ $rc = 6 ] || fail "a 1-character PKCS#12 passphrase: exit $rc ($(cat "$T/err"))"
grep -q -- "--p12-passphrase-file $T/p12short: PKCS#12 passphrase: 1 character, at least 8" "$T/err" ||
	fail "short PKCS#12 passphrase said: $(cat "$T/err")"
[ ! -e "$T/x.p12" ] || fail "a PKCS#12 was written with a 1-character passphrase"
rc=0; PIVSTATION_P12_PASSPHRASE=1234567 "$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" \
	--cert "$D/9d.pem" --passphrase-file "$T/krapass" --out "$T/x.p12" >/dev/null 2>"$T/err" || rc=$?
[ $rc = 6 ] || fail "a 7-character PKCS#12 passphrase: exit $rc ($(cat "$T/err"))"
grep -q -- "PIVSTATION_P12_PASSPHRASE: PKCS#12 passphrase: 7 characters, at least 8" "$T/err" ||
	fail "short PKCS#12 passphrase from the environment said: $(cat "$T/err")"
rc=0; setsid -w "$P" escrow recover --reason "$REASON" --home "$H" --envelope "$D/env.der" --cert "$D/9d.pem" \
	--passphrase-file "$T/krapass" --out "$T/y.p12" </dev/null >/dev/null 2>"$T/err" || rc=$?
[ $rc = 6 ] || fail "no PKCS#12 passphrase and no terminal: exit $rc ($(cat "$T/err"))"
"$P" audit verify --home "$H" >/dev/null || fail "audit verify after the recoveries"
echo "ok: $n envelopes"
