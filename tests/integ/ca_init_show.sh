#!/usr/bin/env bash
# ca_init_show.sh: `pivstation ca init` creates the CA under the station
# home with private files, keys openssl can open (encrypted PKCS#8 with
# scrypt and AES-256-CBC) with the passphrase from a file, a file
# descriptor or the environment; `ca show` and `ca show --pem` describe it
# and the chain verifies with openssl; a second init and a wrong passphrase
# are refused; with no passphrase and no terminal it fails and says what to
# give; `ca import` uses an existing CA.  Talks to no card: no pcsc sandbox.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none
set -e
tl_station --no-ca
tl_secret_file "$TL_TMP/pass" 'ca passphrase one' 'ignored second line'
"$P" ca init --home "$H" --name "C=US, O=Integ Agency" --alg p256 \
	--passphrase-file "$TL_TMP/pass" >"$TL_TMP/init.out" || tl_fail "ca init"
grep -q "CN=Integ Agency PIV Content Signer" "$TL_TMP/init.out" || tl_fail "init output: $(cat "$TL_TMP/init.out")"
for f in root.crt root.key issuing.crt issuing.key signer.crt signer.key kra.crt kra.key chain.pem; do
	[ "$(stat -c %a "$H/ca/$f")" = 600 ] || tl_fail "$f mode $(stat -c %a "$H/ca/$f")"
done
[ "$(stat -c %a "$H/ca")" = 700 ] || tl_fail "ca folder mode"
[ -z "$(ls -A "$H" | grep -v -e '^ca$' -e '^pivstation.conf$' -e '^master.key$' -e '^store.db' -e '^audit.head$')" ] \
	|| tl_fail "stray files in the home: $(ls -A "$H")"

# keys at rest: encrypted PKCS#8, scrypt + AES-256-CBC; openssl opens them
for k in root issuing signer kra; do
	head -1 "$H/ca/$k.key" | grep -q "BEGIN ENCRYPTED PRIVATE KEY" || tl_fail "$k.key not encrypted PKCS#8"
	openssl asn1parse -in "$H/ca/$k.key" >"$TL_TMP/asn1" || tl_fail "$k.key asn1"
	grep -q ":scrypt *$" "$TL_TMP/asn1" || tl_fail "$k.key: no scrypt"
	grep -qi ":aes-256-cbc *$" "$TL_TMP/asn1" || tl_fail "$k.key: no AES-256-CBC"
	openssl pkey -in "$H/ca/$k.key" -passin "file:$TL_TMP/pass" -pubout >"$TL_TMP/$k.pub" || tl_fail "openssl cannot open $k.key"
	openssl x509 -in "$H/ca/$k.crt" -pubkey -noout >"$TL_TMP/$k.certpub"
	cmp -s "$TL_TMP/$k.pub" "$TL_TMP/$k.certpub" || tl_fail "$k.key does not match $k.crt"
	if openssl pkey -in "$H/ca/$k.key" -passin pass:wrong-pass -noout 2>/dev/null; then
		tl_fail "$k.key opens with a wrong passphrase"
	fi
done

# ca show: text, JSON, PEM chain
"$P" ca show --home "$H" >"$TL_TMP/show" || tl_fail "ca show"
for role in root issuing signer kra; do grep -q "^$role\$" "$TL_TMP/show" || tl_fail "show lacks $role"; done
"$P" --json ca show --home "$H" >"$TL_TMP/show.json"
jq -e '.root.key == "EC P-256" and (.signer.serial | length) == 32 and
	(.issuing.sha256 | length) == 95 and (.kra.subject | test("Key Recovery Agent"))' \
	"$TL_TMP/show.json" >/dev/null || tl_fail "show --json: $(cat "$TL_TMP/show.json")"
fp=$(openssl x509 -in "$H/ca/signer.crt" -noout -fingerprint -sha256 | cut -d= -f2)
[ "$(jq -r .signer.sha256 "$TL_TMP/show.json")" = "$fp" ] || tl_fail "signer fingerprint differs from openssl's"
"$P" ca show --home "$H" --pem >"$TL_TMP/chain.pem" || tl_fail "show --pem"
[ "$(grep -c 'BEGIN CERTIFICATE' "$TL_TMP/chain.pem")" = 2 ] || tl_fail "chain has not 2 certificates"
openssl verify -x509_strict -CAfile "$H/ca/root.crt" -untrusted "$TL_TMP/chain.pem" -purpose any \
	"$H/ca/signer.crt" "$H/ca/kra.crt" "$H/ca/issuing.crt" >/dev/null || tl_fail "openssl verify of the CA"
# content signer: worksheet 17
openssl x509 -in "$H/ca/signer.crt" -noout -text >"$TL_TMP/signer.txt"
grep -A1 "X509v3 Key Usage: critical" "$TL_TMP/signer.txt" | grep -q "^ *Digital Signature$" || tl_fail "signer KU"
grep -A1 "X509v3 Extended Key Usage: critical" "$TL_TMP/signer.txt" | grep -q "2.16.840.1.101.3.6.7" || tl_fail "signer EKU"
grep -q "Policy: 2.16.840.1.101.3.2.1.48.86" "$TL_TMP/signer.txt" || tl_fail "signer policy"
nb=$(date -d "$(openssl x509 -in "$H/ca/signer.crt" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$H/ca/signer.crt" -noout -enddate | cut -d= -f2)" +%s)
[ $(( (na - nb) / 86400 )) -le 3288 ] || tl_fail "signer valid more than 9 years"
openssl x509 -in "$H/ca/kra.crt" -noout -text | grep -A1 "X509v3 Key Usage: critical" | grep -q "Key Agreement" \
	|| tl_fail "EC KRA without keyAgreement"

