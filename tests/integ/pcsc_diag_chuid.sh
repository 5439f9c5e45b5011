#!/usr/bin/env bash
# pcsc_diag_chuid.sh: diag checks a signed CHUID (CMS over the CHUID
# without 3E, PIV-REFERENCE §6) against its signer certificate, and says
# whether each certificate's SAN FASC-N and UUID match the CHUID.  A
# tampered CHUID must show "signature_valid": false and say why.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PV_BIN=${PV_BIN:-$PWD/build}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec tests/sandbox/run --card 0:usb-key -- bash "$0" "$@"
fi
PV=$PV_BIN/pivstation
T=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; exit 1; }
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; echo "ok: $1"; }
R=$(vcardctl reader 0)

yubico-piv-tool -r "$R" -a set-chuid >/dev/null 2>&1
yubico-piv-tool -r "$R" -a read-object --id 0x5fc102 -f binary -o "$T/chuid.bin" >/dev/null 2>&1
hex=$(xxd -p "$T/chuid.bin" | tr -d '\n')
# yubico-piv-tool's CHUID: 30 19 FASC-N, 34 10 GUID, 35 08 expiry, 3E 00, FE 00.
body=${hex%3e00fe00}
[ "$body" != "$hex" ] || fail "unexpected CHUID layout: $hex"
guid=$(printf '%s' "$hex" | sed -E 's/.*3410([0-9a-f]{32}).*/\1/')
uuid=$(printf '%s' "$guid" | sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/')
printf '%sfe00' "$body" | xxd -r -p > "$T/tbs.bin"

# put_signed SIG.DER: the CHUID with that signature in 3E, on the card.
put_signed() {
	sig=$(xxd -p "$1" | tr -d '\n'); n=$(( ${#sig} / 2 ))
	printf '%s3e82%04x%sfe00' "$body" "$n" "$sig" | xxd -r -p > "$T/signed.bin"
	yubico-piv-tool -r "$R" -a write-object --id 0x5fc102 -f binary \
	    -i "$T/signed.bin" >/dev/null 2>&1 || fail "writing the signed CHUID"
}

# A CMS that verifies as CMS but is no CHUID signature (FIPS 201-3
# §4.2.1): its signer has no id-PIV-content-signing EKU and it carries
# no pivSigner-DN.  diag says it is not valid, and why.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/other.key" -out "$T/other.pem" -days 30 \
    -subj "/CN=not a content signer" 2>/dev/null
openssl cms -sign -binary -in "$T/tbs.bin" -signer "$T/other.pem" \
    -inkey "$T/other.key" -econtent_type 2.16.840.1.101.3.6.1 \
    -outform DER -out "$T/other.der" 2>/dev/null
put_signed "$T/other.der"
"$PV" diag --json > "$T/other.json"
eq "plain CMS: signer read" "$(jq -r .chuid.signer "$T/other.json")" "CN=not a content signer"
eq "plain CMS: not a valid CHUID signature" "$(jq -r .chuid.signature_valid "$T/other.json")" false
jq -r .chuid.signature_error "$T/other.json" | grep -q "pivSigner-DN" ||
    fail "plain CMS: the reason: $(jq -r .chuid.signature_error "$T/other.json")"
echo "ok: plain CMS: the reason names pivSigner-DN"

# Our CA's content signer signs the same bytes: that one is valid.
PIVSTATION_OPERATOR=integ PIVSTATION_CA_PASSPHRASE="diag chuid" \
    "$PV" ca init --home "$T/ca" --alg p256 >/dev/null || fail "ca init"
PIVSTATION_OPERATOR=integ PIVSTATION_CA_PASSPHRASE="diag chuid" \
    "$PV" ca sign-chuid --home "$T/ca" --tbs "$T/tbs.bin" --out "$T/sig.der" ||
    fail "ca sign-chuid"
signer_subject=$(openssl x509 -in "$T/ca/ca/signer.crt" -noout -subject \
    -nameopt RFC2253 2>/dev/null | sed 's/^subject=//') || true
put_signed "$T/sig.der"

# A certificate whose SAN carries the CHUID's UUID, another with a wrong one.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/k.pem" -out "$T/c9a.pem" -days 30 -subj "/CN=SAN match" \
    -addext "subjectAltName=URI:urn:uuid:$uuid" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/k.pem" -out "$T/c9e.pem" -days 30 -subj "/CN=SAN mismatch" \
    -addext "subjectAltName=URI:urn:uuid:00000000-0000-4000-8000-000000000000" 2>/dev/null
yubico-piv-tool -r "$R" -a import-certificate -s 9a -i "$T/c9a.pem" >/dev/null 2>&1
yubico-piv-tool -r "$R" -a import-certificate -s 9e -i "$T/c9e.pem" >/dev/null 2>&1
# An empty subject and issuer, as a Card Authentication certificate has.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/k.pem" -out "$T/c9d.pem" -days 30 -subj "/" \
    -addext "subjectAltName=URI:urn:uuid:$uuid" 2>/dev/null
yubico-piv-tool -r "$R" -a import-certificate -s 9d -i "$T/c9d.pem" >/dev/null 2>&1

"$PV" diag --json > "$T/d.json"
eq "signed" "$(jq -r .chuid.signed "$T/d.json")" true
eq "content type" "$(jq -r .chuid.signature_content_type "$T/d.json")" 2.16.840.1.101.3.6.1
[ -n "$signer_subject" ] || fail "the CA's content signer certificate: not found"
eq "signer" "$(jq -r .chuid.signer "$T/d.json")" "$signer_subject"
eq "signature valid" "$(jq -r .chuid.signature_valid "$T/d.json")" true
eq "no signature error" "$(jq -r .chuid.signature_error "$T/d.json")" null
eq "9a SAN UUID matches the CHUID" \
    "$(jq -r '.certificates[] | select(.key == "9a") | .san_uuid_matches_chuid' "$T/d.json")" true
eq "9e SAN UUID does not" \
    "$(jq -r '.certificates[] | select(.key == "9e") | .san_uuid_matches_chuid' "$T/d.json")" false
eq "9d empty subject and issuer" \
    "$(jq -c '.certificates[] | select(.key == "9d") | [.present, .subject, .issuer, .san_uuid_matches_chuid]' "$T/d.json")" \
    '[true,"","",true]'

# Tamper: another expiry date under the same signature.
printf '%s' "$(xxd -p "$T/signed.bin" | tr -d '\n')" |
    sed 's/350832303330303130313e/350832303331303130313e/' | xxd -r -p > "$T/bad.bin"
cmp -s "$T/bad.bin" "$T/signed.bin" && fail "tampering changed nothing"
yubico-piv-tool -r "$R" -a write-object --id 0x5fc102 -f binary -i "$T/bad.bin" >/dev/null 2>&1
"$PV" diag --json > "$T/bad.json"
eq "expiry read back" "$(jq -r .chuid.expiry "$T/bad.json")" 2031-01-01
eq "tampered signature invalid" "$(jq -r .chuid.signature_valid "$T/bad.json")" false
eq "tampered signature: why" "$(jq -r .chuid.signature_error "$T/bad.json")" \
    "CHUID signature does not verify over the CHUID contents: messageDigest differs from the content's digest"
echo "pcsc_diag_chuid: all checks passed"
