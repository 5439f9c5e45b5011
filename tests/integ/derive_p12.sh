#!/usr/bin/env bash
# derive_p12.sh: `pivstation derive --to p12` from primary usb-keys that
# pivstation issued, judged by third-party tools.  A card whose 9D
# certificate asserts only the hardware policy is refused (SP 800-157r1
# App. A) before anything is written; a wrong PIN fails proof of
# possession (pop.pin), nothing written but derive.refused.  A card issued
# with the software key-management policy gets a PKCS#12 protected by the
# one-time activation code: openssl pkcs12 (PBES2 AES-256-CBC, PBKDF2
# hmacWithSHA256, SHA-256 MAC), NSS pk12util into a fresh database, Java
# keytool and GnuTLS certtool all open it; the derived authentication
# certificate verifies with openssl verify -policy 48.109 -explicit_policy,
# has the credential's UUID (urn:uuid:) and no FASC-N in its SAN; the key-
# management identity is the card's 9D certificate (read with
# yubico-piv-tool) and its key decrypts a CMS message encrypted to it.
# --p12-compat legacy gives 3DES bags and a SHA-1 MAC.  Every escrowed key
# copied is an escrow.recover row with operator and reason; the code is
# nowhere in the store; audit verify passes.  A run whose package step
# fails (its output folder missing) keeps its job; the same command
# resumes it and the job has one derived credential.  A card pulled during
# validation: exit 3, nothing written; back in, the same command works.  A
# card issued by another station (trusted through [trust], its CRL over
# HTTP) creates the person from its 9A certificate and the card's device,
# and gets a PKCS#12 without key-management keys (none escrowed here).
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --card 0:usb-key --card 1:usb-key --card 2:usb-key \
		-- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
unset PIVSTATION_HOME PIVSTATION_KRA_PASSPHRASE
export PIVSTATION_OPERATOR=integ PIVSTATION_CA_PASSPHRASE="derive ca passphrase"

P=$PV_BIN/pivstation
H=$TL_TMP/home
PIN=24681357
T48=2.16.840.1.101.3.2.1.48
q() { sqlite3 "$H/store.db" "$1"; }
r0=$(vcardctl reader 0); r1=$(vcardctl reader 1); r2=$(vcardctl reader 2)

# ---- the station; card 0 with the default (hardware) 9D policy -------------------
"$P" init --home "$H" --admin integ >/dev/null
sed -i -e 's|^ocsp = .*|ocsp =|' "$H/pivstation.conf"
check "ca init" "$P" ca init --home "$H" --alg p256
issue() { # READER IDENTITY LOG
	echo "$PIN" | "$P" issue --home "$H" -r "$1" --identity "$2" --pin-stdin --json >"$3" 2>&1
}
check "issue card 0 (9D under the hardware policy)" issue "$r0" "$PV_ROOT/examples/identity.json" issue0.jsonl
check "ca crl" "$P" ca crl --home "$H"
derive() { # READER OUT [ARGS...]: PIN on stdin, JSON in d.jsonl
	local rd=$1 out=$2; shift 2
	echo "${DPIN:-$PIN}" | "$P" derive --home "$H" -r "$rd" --pin-stdin --to p12 --out "$out" \
		--json "$@" >d.jsonl 2>d.err
}
result() { jq -c 'select(.event == "result")' d.jsonl; }
nothing_written() {
	[ "$(q "SELECT count(*) FROM derived")" = 0 ] &&
	[ "$(q "SELECT count(*) FROM jobs WHERE kind = 'derive'")" = 0 ] &&
	[ "$(q "SELECT count(*) FROM devices WHERE type = 'mobile'")" = 0 ] &&
	[ "$(q "SELECT count(*) FROM audit WHERE action LIKE 'escrow.recover%'")" = 0 ]
}

derive "$r0" a.p12; rc=$?
check "card 0: the 9D key may not leave hardware: refused (exit $rc)" test $rc = 1
check_out "... naming the certificate's policy and the rule" \
	'software_key_management_policies.*may not go into a PKCS#12 \(SP 800-157r1 App. A\)' cat d.err
check "... nothing written, no file" bash -c '! test -e a.p12'
check "... no row in the store" nothing_written