# the store saw it
"$P" audit show --home "$H" | grep -q "ca.init" || tl_fail "no ca.init in the audit log"

# a second init is refused and changes nothing
sum=$(cat "$H"/ca/* | sha256sum)
rc=0; "$P" ca init --home "$H" --passphrase-file "$TL_TMP/pass" >/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 1 ] || tl_fail "second init: exit $rc"
grep -q "already exists" "$TL_TMP/err" || tl_fail "second init said: $(cat "$TL_TMP/err")"
[ "$(cat "$H"/ca/* | sha256sum)" = "$sum" ] || tl_fail "second init changed the CA"

# a wrong passphrase (file descriptor), no passphrase and no terminal
rc=0; "$P" ca crl --home "$H" --passphrase-fd 3 3<<<"not the passphrase" >/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 5 ] || tl_fail "wrong passphrase: exit $rc ($(cat "$TL_TMP/err"))"
grep -q "passphrase does not open" "$TL_TMP/err" || tl_fail "wrong passphrase said: $(cat "$TL_TMP/err")"
rc=0; setsid -w "$P" ca crl --home "$H" </dev/null >/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 6 ] || tl_fail "no passphrase: exit $rc"
grep -q -- "--passphrase-file" "$TL_TMP/err" || tl_fail "no passphrase said: $(cat "$TL_TMP/err")"
PIVSTATION_CA_PASSPHRASE="ca passphrase one" "$P" ca crl --home "$H" >/dev/null || tl_fail "env passphrase"

# init with RSA and a separate KRA passphrase from the environment
H2=$TL_TMP/home2
PIVSTATION_CA_PASSPHRASE="second ca pass" PIVSTATION_KRA_PASSPHRASE="second kra pass" \
	"$P" ca init --home "$H2" --alg rsa2048 --policies production >/dev/null || tl_fail "init rsa"
openssl pkey -in "$H2/ca/kra.key" -passin "pass:second kra pass" -noout || tl_fail "KRA passphrase not used"
if openssl pkey -in "$H2/ca/kra.key" -passin "pass:second ca pass" -noout 2>/dev/null; then
	tl_fail "KRA key opens with the CA passphrase"
fi
openssl x509 -in "$H2/ca/kra.crt" -noout -text | grep -A1 "X509v3 Key Usage: critical" | grep -q "Key Encipherment" \
	|| tl_fail "RSA KRA without keyEncipherment"
grep -q "Policy: 2.16.840.1.101.3.2.1.3.39" <(openssl x509 -in "$H2/ca/signer.crt" -noout -text) \
	|| tl_fail "production content signer policy"

# import: home2's issuing CA (key decrypted to a plain file) into home3
openssl pkey -in "$H2/ca/issuing.key" -passin "pass:second ca pass" -out "$TL_TMP/plain.key"
rc=0; PIVSTATION_CA_PASSPHRASE="third pass!" "$P" ca import --home "$TL_TMP/home3" \
	--cert "$H2/ca/issuing.crt" --key "$TL_TMP/plain.key" >/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 7 ] || tl_fail "import without a chain: exit $rc ($(cat "$TL_TMP/err"))"
rc=0; PIVSTATION_CA_PASSPHRASE="third pass!" "$P" ca import --home "$TL_TMP/home3" \
	--cert "$H2/ca/issuing.crt" --key "$H/ca/issuing.key" --key-passphrase-file "$TL_TMP/pass" \
	--chain "$H2/ca/root.crt" >/dev/null 2>"$TL_TMP/err" || rc=$?
[ $rc = 6 ] || tl_fail "import with the wrong key: exit $rc ($(cat "$TL_TMP/err"))"
PIVSTATION_CA_PASSPHRASE="third pass!" "$P" ca import --home "$TL_TMP/home3" --kra-alg p384 \
	--cert "$H2/ca/issuing.crt" --key "$TL_TMP/plain.key" --chain "$H2/ca/root.crt" >/dev/null || tl_fail "import"
[ ! -e "$TL_TMP/home3/ca/root.key" ] || tl_fail "import wrote a root key"
cmp -s "$TL_TMP/home3/ca/issuing.crt" "$H2/ca/issuing.crt" || tl_fail "imported issuing certificate differs"
openssl verify -CAfile "$H2/ca/root.crt" -untrusted "$H2/ca/issuing.crt" -purpose any "$TL_TMP/home3/ca/signer.crt" \
	>/dev/null || tl_fail "new signer does not chain to the imported CA"
openssl pkey -in "$TL_TMP/home3/ca/issuing.key" -passin "pass:third pass!" -noout || tl_fail "imported key not re-encrypted"
echo "ok"
