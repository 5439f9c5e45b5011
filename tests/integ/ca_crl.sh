#!/usr/bin/env bash
# ca_crl.sh: `pivstation ca crl` publishes the issuing CA's CRL (DER and
# PEM, 0600) that openssl verifies; its CRL number grows; a revoked
# serial makes `openssl verify -crl_check` refuse that certificate and
# only that one.  On a station with a store the number comes from the
# store and the publication is in the audit log.  No card: no sandbox.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none
set -e

FASCN=D4E739DA739CED39CE739D836858210842108421C84210C3EB
UUID=3f6c1a22-9b4e-4d1c-8a55-0e9d7120c4b7
EXPIRY=$(date -u -d '+4 years' +%Y-%m-%d)
crlnum() { openssl crl -in "$1" -noout -crlnumber | cut -d= -f2; }

# a station without a store: numbers follow the last CRL published
tl_station --no-init --alg p256 --env
"$P" ca crl --home "$H" >"$TL_TMP/out" || tl_fail "ca crl"
grep -q "CRL 1 published: 0 revoked" "$TL_TMP/out" || tl_fail "said: $(cat "$TL_TMP/out")"
for f in crl.der crl.pem; do [ "$(stat -c %a "$H/ca/$f")" = 600 ] || tl_fail "$f mode"; done
openssl crl -in "$H/ca/crl.pem" -CAfile "$H/ca/chain.pem" -noout 2>&1 | grep -q "verify OK" || tl_fail "openssl crl verify"
openssl crl -inform DER -in "$H/ca/crl.der" -outform PEM | cmp -s - "$H/ca/crl.pem" || tl_fail "DER and PEM differ"
[ "$(crlnum "$H/ca/crl.pem")" = 0x01 ] || tl_fail "first CRL number $(crlnum "$H/ca/crl.pem")"
openssl crl -in "$H/ca/crl.pem" -noout -issuer | grep -q "PIV Issuing CA" || tl_fail "CRL issuer"
openssl crl -in "$H/ca/crl.pem" -noout -text >"$TL_TMP/t"
grep -q "Version 2" "$TL_TMP/t" || tl_fail "not a v2 CRL"
grep -q "X509v3 Authority Key Identifier" "$TL_TMP/t" || tl_fail "no AKI"
next=$(date -d "$(openssl crl -in "$H/ca/crl.pem" -noout -nextupdate | cut -d= -f2)" +%s)
[ $(( (next - $(date +%s)) / 3600 )) -ge 167 ] || tl_fail "next update is not a week away"

# two certificates, one revoked
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkey -pubout -out "$TL_TMP/pub.pem"
for c in a b; do
	"$P" ca issue --home "$H" --slot 9a --pubkey "$TL_TMP/pub.pem" --fascn $FASCN --uuid $UUID \
		--expiry "$EXPIRY" --subject "CN=Holder $c" --out "$TL_TMP/$c.pem" 2>/dev/null
done
sa=$(openssl x509 -in "$TL_TMP/a.pem" -noout -serial | cut -d= -f2)
printf '# serial time reason\n%s %s 1\n\n' "$sa" "$(date +%s)" >"$TL_TMP/revoked"
"$P" ca crl --home "$H" --revoked "$TL_TMP/revoked" --hours 24 >"$TL_TMP/out" || tl_fail "ca crl --revoked"
grep -q "CRL 2 published: 1 revoked" "$TL_TMP/out" || tl_fail "said: $(cat "$TL_TMP/out")"
[ "$(crlnum "$H/ca/crl.pem")" = 0x02 ] || tl_fail "second CRL number"
openssl crl -in "$H/ca/crl.pem" -noout -text >"$TL_TMP/t"
grep -qi "Serial Number: $sa" "$TL_TMP/t" || tl_fail "revoked serial not listed"
grep -i -A4 "Serial Number: $sa" "$TL_TMP/t" | grep -q "Key Compromise" || tl_fail "reason not listed"
rc=0; openssl verify -crl_check -CRLfile "$H/ca/crl.pem" -CAfile "$H/ca/root.crt" \
	-untrusted "$H/ca/issuing.crt" "$TL_TMP/a.pem" >"$TL_TMP/v" 2>&1 || rc=$?
[ $rc != 0 ] && grep -q "certificate revoked" "$TL_TMP/v" || tl_fail "revoked certificate accepted: $(cat "$TL_TMP/v")"
openssl verify -crl_check -CRLfile "$H/ca/crl.pem" -CAfile "$H/ca/root.crt" \
	-untrusted "$H/ca/issuing.crt" "$TL_TMP/b.pem" >/dev/null || tl_fail "a good certificate refused"
printf 'zz\n' >"$TL_TMP/bad"
rc=0; "$P" ca crl --home "$H" --revoked "$TL_TMP/bad" >/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 6 ] && grep -q "bad:1:" "$TL_TMP/err" || tl_fail "bad revoked file: exit $rc ($(cat "$TL_TMP/err"))"
[ "$(crlnum "$H/ca/crl.pem")" = 0x02 ] || tl_fail "a failed run published a CRL"
"$P" ca crl --home "$H" --revoked "$TL_TMP/revoked" --json >"$TL_TMP/crl.json" || tl_fail "ca crl --json"
jq -e --arg der "$H/ca/crl.der" '.crl_number == 3 and .entries == 1 and .der == $der' \
	"$TL_TMP/crl.json" >/dev/null || tl_fail "ca crl --json: $(cat "$TL_TMP/crl.json")"

# a station with a store: the store numbers CRLs and the log records them
H2=$TL_TMP/home2
tl_station --home "$H2" --alg p256 --env
"$P" ca crl --home "$H2" >/dev/null
"$P" ca crl --home "$H2" >/dev/null
[ "$(crlnum "$H2/ca/crl.pem")" = 0x02 ] || tl_fail "store CRL number $(crlnum "$H2/ca/crl.pem")"
[ "$("$P" audit show --home "$H2" | grep -c "crl.publish")" = 2 ] || tl_fail "audit log lacks crl.publish"
"$P" audit verify --home "$H2" >/dev/null || tl_fail "audit verify"
# what a web server serves: the CRL and the AIA .p7c at their URLs' paths
"$P" ca publish --home "$H2" "$TL_TMP/www" --json >"$TL_TMP/pub.json" || tl_fail "ca publish --json"
jq -e --arg d "$TL_TMP/www" '(.crl | startswith($d + "/")) and .crl_number == "02" and
	(.p7c | startswith($d + "/")) and .certificates == 1' "$TL_TMP/pub.json" >/dev/null ||
	tl_fail "ca publish --json: $(cat "$TL_TMP/pub.json")"
cmp -s "$(jq -r .crl "$TL_TMP/pub.json")" "$H2/ca/crl.der" || tl_fail "ca publish: not the CRL signed last"
echo "ok"
