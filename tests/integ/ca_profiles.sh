#!/usr/bin/env bash
# ca_profiles.sh: the PIV certificate profiles judged by openssl.  For each
# slot (9a 9c 9d 9e) and key type (P-256, P-384, RSA 2048, RSA 3072; keys
# made by openssl), `pivstation ca issue` makes a certificate that
# `openssl verify -x509_strict -policy <the slot's OID> -explicit_policy`
# accepts against the CA chain and refuses under another slot's policy,
# and whose `openssl x509 -text` shows the slot's key usage, EKU and SAN
# (FASC-N otherName as the 25 bytes, card UUID URI), and whose 9a and 9e
# carry the PIV interim indicator, a non-critical DER BOOLEAN
# (openssl asn1parse), as [certificates] piv_interim says.  Then the production
# OIDs on a production CA, and inputs that must be refused.  No card: no
# pcsc sandbox.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none
set -e

FASCN=D4E739DA739CED39CE739D836858210842108421C84210C3EB
FASCN_S=S9999F9999F999999F0F1F0000000000300001E
UUID=3f6c1a22-9b4e-4d1c-8a55-0e9d7120c4b7
EXPIRY=$(date -u -d '+4 years' +%Y-%m-%d)
# the settings these checks rely on, stated here rather than inherited
tl_station --alg p384 --env --set crl=http://crl.integ.test/piv.crl \
	--set ocsp=http://ocsp.integ.test/ --set ca_issuers=http://aia.integ.test/issuing.p7c \
	--set "eku_9a=client_auth, pkinit" --set "rfc822=9c, 9d" --set upn=9a

declare -A POLICY=([9a]=2.16.840.1.101.3.2.1.48.11 [9c]=2.16.840.1.101.3.2.1.48.9
	[9d]=2.16.840.1.101.3.2.1.48.9 [9e]=2.16.840.1.101.3.2.1.48.13)
declare -A OTHER=([9a]=2.16.840.1.101.3.2.1.48.13 [9c]=2.16.840.1.101.3.2.1.48.11
	[9d]=2.16.840.1.101.3.2.1.48.13 [9e]=2.16.840.1.101.3.2.1.48.11)

mkkey() {	# mkkey NAME: EC P-256/P-384 or RSA 2048/3072
	case $1 in
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 ;;
	rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 ;;
	rsa3072) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 ;;
	esac 2>/dev/null | openssl pkey -pubout -out "$TL_TMP/$1.pub"
}

# the DER bytes of the pivFASC-N otherName value, from the certificate
san_fascn() {
	local off
	openssl x509 -in "$1" -outform DER -out "$TL_TMP/c.der"
	off=$(openssl asn1parse -inform DER -in "$TL_TMP/c.der" | grep -A2 ":X509v3 Subject Alternative Name" \
		| grep "OCTET STRING" | cut -d: -f1 | tr -d ' ')
	openssl asn1parse -inform DER -in "$TL_TMP/c.der" -strparse "$off" \
		| grep -A3 ":2.16.840.1.101.3.6.6" | grep "OCTET STRING" | sed 's/.*HEX DUMP\]://'
}

# the PIV interim indicator as openssl asn1parse sees it: "FALSE", "TRUE"
# or "absent"; fails unless it is a non-critical extension whose value is
# exactly one DER BOOLEAN
interim() {
	local off
	openssl x509 -in "$1" -outform DER -out "$TL_TMP/i.der"
	openssl asn1parse -inform DER -in "$TL_TMP/i.der" >"$TL_TMP/i.txt"
	if ! grep -q ":2.16.840.1.101.3.6.9.1" "$TL_TMP/i.txt"; then echo absent; return; fi
	# OBJECT, then the OCTET STRING at once (no critical BOOLEAN between)
	grep -A1 ":2.16.840.1.101.3.6.9.1" "$TL_TMP/i.txt" | tail -1 | grep -q "prim: OCTET STRING" ||
		{ echo "not an OCTET STRING right after the OID (critical?)"; return; }
	off=$(grep -A1 ":2.16.840.1.101.3.6.9.1" "$TL_TMP/i.txt" | tail -1 | cut -d: -f1 | tr -d ' ')
	openssl asn1parse -inform DER -in "$TL_TMP/i.der" -strparse "$off" >"$TL_TMP/iv.txt" || { echo unparsable; return; }
	[ "$(wc -l <"$TL_TMP/iv.txt")" = 1 ] || { echo "more than one value"; return; }
	grep -Eq '^ +0:d=0 +hl=2 l= +1 prim: BOOLEAN +:(0|255)$' "$TL_TMP/iv.txt" ||
		{ echo "not a DER BOOLEAN: $(cat "$TL_TMP/iv.txt")"; return; }
	if grep -q ':255$' "$TL_TMP/iv.txt"; then echo TRUE; else echo FALSE; fi
}