DPIN=11112222 derive "$r0" a.p12; rc=$?
check "wrong PIN: validation fails, exit 7 (got $rc)" test $rc = 7
check_out "... pop.pin named" '"id":"pop.pin"' result
check "... nothing written but derive.refused" nothing_written
check_out "... derive.refused audited with the failed check" '^1$' \
	q "SELECT count(*) FROM audit WHERE action = 'derive.refused' AND detail LIKE '%pop.pin%'"
echo "$PIN" | "$P" validate --home "$H" -r "$r0" --pin-stdin >/dev/null 2>&1 # PIN counter back

# ---- card 1: the 9D certificate under the software policy ------------------------------
sed -i -e "s|^slot_9d =\$|slot_9d = $T48.8|" "$H/pivstation.conf"
grep -q "^slot_9d = $T48.8\$" "$H/pivstation.conf" || tl_log "warning: slot_9d not set"
jq '.given_name = "Bob" | .family_name = "Builder" | .person_id = "0000067890" |
	.email = "bob.builder@example.gov" | .upn = "bob.builder@example.gov" |
	.agency_card_serial = "EX-000002"' "$PV_ROOT/examples/identity.json" >bob.json
check "issue card 1 (9D under $T48.8)" issue "$r1" bob.json issue1.jsonl
check "ca crl" "$P" ca crl --home "$H"
yubico-piv-tool -r "$r1" -a read-certificate -s 9d >card9d.pem 2>/dev/null
check "the card's 9D certificate read with yubico-piv-tool" openssl x509 -in card9d.pem -noout

# A package step that fails (the output folder is missing): the job stays.
derive "$r1" nodir/bob.p12 --reason "phone enrolment 42"; rc=$?
check "package fails on a missing folder (exit $rc)" test $rc != 0
job=$(q "SELECT id FROM jobs WHERE kind = 'derive' AND state = 'running'")
check "... the derive job is kept running ($job)" test -n "$job"
check_out "... register done, package failed" '^register:done package:failed$' \
	q "SELECT group_concat(name || ':' || state, ' ') FROM (SELECT * FROM job_steps WHERE job_id = $job ORDER BY seq)"
check_out "... its key recovery is in the log even so" '^1$' \
	q "SELECT count(*) FROM audit WHERE action = 'escrow.recover'"
check "... no certificate recorded for the derived device" \
	test "$(q "SELECT count(*) FROM certificates c JOIN devices d ON d.id = c.device_id WHERE d.type = 'mobile'")" = 0
mkdir nodir
derive "$r1" nodir/bob.p12 --reason "phone enrolment 42"; rc=$?
check "the same command finishes the job (exit $rc)" test $rc = 0 || cat d.err >&2
check_out "... resumed, the same job" "^true $job\$" bash -c "jq -r 'select(.event == \"result\") | \"\(.resumed) \(.job)\"' d.jsonl"
check_out "... one derived credential for the job, active" '^1 active$' \
	q "SELECT count(*) || ' ' || min(d.status) FROM derived x JOIN devices d ON d.id = x.device_id WHERE x.job_id = $job"
check_out "... linked to card 1's device" '^1$' q "SELECT count(*) FROM derived x JOIN devices p ON p.id = x.primary_id WHERE p.type != 'mobile' AND p.person_id = x.person_id"
check_out "... the job done" '^done$' q "SELECT state FROM jobs WHERE id = $job"
code=$(jq -r 'select(.event == "result") | .activation_code' d.jsonl)
check_out "an 8-character activation code" '^[0-9A-Za-z]{8}$' echo "$code"
check_out "the PKCS#12 is 0600" '^600$' stat -c %a nodir/bob.p12
cp nodir/bob.p12 bob.p12

# ---- the PKCS#12, judged ------------------------------------------------------------------
check "openssl pkcs12 opens it with the code" openssl pkcs12 -in bob.p12 -passin "pass:$code" -noout
check_fails "... and not with another password" openssl pkcs12 -in bob.p12 -passin pass:wrongpass -noout
openssl pkcs12 -info -in bob.p12 -passin "pass:$code" -nokeys -noout >info.txt 2>&1
check_out "modern: SHA-256 MAC" 'MAC: sha256' cat info.txt
check_out "modern: PBES2, PBKDF2 hmacWithSHA256, AES-256-CBC" \
	'PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256' cat info.txt
