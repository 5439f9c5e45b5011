#!/usr/bin/env bash
# ca_init_show.sh: `pivstation ca init` creates the CA under the station
# home with private files, keys openssl can open (encrypted PKCS#8 with
# scrypt and AES-256-CBC) with the passphrase from a file, a file
# descriptor or the environment; `ca show` and `ca show --pem` describe it
# and the chain verifies with openssl; a second init and a wrong passphrase
# are refused; with no passphrase and no terminal it fails and says what to
# give; `ca import` uses an existing CA.  Talks to no card: no pcsc sandbox.
set -euo pipefail
B=${PV_BIN:?PV_BIN: the build directory}
P=$B/pivstation
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset PIVSTATION_HOME PIVSTATION_CA_PASSPHRASE PIVSTATION_KRA_PASSPHRASE
export PIVSTATION_OPERATOR=integ

H=$T/home
printf 'ca passphrase one\nignored second line\n' >"$T/pass"
"$P" init --home "$H" --admin integ >/dev/null
"$P" ca init --home "$H" --name "C=US, O=Integ Agency" --alg p256 \
	--passphrase-file "$T/pass" >"$T/init.out" || fail "ca init"
grep -q "CN=Integ Agency PIV Content Signer" "$T/init.out" || fail "init output: $(cat "$T/init.out")"
for f in root.crt root.key issuing.crt issuing.key signer.crt signer.key kra.crt kra.key chain.pem; do
	[ "$(stat -c %a "$H/ca/$f")" = 600 ] || fail "$f mode $(stat -c %a "$H/ca/$f")"
done
[ "$(stat -c %a "$H/ca")" = 700 ] || fail "ca folder mode"
[ -z "$(ls -A "$H" | grep -v -e '^ca$' -e '^pivstation.conf$' -e '^master.key$' -e '^store.db' -e '^audit.head$')" ] \
	|| fail "stray files in the home: $(ls -A "$H")"

# keys at rest: encrypted PKCS#8, scrypt + AES-256-CBC; openssl opens them
for k in root issuing signer kra; do
	head -1 "$H/ca/$k.key" | grep -q "BEGIN ENCRYPTED PRIVATE KEY" || fail "$k.key not encrypted PKCS#8"
	openssl asn1parse -in "$H/ca/$k.key" >"$T/asn1" || fail "$k.key asn1"
	grep -q ":scrypt *$" "$T/asn1" || fail "$k.key: no scrypt"
	grep -qi ":aes-256-cbc *$" "$T/asn1" || fail "$k.key: no AES-256-CBC"
	openssl pkey -in "$H/ca/$k.key" -passin "file:$T/pass" -pubout >"$T/$k.pub" || fail "openssl cannot open $k.key"
	openssl x509 -in "$H/ca/$k.crt" -pubkey -noout >"$T/$k.certpub"
	cmp -s "$T/$k.pub" "$T/$k.certpub" || fail "$k.key does not match $k.crt"
	if openssl pkey -in "$H/ca/$k.key" -passin pass:wrong-pass -noout 2>/dev/null; then
		fail "$k.key opens with a wrong passphrase"
	fi
done

# ca show: text, JSON, PEM chain
"$P" ca show --home "$H" >"$T/show" || fail "ca show"
for role in root issuing signer kra; do grep -q "^$role\$" "$T/show" || fail "show lacks $role"; done
"$P" --json ca show --home "$H" >"$T/show.json"
jq -e '.root.key == "EC P-256" and (.signer.serial | length) == 32 and
	(.issuing.sha256 | length) == 95 and (.kra.subject | test("Key Recovery Agent"))' \
	"$T/show.json" >/dev/null || fail "show --json: $(cat "$T/show.json")"
fp=$(openssl x509 -in "$H/ca/signer.crt" -noout -fingerprint -sha256 | cut -d= -f2)
[ "$(jq -r .signer.sha256 "$T/show.json")" = "$fp" ] || fail "signer fingerprint differs from openssl's"
"$P" ca show --home "$H" --pem >"$T/chain.pem" || fail "show --pem"
[ "$(grep -c 'BEGIN CERTIFICATE' "$T/chain.pem")" = 2 ] || fail "chain has not 2 certificates"
openssl verify -x509_strict -CAfile "$H/ca/root.crt" -untrusted "$T/chain.pem" -purpose any \
	"$H/ca/signer.crt" "$H/ca/kra.crt" "$H/ca/issuing.crt" >/dev/null || fail "openssl verify of the CA"