n=0
for alg in p256 p384 rsa2048 rsa3072; do
	mkkey $alg
	for slot in 9a 9c 9d 9e; do
		c=$TL_TMP/$slot-$alg.pem
		subject=(--subject "C=US, O=Integ Agency, OU=People, CN=Jane Doe")
		[ $slot = 9e ] && subject=()
		"$P" ca issue --home "$H" --slot $slot --pubkey "$TL_TMP/$alg.pub" --fascn $FASCN_S \
			--uuid $UUID --expiry "$EXPIRY" "${subject[@]}" --email jane.doe@example.gov \
			--upn jdoe@example.gov \
			--out "$c" 2>"$TL_TMP/serial" || tl_fail "issue $slot $alg"
		grep -Eq '^serial [0-9a-f]{32}$' "$TL_TMP/serial" || tl_fail "serial line: $(cat "$TL_TMP/serial")"
		openssl verify -x509_strict -CAfile "$H/ca/root.crt" -untrusted "$H/ca/issuing.crt" \
			-policy "${POLICY[$slot]}" -explicit_policy "$c" >/dev/null \
			|| tl_fail "openssl verify $slot $alg with ${POLICY[$slot]}"
		if openssl verify -CAfile "$H/ca/root.crt" -untrusted "$H/ca/issuing.crt" \
			-policy "${OTHER[$slot]}" -explicit_policy "$c" >/dev/null 2>&1; then
			tl_fail "$slot $alg verifies under ${OTHER[$slot]}"
		fi
		openssl x509 -in "$c" -noout -text >"$TL_TMP/t"
		ku=$(grep -A1 "X509v3 Key Usage: critical" "$TL_TMP/t" | tail -1 | sed 's/^ *//')
		case $slot in
		9a|9e) want="Digital Signature" ;;
		9c) want="Digital Signature, Non Repudiation" ;;
		9d) if [[ $alg == rsa* ]]; then want="Key Encipherment"; else want="Key Agreement"; fi ;;
		esac
		[ "$ku" = "$want" ] || tl_fail "$slot $alg key usage '$ku', want '$want'"
		case $slot in
		9a) grep -A1 "X509v3 Extended Key Usage: *$" "$TL_TMP/t" | tail -1 \
			| grep -q "TLS Web Client Authentication, .*1.3.6.1.5.2.3.4\|TLS Web Client Authentication, PKINIT" \
			|| tl_fail "9a EKU: $(grep -A1 "Extended Key Usage" "$TL_TMP/t")"
		    grep -q "othername: UPN::jdoe@example.gov" "$TL_TMP/t" || tl_fail "9a lacks the UPN"
		    ! grep -q "email:" "$TL_TMP/t" || tl_fail "9a carries an e-mail" ;;
		9e) grep -A1 "X509v3 Extended Key Usage: critical" "$TL_TMP/t" | tail -1 | grep -qx " *2.16.840.1.101.3.6.8" \
			|| tl_fail "9e EKU must be id-PIV-cardAuth alone, critical" ;;
		*) ! grep -q "Extended Key Usage" "$TL_TMP/t" || tl_fail "$slot has an EKU" ;;
		esac
		if [ $slot = 9a ] || [ $slot = 9e ]; then
			grep -q "othername: 2.16.840.1.101.3.6.6::" "$TL_TMP/t" || tl_fail "$slot SAN lacks the FASC-N"
			grep -q "URI:urn:uuid:$UUID" "$TL_TMP/t" || tl_fail "$slot SAN lacks the UUID"
			[ "$(san_fascn "$c")" = $FASCN ] || tl_fail "$slot FASC-N bytes: $(san_fascn "$c")"
		fi
		case $slot in
		9a|9e) want=FALSE ;;
		*) want=absent ;;
		esac
		[ "$(interim "$c")" = $want ] || tl_fail "$slot $alg PIV interim indicator: $(interim "$c"), want $want"
		if [ $slot = 9e ]; then
			grep -q "X509v3 Subject Alternative Name: critical" "$TL_TMP/t" || tl_fail "9e SAN not critical"
			grep -q "^ *Subject: *$" "$TL_TMP/t" || tl_fail "9e subject not empty"
			! grep -q "email:" "$TL_TMP/t" || tl_fail "9e carries an e-mail"
		fi
		if [ $slot = 9c ] || [ $slot = 9d ]; then
			grep -q "email:jane.doe@example.gov" "$TL_TMP/t" || tl_fail "$slot lacks the e-mail"
		fi
		grep -q "OCSP - URI:http://ocsp.integ.test/$" "$TL_TMP/t" || tl_fail "$slot lacks OCSP"
		grep -q "CA Issuers - URI:http://aia.integ.test/issuing.p7c" "$TL_TMP/t" || tl_fail "$slot lacks caIssuers"
		grep -q "URI:http://crl.integ.test/piv.crl" "$TL_TMP/t" || tl_fail "$slot lacks the CRL DP"
		[ "$(openssl x509 -in "$c" -noout -serial | cut -d= -f2 | tr -d '\n' | wc -c)" = 32 ] \
			|| tl_fail "$slot serial is not 16 bytes"
		# never past the card
		end=$(date -d "$(openssl x509 -in "$c" -noout -enddate | cut -d= -f2)" +%s)
		[ "$end" -le "$(date -u -d "$EXPIRY 23:59:59" +%s)" ] || tl_fail "$slot outlives the card"
		n=$((n + 1))
	done