check "no bag uses 3DES or RC2" bash -c '! grep -Eq "3-KeyTripleDES|RC2" info.txt'
openssl pkcs12 -in bob.p12 -passin "pass:$code" -nokeys -clcerts >certs.pem 2>/dev/null
openssl pkcs12 -in bob.p12 -passin "pass:$code" -nocerts -nodes >keys.pem 2>/dev/null
# bag NAME FILE: the PEM block of the bag named NAME
bag() { awk -v n="friendlyName: $1" '$0 ~ n"$" { on = 1 } on { print } on && /^-----END/ { exit }' "$2" | sed -n '/^-----BEGIN/,/^-----END/p'; }
bag "Derived PIV Authentication" certs.pem >auth.pem
bag "Derived PIV Digital Signature" certs.pem >sign.pem
bag "Key Management" certs.pem >km.pem
bag "Key Management" keys.pem >km.key
bag "Derived PIV Authentication" keys.pem >auth.key
check "the authentication identity is there" openssl x509 -in auth.pem -noout
check "the signature identity is there" openssl x509 -in sign.pem -noout
check "the key-management identity is the card's 9D certificate" cmp <(openssl x509 -in km.pem -outform DER) <(openssl x509 -in card9d.pem -outform DER)
check "the CA chain is in it" bash -c "openssl pkcs12 -in bob.p12 -passin pass:$code -nokeys -cacerts 2>/dev/null | grep -c BEGIN | grep -qx 2"
# The station's chain, from the store's CA folder.
check "auth certificate: path and derived PIV-auth (software) test policy" \
	openssl verify -CAfile "$H/ca/root.crt" -untrusted "$H/ca/issuing.crt" -policy "$T48.109" -explicit_policy auth.pem
openssl x509 -in auth.pem -noout -text >auth.txt
check_out "auth certificate SAN: the credential's UUID" "URI:urn:uuid:$(jq -r 'select(.event == "result") | .uuid' d.jsonl)" cat auth.txt
check "auth certificate SAN: no FASC-N" bash -c '! grep -q "2.16.840.1.101.3.6.6" auth.txt'
check "auth key and certificate match" bash -c 'cmp <(openssl x509 -in auth.pem -noout -pubkey) <(openssl pkey -in auth.key -pubout)'
echo "challenge $RANDOM" >chal
openssl dgst -sha256 -sign auth.key -out chal.sig chal
check "the derived auth key signs; the certificate verifies it" bash -c 'openssl x509 -in auth.pem -pubkey -noout >auth.pub && openssl dgst -sha256 -verify auth.pub -signature chal.sig chal'
echo "old mail for Bob" >msg.txt
openssl cms -encrypt -binary -aes256 -in msg.txt -out msg.cms -outform DER card9d.pem
check_out "the recovered key decrypts a CMS message encrypted to the card's 9D certificate" \
	'^old mail for Bob$' openssl cms -decrypt -inform DER -in msg.cms -recip km.pem -inkey km.key
mkdir nssdb
certutil -N -d sql:nssdb --empty-password
check "NSS pk12util imports it into a fresh database" pk12util -i bob.p12 -d sql:nssdb -W "$code"
check_out "... three keys, with certificates" '^3$' bash -c 'certutil -K -d sql:nssdb 2>/dev/null | grep -c "^<"'
check_out "Java keytool lists the identities" 'Your keystore contains 3 entries' \
	keytool -list -storetype pkcs12 -keystore bob.p12 -storepass "$code"
check_out "GnuTLS certtool reads it" 'Derived PIV Authentication' \
	certtool --p12-info --inder --infile bob.p12 --password "$code"

# ---- the log -----------------------------------------------------------------------------
check_out "escrow.recover rows: operator, reason, the derived credential" \
	"^integ\|phone enrolment 42\|copy\|$(jq -r 'select(.event == "result") | .derived' d.jsonl)\$" \
	q "SELECT actor || '|' || json_extract(detail, '\$.reason') || '|' || json_extract(detail, '\$.mode') || '|' || json_extract(detail, '\$.derived') FROM audit WHERE action = 'escrow.recover' ORDER BY seq DESC LIMIT 1"
check "the activation code is nowhere in the store" bash -c "! sqlite3 '$H/store.db' .dump | grep -q '$code'"
check_out "activation.create audited" '^1$' q "SELECT count(*) FROM audit WHERE action = 'activation.create'"
check "audit verify" "$P" audit verify --home "$H"

