#!/usr/bin/env bash
# pcsc_diag_chuid.sh: diag checks a signed CHUID (CMS over the CHUID
# without 3E, PIV-REFERENCE §6) against its signer certificate, and says
# whether each certificate's SAN FASC-N and UUID match the CHUID.  A
# tampered CHUID must show "signature_valid": false and say why.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key
set -e
R=$(vcardctl reader 0)

yubico-piv-tool -r "$R" -a set-chuid >/dev/null 2>&1
yubico-piv-tool -r "$R" -a read-object --id 0x5fc102 -f binary -o "$TL_TMP/chuid.bin" >/dev/null 2>&1
hex=$(xxd -p "$TL_TMP/chuid.bin" | tr -d '\n')
# yubico-piv-tool's CHUID: 30 19 FASC-N, 34 10 GUID, 35 08 expiry, 3E 00, FE 00.
body=${hex%3e00fe00}
[ "$body" != "$hex" ] || tl_fail "unexpected CHUID layout: $hex"
guid=$(printf '%s' "$hex" | sed -E 's/.*3410([0-9a-f]{32}).*/\1/')
uuid=$(printf '%s' "$guid" | sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/')
printf '%sfe00' "$body" | xxd -r -p > "$TL_TMP/tbs.bin"

# put_signed SIG.DER: the CHUID with that signature in 3E, on the card.
put_signed() {
	sig=$(xxd -p "$1" | tr -d '\n'); n=$(( ${#sig} / 2 ))
	printf '%s3e82%04x%sfe00' "$body" "$n" "$sig" | xxd -r -p > "$TL_TMP/signed.bin"
	yubico-piv-tool -r "$R" -a write-object --id 0x5fc102 -f binary \
	    -i "$TL_TMP/signed.bin" >/dev/null 2>&1 || tl_fail "writing the signed CHUID"
}

# A CMS that verifies as CMS but is no CHUID signature (FIPS 201-3
# §4.2.1): its signer has no id-PIV-content-signing EKU and it carries
# no pivSigner-DN.  diag says it is not valid, and why.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TL_TMP/other.key" -out "$TL_TMP/other.pem" -days 30 \
    -subj "/CN=not a content signer" 2>/dev/null
openssl cms -sign -binary -in "$TL_TMP/tbs.bin" -signer "$TL_TMP/other.pem" \
    -inkey "$TL_TMP/other.key" -econtent_type 2.16.840.1.101.3.6.1 \
    -outform DER -out "$TL_TMP/other.der" 2>/dev/null
put_signed "$TL_TMP/other.der"
"$P" diag --json > "$TL_TMP/other.json"
check_eq "plain CMS: signer read" "$(jq -r .chuid.signer "$TL_TMP/other.json")" "CN=not a content signer"
check_eq "plain CMS: not a valid CHUID signature" "$(jq -r .chuid.signature_valid "$TL_TMP/other.json")" false
jq -r .chuid.signature_error "$TL_TMP/other.json" | grep -q "pivSigner-DN" ||
    tl_fail "plain CMS: the reason: $(jq -r .chuid.signature_error "$TL_TMP/other.json")"
echo "ok: plain CMS: the reason names pivSigner-DN"

# Our CA's content signer signs the same bytes: that one is valid.
tl_station --no-init --alg p256 --env
"$P" ca sign-chuid --home "$H" --tbs "$TL_TMP/tbs.bin" --out "$TL_TMP/sig.der" ||
    tl_fail "ca sign-chuid"
signer_subject=$(openssl x509 -in "$H/ca/signer.crt" -noout -subject \
    -nameopt RFC2253 2>/dev/null | sed 's/^subject=//') || true
put_signed "$TL_TMP/sig.der"

# A certificate whose SAN carries the CHUID's UUID, another with a wrong one.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TL_TMP/k.pem" -out "$TL_TMP/c9a.pem" -days 30 -subj "/CN=SAN match" \
    -addext "subjectAltName=URI:urn:uuid:$uuid" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TL_TMP/k.pem" -out "$TL_TMP/c9e.pem" -days 30 -subj "/CN=SAN mismatch" \
    -addext "subjectAltName=URI:urn:uuid:00000000-0000-4000-8000-000000000000" 2>/dev/null
yubico-piv-tool -r "$R" -a import-certificate -s 9a -i "$TL_TMP/c9a.pem" >/dev/null 2>&1
yubico-piv-tool -r "$R" -a import-certificate -s 9e -i "$TL_TMP/c9e.pem" >/dev/null 2>&1
# An empty subject and issuer, as a Card Authentication certificate has.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TL_TMP/k.pem" -out "$TL_TMP/c9d.pem" -days 30 -subj "/" \
    -addext "subjectAltName=URI:urn:uuid:$uuid" 2>/dev/null
yubico-piv-tool -r "$R" -a import-certificate -s 9d -i "$TL_TMP/c9d.pem" >/dev/null 2>&1

"$P" diag --json > "$TL_TMP/d.json"
check_eq "signed" "$(jq -r .chuid.signed "$TL_TMP/d.json")" true
check_eq "content type" "$(jq -r .chuid.signature_content_type "$TL_TMP/d.json")" 2.16.840.1.101.3.6.1
[ -n "$signer_subject" ] || tl_fail "the CA's content signer certificate: not found"
check_eq "signer" "$(jq -r .chuid.signer "$TL_TMP/d.json")" "$signer_subject"
check_eq "signature valid" "$(jq -r .chuid.signature_valid "$TL_TMP/d.json")" true
check_eq "no signature error" "$(jq -r .chuid.signature_error "$TL_TMP/d.json")" null
check_eq "9a SAN UUID matches the CHUID" \
    "$(jq -r '.certificates[] | select(.key == "9a") | .san_uuid_matches_chuid' "$TL_TMP/d.json")" true
check_eq "9e SAN UUID does not" \
    "$(jq -r '.certificates[] | select(.key == "9e") | .san_uuid_matches_chuid' "$TL_TMP/d.json")" false
check_eq "9d empty subject and issuer" \
    "$(jq -c '.certificates[] | select(.key == "9d") | [.present, .subject, .issuer, .san_uuid_matches_chuid]' "$TL_TMP/d.json")" \
    '[true,"","",true]'

# Tamper: another expiry date under the same signature.
printf '%s' "$(xxd -p "$TL_TMP/signed.bin" | tr -d '\n')" |
    sed 's/350832303330303130313e/350832303331303130313e/' | xxd -r -p > "$TL_TMP/bad.bin"
cmp -s "$TL_TMP/bad.bin" "$TL_TMP/signed.bin" && tl_fail "tampering changed nothing"
yubico-piv-tool -r "$R" -a write-object --id 0x5fc102 -f binary -i "$TL_TMP/bad.bin" >/dev/null 2>&1
"$P" diag --json > "$TL_TMP/bad.json"
check_eq "expiry read back" "$(jq -r .chuid.expiry "$TL_TMP/bad.json")" 2031-01-01
check_eq "tampered signature invalid" "$(jq -r .chuid.signature_valid "$TL_TMP/bad.json")" false
check_eq "tampered signature: why" "$(jq -r .chuid.signature_error "$TL_TMP/bad.json")" \
    "CHUID signature does not verify over the CHUID contents: messageDigest differs from the content's digest"
tl_done