# content signer: worksheet 17
openssl x509 -in "$H/ca/signer.crt" -noout -text >"$T/signer.txt"
grep -A1 "X509v3 Key Usage: critical" "$T/signer.txt" | grep -q "^ *Digital Signature$" || fail "signer KU"
grep -A1 "X509v3 Extended Key Usage: critical" "$T/signer.txt" | grep -q "2.16.840.1.101.3.6.7" || fail "signer EKU"
grep -q "Policy: 2.16.840.1.101.3.2.1.48.86" "$T/signer.txt" || fail "signer policy"
nb=$(date -d "$(openssl x509 -in "$H/ca/signer.crt" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$H/ca/signer.crt" -noout -enddate | cut -d= -f2)" +%s)
[ $(( (na - nb) / 86400 )) -le 3288 ] || fail "signer valid more than 9 years"
openssl x509 -in "$H/ca/kra.crt" -noout -text | grep -A1 "X509v3 Key Usage: critical" | grep -q "Key Agreement" \
	|| fail "EC KRA without keyAgreement"

# the store saw it
"$P" audit show --home "$H" | grep -q "ca.init" || fail "no ca.init in the audit log"

# a second init is refused and changes nothing
sum=$(cat "$H"/ca/* | sha256sum)
rc=0; "$P" ca init --home "$H" --passphrase-file "$T/pass" >/dev/null 2>"$T/err" || rc=$?
[ $rc = 1 ] || fail "second init: exit $rc"
grep -q "already exists" "$T/err" || fail "second init said: $(cat "$T/err")"
[ "$(cat "$H"/ca/* | sha256sum)" = "$sum" ] || fail "second init changed the CA"

# a wrong passphrase (file descriptor), no passphrase and no terminal
rc=0; "$P" ca crl --home "$H" --passphrase-fd 3 3<<<"not the passphrase" >/dev/null 2>"$T/err" || rc=$?
[ $rc = 5 ] || fail "wrong passphrase: exit $rc ($(cat "$T/err"))"
grep -q "passphrase does not open" "$T/err" || fail "wrong passphrase said: $(cat "$T/err")"
rc=0; setsid -w "$P" ca crl --home "$H" </dev/null >/dev/null 2>"$T/err" || rc=$?
[ $rc = 6 ] || fail "no passphrase: exit $rc"
grep -q -- "--passphrase-file" "$T/err" || fail "no passphrase said: $(cat "$T/err")"
PIVSTATION_CA_PASSPHRASE="ca passphrase one" "$P" ca crl --home "$H" >/dev/null || fail "env passphrase"

# init with RSA and a separate KRA passphrase from the environment
H2=$T/home2
PIVSTATION_CA_PASSPHRASE="second ca pass" PIVSTATION_KRA_PASSPHRASE="second kra pass" \
	"$P" ca init --home "$H2" --alg rsa2048 --policies production >/dev/null || fail "init rsa"
openssl pkey -in "$H2/ca/kra.key" -passin "pass:second kra pass" -noout || fail "KRA passphrase not used"
if openssl pkey -in "$H2/ca/kra.key" -passin "pass:second ca pass" -noout 2>/dev/null; then
	fail "KRA key opens with the CA passphrase"
fi
openssl x509 -in "$H2/ca/kra.crt" -noout -text | grep -A1 "X509v3 Key Usage: critical" | grep -q "Key Encipherment" \
	|| fail "RSA KRA without keyEncipherment"
grep -q "Policy: 2.16.840.1.101.3.2.1.3.39" <(openssl x509 -in "$H2/ca/signer.crt" -noout -text) \
	|| fail "production content signer policy"

# import: home2's issuing CA (key decrypted to a plain file) into home3
openssl pkey -in "$H2/ca/issuing.key" -passin "pass:second ca pass" -out "$T/plain.key"
rc=0; PIVSTATION_CA_PASSPHRASE="third pass!" "$P" ca import --home "$T/home3" \
	--cert "$H2/ca/issuing.crt" --key "$T/plain.key" >/dev/null 2>"$T/err" || rc=$?
[ $rc = 7 ] || fail "import without a chain: exit $rc ($(cat "$T/err"))"
rc=0; PIVSTATION_CA_PASSPHRASE="third pass!" "$P" ca import --home "$T/home3" \
	--cert "$H2/ca/issuing.crt" --key "$H/ca/issuing.key" --key-passphrase-file "$T/pass" \
	--chain "$H2/ca/root.crt" >/dev/null 2>"$T/err" || rc=$?
[ $rc = 6 ] || fail "import with the wrong key: exit $rc ($(cat "$T/err"))"
PIVSTATION_CA_PASSPHRASE="third pass!" "$P" ca import --home "$T/home3" --kra-alg p384 \
	--cert "$H2/ca/issuing.crt" --key "$T/plain.key" --chain "$H2/ca/root.crt" >/dev/null || fail "import"
[ ! -e "$T/home3/ca/root.key" ] || fail "import wrote a root key"
cmp -s "$T/home3/ca/issuing.crt" "$H2/ca/issuing.crt" || fail "imported issuing certificate differs"
openssl verify -CAfile "$H2/ca/root.crt" -untrusted "$H2/ca/issuing.crt" -purpose any "$T/home3/ca/signer.crt" \
	>/dev/null || fail "new signer does not chain to the imported CA"
openssl pkey -in "$T/home3/ca/issuing.key" -passin "pass:third pass!" -noout || fail "imported key not re-encrypted"
echo "ok"
