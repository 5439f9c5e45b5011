#!/usr/bin/env bash
# validate_card.sh: cards issued by pivstation, validated by `pivstation
# validate -r` as a relying party that fetches the station's CRL and AIA
# certificate over HTTP (python3 -m http.server serving `ca publish`'s
# folder; the station's own CRL file is not used).  A good card passes
# every check, with exactly the APDUs SELECT, GET DATA CHUID, 9A
# certificate, Security Object, VERIFY, GENERAL AUTHENTICATE (--trace,
# --stats, the vcard's own count).  Then each tampering fails with the
# named check: --pin-pad refused on a reader without a pad; wrong PIN (pop.pin, tries left), FASC-N of the CHUID changed
# with yubico-piv-tool (binding.fascn), CHUID re-signed by a key without
# id-PIV-content-signing (chuid.signature), 9A certificate replaced by one
# for another key (pop.9a), expired 9A certificate (cert.expiry now,
# cert.path later), 9A certificate revoked by cancelling its job and
# republishing the CRL (cert.revocation, with date and reason).
. "$(dirname "$0")/../sandbox/testlib.sh"
# Card 0 is a firmware 5.2 key: its per-card management key is 3DES, which
# yubico-piv-tool 2.2.0 can use (it has no AES keys).
tl_sandbox --card 0:usb-key --card-args 0 '--firmware 5.2.7' \
	--card 1:usb-key --card 2:usb-key

PIN=24681357
PORT=8480
URL=http://127.0.0.1:$PORT
bin2hex() { xxd -p | tr -d '\n'; }
r0=$(vcardctl reader 0); r1=$(vcardctl reader 1); r2=$(vcardctl reader 2)

# ---- the station: URLs on the local web server, no OCSP ----------------------------
tl_station --alg p256 --env --set "crl=$URL/crl/pivstation.crl" \
	--set "ca_issuers=$URL/aia/pivstation-issuing.p7c" --set ocsp= \
	--set station_crl=no --set intermediates=ca/root.crt
issue() { # SLOT HOME LOG
	echo "$PIN" | "$P" issue --home "$2" -r "$(vcardctl reader "$1")" \
		--identity "$PV_ROOT/examples/identity.json" --pin-stdin --json >"$3" 2>&1
}
check "issue card 0" issue 0 "$H" issue0.jsonl
check "ca crl" "$P" ca crl --home "$H"
check_out "ca publish writes the CRL and the .p7c at the URLs' paths" \
	'^CRL 01: www/crl/pivstation.crl$' "$P" ca publish --home "$H" www
check_out "the .p7c is a certs-only CMS holding the issuing CA" 'subject=.*PIV Issuing CA' \
	openssl pkcs7 -inform DER -in www/aia/pivstation-issuing.p7c -print_certs
python3 -m http.server "$PORT" --bind 127.0.0.1 --directory www >http.log 2>&1 &
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.05; done

validate() { # READER [ARGS...]: validate with the PIN on stdin, JSON in v.json
	local rd=$1; shift
	echo "$PIN" | "$P" validate --home "$H" -r "$rd" --pin-stdin --json "$@" >v.json 2>v.err
}
status_of() { jq -r --arg id "$1" '.checks[] | select(.id == $id) | .status' v.json; }
text_of() { jq -r --arg id "$1" '.checks[] | select(.id == $id) | .text' v.json; }

# ---- a good card -------------------------------------------------------------------
a0=$(vcardctl stats 0 | jq .apdus)
validate "$r0" --trace trace.txt --stats; rc=$?
check "a card pivstation issued is valid (exit $rc)" test $rc = 0 || cat v.err v.json >&2
check_out "every check passed" '^0$' jq '[.checks[] | select(.status != "pass")] | length' v.json
for id in chuid.read chuid.signature chuid.signer chuid.expiry cert.read cert.path cert.policy \
	cert.revocation cert.expiry binding.fascn binding.uuid secobj pop.pin pop.9a; do
	check "check $id listed and passed" test "$(status_of $id)" = pass
done
check_out "the CRL came over HTTP from the distribution point" \
	"not in CRL $URL/crl/pivstation.crl \\(number 01" text_of cert.revocation
check_out "the policy set is the PIV Authentication test OID" '^2.16.840.1.101.3.2.1.48.11$' \
	jq -r .policy_set v.json