# ---- legacy form ---------------------------------------------------------------------------
derive "$r1" legacy.p12 --p12-compat legacy; rc=$?
check "derive --p12-compat legacy (exit $rc)" test $rc = 0 || cat d.err >&2
lcode=$(jq -r 'select(.event == "result") | .activation_code' d.jsonl)
openssl pkcs12 -info -in legacy.p12 -passin "pass:$lcode" -nokeys -noout >linfo.txt 2>&1
check_out "legacy: SHA-1 MAC" 'MAC: sha1' cat linfo.txt
check_out "legacy: 3DES bags" 'pbeWithSHA1And3-KeyTripleDES-CBC' cat linfo.txt
check "legacy: pk12util imports it" pk12util -i legacy.p12 -d sql:nssdb -W "$lcode"
check_out "two derived credentials for card 1 now" '^2$' q "SELECT count(*) FROM derived"
check "audit verify" "$P" audit verify --home "$H"

# ---- a card pulled during validation -------------------------------------------------------
n_audit=$(q "SELECT count(*) FROM audit")
check "card 1 restarted to be pulled at its 4th APDU" vcardctl restart 1 --fault remove-after=3:300
derive "$r1" pulled.p12; rc=$?
check "pulled card: exit 3 (got $rc)" test $rc = 3 || cat d.err >&2
check "... nothing written: no file, no derived row, no audit row" bash -c \
	"! test -e pulled.p12 && [ \"\$(sqlite3 '$H/store.db' 'SELECT count(*) FROM derived')\" = 2 ] &&
	 [ \"\$(sqlite3 '$H/store.db' 'SELECT count(*) FROM audit')\" = $n_audit ]"
sleep 1
derive "$r1" pulled.p12; rc=$?
check "card back: the same command derives (exit $rc)" test $rc = 0 || cat d.err >&2

# ---- a card issued by another station --------------------------------------------------------
HB=$TL_TMP/other
PORT=8481
URL=http://127.0.0.1:$PORT
"$P" init --home "$HB" --admin integ >/dev/null
sed -i -e "s|^crl = .*|crl = $URL/crl/pivstation.crl|" -e 's|^ocsp = .*|ocsp =|' \
	-e "s|^ca_issuers = .*|ca_issuers = $URL/aia/pivstation-issuing.p7c|" "$HB/pivstation.conf"
check "the other station's CA" "$P" ca init --home "$HB" --alg p256
jq '.given_name = "Carol" | .family_name = "Jones" | .middle_name = "" | .person_id = "0000077777" |
	.email = "carol@example.gov" | .upn = "carol@example.gov"' "$PV_ROOT/examples/identity.json" >carol.json
echo "$PIN" | "$P" issue --home "$HB" -r "$r2" --identity carol.json --pin-stdin >/dev/null 2>&1
check "card 2 issued by the other station" test $? = 0
"$P" ca crl --home "$HB" >/dev/null && "$P" ca publish --home "$HB" www >/dev/null
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory www >http.log 2>&1 &
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.05; done
sed -i -e "s|^anchors =\$|anchors = $H/ca/root.crt, $HB/ca/root.crt|" \
	-e "s|^intermediates =\$|intermediates = $H/ca/issuing.crt, $HB/ca/issuing.crt|" "$H/pivstation.conf"
derive "$r2" carol.p12; rc=$?
check "card 2 (issued elsewhere): derived (exit $rc)" test $rc = 0 || cat d.err >&2
check_out "... the person was created from the card" '^true$' \
	bash -c "jq -r 'select(.event == \"result\") | .created_person' d.jsonl"
check_out "... named from the 9A certificate, with the FASC-N's person identifier" '^Carol\|Jones\|0000077777\|External$' \
	q "SELECT given_name || '|' || family_name || '|' || person_id || '|' || affiliation FROM people WHERE person_id = '0000077777'"
check_out "... the card recorded as an active card device of that person, linked" '^1$' \
	q "SELECT count(*) FROM derived x JOIN devices p ON p.id = x.primary_id JOIN people h ON h.id = p.person_id WHERE h.person_id = '0000077777' AND p.status = 'active' AND p.type = 'card'"
ccode=$(jq -r 'select(.event == "result") | .activation_code' d.jsonl)
check_out "... its PKCS#12: two identities, no key-management key (none escrowed here)" 'Your keystore contains 2 entries' \
	keytool -list -storetype pkcs12 -keystore carol.p12 -storepass "$ccode"
check "audit verify" "$P" audit verify --home "$H"
kill %1 2>/dev/null
tl_done