done
[ $n = 16 ] || tl_fail "only $n certificates checked"

# the card expiry cuts the validity
"$P" ca issue --home "$H" --slot 9c --pubkey "$TL_TMP/p256.pub" --fascn $FASCN --uuid $UUID \
	--expiry "$(date -u -d '+100 days' +%Y-%m-%d)" --subject "CN=Short" --out "$TL_TMP/short.pem" 2>/dev/null
end=$(date -d "$(openssl x509 -in "$TL_TMP/short.pem" -noout -enddate | cut -d= -f2)" +%s)
[ $(( (end - $(date +%s)) / 86400 )) -le 101 ] || tl_fail "validity not cut at the card expiry"

# [certificates] piv_interim: TRUE for a pending investigation, or left out
tl_conf "$H" piv_interim yes
for slot in 9a 9e; do
	subject=(--subject "CN=Pending"); [ $slot = 9e ] && subject=()
	"$P" ca issue --home "$H" --slot $slot --pubkey "$TL_TMP/p256.pub" --fascn $FASCN --uuid $UUID \
		--expiry "$EXPIRY" "${subject[@]}" --out "$TL_TMP/pending-$slot.pem" 2>/dev/null || tl_fail "issue $slot pending"
	[ "$(interim "$TL_TMP/pending-$slot.pem")" = TRUE ] || tl_fail "$slot pending: $(interim "$TL_TMP/pending-$slot.pem")"
done
tl_conf "$H" piv_interim omit
"$P" ca issue --home "$H" --slot 9a --pubkey "$TL_TMP/p256.pub" --fascn $FASCN --uuid $UUID \
	--expiry "$EXPIRY" --subject "CN=Omitted" --out "$TL_TMP/omit.pem" 2>/dev/null || tl_fail "issue 9a omit"
[ "$(interim "$TL_TMP/omit.pem")" = absent ] || tl_fail "9a with omit: $(interim "$TL_TMP/omit.pem")"
tl_conf "$H" piv_interim no

# production OIDs on a production CA
H2=$TL_TMP/home2
"$P" ca init --home "$H2" --policies production >/dev/null
"$P" ca issue --home "$H2" --policies production --slot 9a --pubkey "$TL_TMP/rsa2048.pub" --fascn $FASCN \
	--uuid $UUID --expiry "$EXPIRY" --subject "CN=Jane Doe" --out "$TL_TMP/prod.pem" 2>/dev/null
openssl verify -x509_strict -CAfile "$H2/ca/root.crt" -untrusted "$H2/ca/issuing.crt" \
	-policy 2.16.840.1.101.3.2.1.3.13 -explicit_policy "$TL_TMP/prod.pem" >/dev/null || tl_fail "production 9a"

# refused inputs, each with a message naming the problem
bad() {	# bad EXIT PATTERN ARGS...
	local want=$1 pat=$2 rc=0
	shift 2
	"$P" ca issue --home "$H" "$@" --out "$TL_TMP/bad.pem" >/dev/null 2>"$TL_TMP/err" || rc=$?
	[ $rc = "$want" ] || tl_fail "'$*': exit $rc, want $want ($(cat "$TL_TMP/err"))"
	grep -q -- "$pat" "$TL_TMP/err" || tl_fail "'$*' said: $(cat "$TL_TMP/err")"
	[ ! -e "$TL_TMP/bad.pem" ] || tl_fail "'$*' wrote a certificate"
}
bad 6 "email:" --slot 9c --pubkey "$TL_TMP/p256.pub" --fascn $FASCN --uuid $UUID --expiry "$EXPIRY" \
	--subject "CN=x" --email "not an address"
bad 6 "FASC-N" --slot 9a --pubkey "$TL_TMP/p256.pub" --fascn D4E739DA739CED39CE739D836858210842108421C84210C3EA \
	--uuid $UUID --expiry "$EXPIRY" --subject "CN=x"
bad 6 "expiry" --slot 9a --pubkey "$TL_TMP/p256.pub" --fascn $FASCN --uuid $UUID --expiry 2020-01-01 \
	--subject "CN=x"
bad 6 "subject" --slot 9a --pubkey "$TL_TMP/p256.pub" --fascn $FASCN --uuid $UUID --expiry "$EXPIRY"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 2>/dev/null \
	| openssl pkey -pubout -out "$TL_TMP/e3.pub"
bad 6 "65537" --slot 9a --pubkey "$TL_TMP/e3.pub" --fascn $FASCN --uuid $UUID --expiry "$EXPIRY" --subject "CN=x"
bad 2 "uuid" --slot 9a --pubkey "$TL_TMP/p256.pub" --fascn $FASCN --uuid nope --expiry "$EXPIRY"
echo "ok: $n profiles"