a1=$(vcardctl stats 0 | jq .apdus)
check "the card answered 6 APDUs ($((a1 - a0)))" test $((a1 - a0)) = 6
check_out "--stats counts 6 APDUs" '^stats: validate: 6 APDUs' cat v.err
# INS of each command, with the object of a GET DATA (5C 03 tag)
apdu_list() {
	grep '^> ' "$1" | awk '{ s = $3; if ($3 == "cb") for (i = 4; i < NF; i++)
		if ($i == "5c" && $(i + 1) == "03") { s = s ":" $(i + 2) $(i + 3) $(i + 4); break }
		print s }' | paste -sd' '
}
apdu_list trace.txt >apdus.txt
check_out "exactly SELECT, GET DATA CHUID, 9A, Security Object, VERIFY, GENERAL AUTHENTICATE" \
	'^a4 cb:5fc102 cb:5fc105 cb:5fc106 20 87$' cat apdus.txt
check "the trace does not show the PIN" test "$(grep -c '32 34 36 38 31 33 35 37' trace.txt)" = 0
"$P" validate --home "$H" -r "$r0" --no-pop --trace t2.txt >/dev/null 2>&1
check_out "--no-pop: 4 APDUs, no VERIFY" '^a4 cb:5fc102 cb:5fc105 cb:5fc106$' apdu_list t2.txt
check "the AIA and CRL were fetched into the cache" test -n "$(ls "$H"/cache/*.crl 2>/dev/null)"
# The AIA URL fills a gap: [trust] intermediates (the root here) does not
# hold the issuing CA, so it comes from the .p7c every time the cache is cold.
rm -rf "$H/cache"
echo "$PIN" | "$P" validate --home "$H" -r "$r0" --pin-stdin --json >v.json 2>v.err
check_out "the issuing CA came from the AIA .p7c (fetched, cached)" '^1$' \
	bash -c 'ls "$0"/cache/*.aia | wc -l' "$H"
check "and the card is valid" jq -e .valid v.json

"$P" validate --home "$H" -r "$r0" --pin-pad </dev/null >pad.out 2>&1; rc=$?
check "--pin-pad on a reader without a pad: input error (exit $rc)" test $rc = 6
check_out "... naming the reader and the missing feature" 'Virtual PCD 00 00 has no PIN pad \(it does not offer FEATURE_VERIFY_PIN_DIRECT\)$' cat pad.out
check "... before asking anyone to type on it" bash -c '! grep -q "types the PIN" pad.out' 

# ---- wrong PIN ---------------------------------------------------------------------
echo 11112222 | "$P" validate --home "$H" -r "$r0" --pin-stdin --json >v.json 2>v.err; rc=$?
check "wrong PIN: exit 7 (got $rc)" test $rc = 7
check_out "pop.pin fails with the tries left" '^fail wrong PIN: 2 tries left$' \
	jq -r '.checks[] | select(.id == "pop.pin") | "\(.status) \(.text)"' v.json
check_out "pop.9a not attempted" 'not attempted: the PIN was not verified' text_of pop.9a
check "the right PIN again resets the counter" validate "$r0"

# ---- the FASC-N of the CHUID changed, written with yubico-piv-tool ---------------------
# The management key is this station's per-card key: HKDF-SHA256 over the
# master secret with "pivstation 9B v1" || serial (issuance/mgmtkey.h).
serial=$(jq -r 'select(.event == "result") | .serial' issue0.jsonl)
alg=$(jq -r 'select(.event == "result") | .mgmt_key.alg' issue0.jsonl)
info=$(printf 'pivstation 9B v1' | bin2hex)$(printf '%08x' "$serial")
# 3DES ignores the parity bits the station sets, so the raw output will do.
mk=$(openssl kdf -keylen 24 -kdfopt digest:SHA256 -kdfopt "hexkey:$(bin2hex <"$H/master.key")" \
	-kdfopt "hexinfo:$info" HKDF | tr -d ':' | tr 'A-F' 'a-f')
check "the management key of this firmware 5.2 key is 3DES ($alg)" test "$alg" = 3DES
Y() { yubico-piv-tool -r "$r0" "-k$mk" "$@"; }
Y -a read-object --id 0x5fc102 -f binary -o chuid.bin >/dev/null 2>&1
check "CHUID read with yubico-piv-tool" test -s chuid.bin
# Another person's FASC-N, encoded by `ca issue` into a throwaway
# certificate's SAN (pivFASC-N otherName) and taken from there.
fascn=$(jq -r 'select(.event == "result") | .fascn' issue0.jsonl)
uuid=$(jq -r 'select(.event == "result") | .uuid' issue0.jsonl)
exp=$(date -u -d '+1 year' +%F)
other_fascn=$(sed -E 's/^(S[0-9]{4}F[0-9]{4}F[0-9]{6}F[0-9]F[0-9]F)0000012345/\10000054321/' <<<"$fascn")
openssl ecparam -name prime256v1 -genkey -noout -out other.key 2>/dev/null
openssl pkey -in other.key -pubout -out other.pub
check "the other FASC-N differs ($other_fascn)" test "$other_fascn" != "$fascn"
"$P" ca issue --home "$H" --slot 9a --pubkey other.pub --fascn "$other_fascn" --uuid "$uuid" \
	--expiry "$exp" --subject "C=US, CN=Someone Else" --der --out throwaway.der 2>/dev/null
