#!/usr/bin/env bash
# ca_crl.sh: `pivstation ca crl` publishes the issuing CA's CRL (DER and
# PEM, 0600) that openssl verifies; its CRL number grows; a revoked
# serial makes `openssl verify -crl_check` refuse that certificate and
# only that one.  On a station with a store the number comes from the
# store and the publication is in the audit log.  No card: no sandbox.
set -euo pipefail
B=${PV_BIN:?PV_BIN: the build directory}
P=$B/pivstation
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset PIVSTATION_HOME PIVSTATION_KRA_PASSPHRASE
export PIVSTATION_OPERATOR=integ PIVSTATION_CA_PASSPHRASE="crl ca passphrase"

FASCN=D4E739DA739CED39CE739D836858210842108421C84210C3EB
UUID=3f6c1a22-9b4e-4d1c-8a55-0e9d7120c4b7
EXPIRY=$(date -u -d '+4 years' +%Y-%m-%d)
crlnum() { openssl crl -in "$1" -noout -crlnumber | cut -d= -f2; }

# a station without a store: numbers follow the last CRL published
H=$T/home
"$P" ca init --home "$H" --alg p256 >/dev/null
"$P" ca crl --home "$H" >"$T/out" || fail "ca crl"
grep -q "CRL 1 published: 0 revoked" "$T/out" || fail "said: $(cat "$T/out")"
for f in crl.der crl.pem; do [ "$(stat -c %a "$H/ca/$f")" = 600 ] || fail "$f mode"; done
openssl crl -in "$H/ca/crl.pem" -CAfile "$H/ca/chain.pem" -noout 2>&1 | grep -q "verify OK" || fail "openssl crl verify"
openssl crl -inform DER -in "$H/ca/crl.der" -outform PEM | cmp -s - "$H/ca/crl.pem" || fail "DER and PEM differ"
[ "$(crlnum "$H/ca/crl.pem")" = 0x01 ] || fail "first CRL number $(crlnum "$H/ca/crl.pem")"
openssl crl -in "$H/ca/crl.pem" -noout -issuer | grep -q "PIV Issuing CA" || fail "CRL issuer"
openssl crl -in "$H/ca/crl.pem" -noout -text >"$T/t"
grep -q "Version 2" "$T/t" || fail "not a v2 CRL"
grep -q "X509v3 Authority Key Identifier" "$T/t" || fail "no AKI"
next=$(date -d "$(openssl crl -in "$H/ca/crl.pem" -noout -nextupdate | cut -d= -f2)" +%s)
[ $(( (next - $(date +%s)) / 3600 )) -ge 167 ] || fail "next update is not a week away"

# two certificates, one revoked
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkey -pubout -out "$T/pub.pem"
for c in a b; do
	"$P" ca issue --home "$H" --slot 9a --pubkey "$T/pub.pem" --fascn $FASCN --uuid $UUID \
		--expiry "$EXPIRY" --subject "CN=Holder $c" --out "$T/$c.pem" 2>/dev/null
done
sa=$(openssl x509 -in "$T/a.pem" -noout -serial | cut -d= -f2)
printf '# serial time reason\n%s %s 1\n\n' "$sa" "$(date +%s)" >"$T/revoked"
"$P" ca crl --home "$H" --revoked "$T/revoked" --hours 24 >"$T/out" || fail "ca crl --revoked"
grep -q "CRL 2 published: 1 revoked" "$T/out" || fail "said: $(cat "$T/out")"
[ "$(crlnum "$H/ca/crl.pem")" = 0x02 ] || fail "second CRL number"
openssl crl -in "$H/ca/crl.pem" -noout -text >"$T/t"
grep -qi "Serial Number: $sa" "$T/t" || fail "revoked serial not listed"
grep -i -A4 "Serial Number: $sa" "$T/t" | grep -q "Key Compromise" || fail "reason not listed"
rc=0; openssl verify -crl_check -CRLfile "$H/ca/crl.pem" -CAfile "$H/ca/root.crt" \
	-untrusted "$H/ca/issuing.crt" "$T/a.pem" >"$T/v" 2>&1 || rc=$?
[ $rc != 0 ] && grep -q "certificate revoked" "$T/v" || fail "revoked certificate accepted: $(cat "$T/v")"
openssl verify -crl_check -CRLfile "$H/ca/crl.pem" -CAfile "$H/ca/root.crt" \
	-untrusted "$H/ca/issuing.crt" "$T/b.pem" >/dev/null || fail "a good certificate refused"
printf 'zz\n' >"$T/bad"
rc=0; "$P" ca crl --home "$H" --revoked "$T/bad" >/dev/null 2>"$T/err" || rc=$?
[ $rc = 6 ] && grep -q "bad:1:" "$T/err" || fail "bad revoked file: exit $rc ($(cat "$T/err"))"
[ "$(crlnum "$H/ca/crl.pem")" = 0x02 ] || fail "a failed run published a CRL"

# a station with a store: the store numbers CRLs and the log records them
H2=$T/home2
"$P" init --home "$H2" --admin integ >/dev/null
"$P" ca init --home "$H2" --alg p256 >/dev/null
"$P" ca crl --home "$H2" >/dev/null
"$P" ca crl --home "$H2" >/dev/null
[ "$(crlnum "$H2/ca/crl.pem")" = 0x02 ] || fail "store CRL number $(crlnum "$H2/ca/crl.pem")"
[ "$("$P" audit show --home "$H2" | grep -c "crl.publish")" = 2 ] || fail "audit log lacks crl.publish"
"$P" audit verify --home "$H2" >/dev/null || fail "audit verify"
echo "ok"