nf=$(bin2hex <throwaway.der | grep -oE '06086086480165030606a01b0419[0-9a-f]{50}' | cut -c29-)
h=$(bin2hex <chuid.bin)
pre=${h%%3019*}; f=${h:${#pre}+4:50}
check "CHUID and other FASC-N as bytes" test ${#f} = 50 -a ${#nf} = 50
printf '%s' "${h/3019$f/3019$nf}" | xxd -r -p >chuid-bad.bin
check "the altered CHUID written with yubico-piv-tool" Y -a write-object --id 0x5fc102 \
	-f binary -i chuid-bad.bin
validate "$r0"; rc=$?
check "changed FASC-N: exit 7 (got $rc)" test $rc = 7
check_out "binding.fascn fails naming both FASC-Ns" '^fail the FASC-N differs: certificate SAN S9999F0001F000001F0F1F0000012345100001E, CHUID S9999F0001F000001F0F1F0000054321100001E' \
	jq -r '.checks[] | select(.id == "binding.fascn") | "\(.status) \(.text)"' v.json
check "chuid.signature fails too (the signature covers the FASC-N)" \
	test "$(status_of chuid.signature)" = fail
check "the CHUID put back" Y -a write-object --id 0x5fc102 -f binary -i chuid.bin

# ---- the CHUID re-signed by a key without id-PIV-content-signing ---------------------------
openssl pkey -in "$H/ca/issuing.key" -passin env:PIVSTATION_CA_PASSPHRASE -out issuing-plain.key
openssl ecparam -name prime256v1 -genkey -noout -out nosign.key 2>/dev/null
printf '[v3]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\ncertificatePolicies=2.16.840.1.101.3.2.1.48.86\n' >nosign.ext
openssl req -new -key nosign.key -subj "/C=US/O=Example Agency/CN=Not A Content Signer" 2>/dev/null |
	openssl x509 -req -CA "$H/ca/issuing.crt" -CAkey issuing-plain.key -CAcreateserial \
		-days 30 -extfile nosign.ext -extensions v3 -out nosign.crt 2>/dev/null
# the signed part: every element but EE and 3E, as the card holds it
python3 - <<'PY' chuid.bin
import sys
d = open(sys.argv[1], 'rb').read()
i, tbs, els = 0, b'', []
while i < len(d):
    t = d[i]; l = d[i + 1]; hl = 2
    if l == 0x81: l = d[i + 2]; hl = 3
    elif l == 0x82: l = (d[i + 2] << 8) | d[i + 3]; hl = 4
    els.append((t, d[i:i + hl + l])); i += hl + l
open('chuid.tbs', 'wb').write(b''.join(e for t, e in els if t not in (0xee, 0x3e)))
open('chuid.parts', 'w').write(' '.join('%02x' % t for t, e in els))
PY
check "ca sign-chuid --signer-cert signs with the EKU-less key" "$P" ca sign-chuid --home "$H" \
	--tbs chuid.tbs --signer-cert nosign.crt --signer-key nosign.key --out sig.der
python3 - <<'PY'
d = open('chuid.bin', 'rb').read(); s = open('sig.der', 'rb').read()
i, out = 0, b''
def tlv(t, v):
    n = len(v)
    h = bytes([n]) if n < 0x80 else (bytes([0x81, n]) if n < 0x100 else bytes([0x82, n >> 8, n & 0xff]))
    return bytes([t]) + h + v
while i < len(d):
    t = d[i]; l = d[i + 1]; hl = 2
    if l == 0x81: l = d[i + 2]; hl = 3
    elif l == 0x82: l = (d[i + 2] << 8) | d[i + 3]; hl = 4
    out += tlv(0x3e, s) if t == 0x3e else d[i:i + hl + l]; i += hl + l
open('chuid-resigned.bin', 'wb').write(out)
PY
check "the re-signed CHUID written with yubico-piv-tool" Y -a write-object --id 0x5fc102 \
	-f binary -i chuid-resigned.bin
validate "$r0"; rc=$?
check "CHUID signer without the EKU: exit 7 (got $rc)" test $rc = 7
check_out "chuid.signature fails naming the missing EKU" '^fail .*lacks the id-PIV-content-signing EKU' \
	jq -r '.checks[] | select(.id == "chuid.signature") | "\(.status) \(.text)"' v.json
check "the CHUID put back" Y -a write-object --id 0x5fc102 -f binary -i chuid.bin
check "and the card is valid again" validate "$r0"

# ---- the 9A certificate replaced by one for another key ---------------------------------
check "ca issue: a 9A certificate for another key, same FASC-N and UUID" "$P" ca issue \
	--home "$H" --slot 9a --pubkey other.pub --fascn "$fascn" --uuid "$uuid" --expiry "$exp" \
	--subject "C=US, O=Example Agency, OU=People, CN=Alice M Example" --out other.crt
Y -a read-certificate -s 9a -o orig9a.pem >/dev/null 2>&1
check "the other certificate imported into 9A with yubico-piv-tool" Y -a import-certificate \
	-s 9a -i other.crt
validate "$r0"; rc=$?
check "9A key and certificate differ: exit 7 (got $rc)" test $rc = 7
check_out "pop.9a fails: the certificate is not for the key on this card" \
	'^fail .*does not verify with the certificate.s public key: the certificate is not for the key on this card' \
	jq -r '.checks[] | select(.id == "pop.9a") | "\(.status) \(.text)"' v.json
check "the certificate path itself is fine" test "$(status_of cert.path)" = pass
check "the original 9A certificate put back" Y -a import-certificate -s 9a -i orig9a.pem

# ---- an expired 9A certificate: a second station issuing one-day certificates -----------------
cp -a "$H" "$TL_TMP/h1"
H1=$TL_TMP/h1
check "a station issuing one-day certificates" tl_conf "$H1" validity.certificate_days 1
check "issue card 1 with a one-day 9A certificate" issue 1 "$H1" issue1.jsonl
echo "$PIN" | "$P" validate --home "$H1" -r "$r1" --pin-stdin --json >v.json 2>v.err; rc=$?
check "expiring within the margin: exit 7 (got $rc)" test $rc = 7
check_out "cert.expiry fails: less than the 7 days required" \
	'^fail the 9A certificate expires on .* in (0 days|1 day): less than the 7 days required' \
	jq -r '.checks[] | select(.id == "cert.expiry") | "\(.status) \(.text)"' v.json
later=$(date -u -d '+2 days' +%FT%TZ)
echo "$PIN" | "$P" validate --home "$H1" -r "$r1" --pin-stdin --json --at "$later" >v.json 2>v.err
rc=$?
check "two days later: exit 7 (got $rc)" test $rc = 7
check_out "cert.path fails: the 9A certificate expired" '^fail .*Alice M Example.*\(depth 0\) expired on ' \
	jq -r '.checks[] | select(.id == "cert.path") | "\(.status) \(.text)"' v.json

# ---- the 9A certificate revoked: job cancelled, CRL republished ------------------------------
# Card 2's issuance stops before its Security Object (card pulled after
# 30 APDUs), so its job is still running; the card is then back.
vcardctl restart 2 --fault remove-after=30 >/dev/null
issue 2 "$H" issue2.jsonl; rc=$?
check "issuance onto card 2 interrupted (exit $rc)" test $rc = 3
vcardctl restart 2 >/dev/null
job=$(sqlite3 "$H/store.db" "SELECT id FROM jobs WHERE state = 'running'")
check "its job is still running" test -n "$job"
check "job cancel revokes its certificates" "$P" job cancel "$job" --home "$H" --reason "card lost"
check "ca crl republished" "$P" ca crl --home "$H"
check "ca publish" "$P" ca publish --home "$H" www
echo "$PIN" | "$P" validate --home "$H" -r "$r2" --pin-stdin --json --refresh >v.json 2>v.err
rc=$?
check "revoked 9A certificate: exit 7 (got $rc)" test $rc = 7
check_out "cert.revocation fails with the date and keyCompromise" \
	"^fail .*REVOKED on 20[0-9-]+T[0-9:]+Z, reason keyCompromise; listed in CRL $URL/crl/pivstation.crl \\(number 02" \
	jq -r '.checks[] | select(.id == "cert.revocation") | "\(.status) \(.text)"' v.json
check_out "--json reports the revocation" '^keyCompromise$' jq -r .revoked.reason v.json
check "card 0 is still valid under the new CRL" validate "$r0" --refresh
tl_done
