#!/usr/bin/env bash
# ca_chuid_cms.sh: the CHUID signature and the Security Object judged by
# `openssl cms`.  The CHUID's signed bytes are rebuilt here as
# PIV-REFERENCE §6 says (every element but EE and 3E, FE included) and
# `openssl cms -verify -binary -content <tbs> -inform DER -CAfile chain
# -purpose any` must accept what `pivstation ca sign-chuid` made, for an
# EC and an RSA content signer, and refuse it over changed bytes; the CMS
# shape is read back from `openssl cms -cmsout -print`.  The Security
# Object's BB must verify with `openssl cms -verify -certfile signer.crt`
# (and not without it: the signer certificate is left out), and its LDS
# hashes must be the SHA of each container.  No card: no pcsc sandbox.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none
set -e

hex2bin() { xxd -r -p; }
bin2hex() { xxd -p | tr -d '\n'; }
# tlv TAG HEXVALUE: one BER-TLV, minimal length (values below 64 KiB)
tlv() {
	local n=$(( ${#2} / 2 ))
	if [ $n -lt 128 ]; then printf '%s%02x%s' "$1" $n "$2"
	elif [ $n -lt 256 ]; then printf '%s81%02x%s' "$1" $n "$2"
	else printf '%s82%04x%s' "$1" $n "$2"; fi
}
# tlv_value FILE TAG: the value of the top-level element TAG (1-byte tags)
tlv_value() {
	local h i=0 tag len ll
	h=$(bin2hex <"$1")
	while [ $i -lt ${#h} ]; do
		tag=${h:$i:2}; i=$((i + 2))
		len=$((16#${h:$i:2})); i=$((i + 2))
		if [ $len -gt 128 ]; then
			ll=$((len - 128)); len=$((16#${h:$i:$((2 * ll))})); i=$((i + 2 * ll))
		fi
		if [ "$tag" = "$2" ]; then printf '%s' "${h:$i:$((2 * len))}" | hex2bin; return 0; fi
		i=$((i + 2 * len))
	done
	return 1
}

FASCN=d4e739da739ced39ce739d836858210842108421c84210c3eb
GUID=3f6c1a229b4e4d1c8a550e9d7120c4b7
EXP=$(printf '20301231' | bin2hex)
TBS_HEX=$(tlv 30 $FASCN)$(tlv 34 $GUID)$(tlv 35 "$EXP")fe00

for alg in p256 p384 rsa2048; do
	D=$TL_TMP/$alg
	mkdir "$D"
	tl_station --home "$TL_TMP/home-$alg" --no-init --alg $alg --env
	printf '%s' "$TBS_HEX" | hex2bin >"$D/tbs.bin"
	"$P" ca sign-chuid --home "$H" --tbs "$D/tbs.bin" --out "$D/sig.der" || tl_fail "sign-chuid $alg"

	# the judge: openssl, detached content rebuilt here
	openssl cms -verify -binary -content "$D/tbs.bin" -inform DER -in "$D/sig.der" \
		-CAfile "$H/ca/chain.pem" -purpose any -out /dev/null 2>"$D/v" \
		|| tl_fail "$alg: openssl cms -verify refused the CHUID signature: $(cat "$D/v")"
	grep -q "Verification successful" "$D/v" || tl_fail "$alg: $(cat "$D/v")"
	# changed bytes: the expiry, and FE left out
	printf '%s' "${TBS_HEX/3230333031323331/3230333131323331}" | hex2bin >"$D/tbs2.bin"
	if openssl cms -verify -binary -content "$D/tbs2.bin" -inform DER -in "$D/sig.der" \
		-CAfile "$H/ca/chain.pem" -purpose any -out /dev/null 2>/dev/null; then
		tl_fail "$alg: a changed expiry verifies"
	fi
	head -c -2 "$D/tbs.bin" >"$D/tbs3.bin"
	if openssl cms -verify -binary -content "$D/tbs3.bin" -inform DER -in "$D/sig.der" \
		-CAfile "$H/ca/chain.pem" -purpose any -out /dev/null 2>/dev/null; then
		tl_fail "$alg: the signature verifies without FE"
	fi

	# the shape, as openssl prints it
	openssl cms -cmsout -print -inform DER -in "$D/sig.der" >"$D/print"
	grep -q "contentType: pkcs7-signedData" "$D/print" || tl_fail "$alg: not signedData"
	grep -q "^    version: 3" "$D/print" || tl_fail "$alg: SignedData version"
	grep -q "eContentType: .*(2.16.840.1.101.3.6.1)" "$D/print" || tl_fail "$alg: eContentType"
	grep -q "eContent: <ABSENT>" "$D/print" || tl_fail "$alg: eContent present"
	grep -A1 "^    crls:" "$D/print" | grep -q "<ABSENT>" || tl_fail "$alg: CRLs present"
	[ "$(grep -c "      cert_info:" "$D/print")" = 1 ] || tl_fail "$alg: not exactly one certificate"
	grep -q "d.issuerAndSerialNumber:" "$D/print" || tl_fail "$alg: sid"
	grep -q "object: .*(2.16.840.1.101.3.6.5)" "$D/print" || tl_fail "$alg: no pivSigner-DN"
	grep -A2 "object: contentType" "$D/print" | grep -q "OBJECT:.*(2.16.840.1.101.3.6.1)" \
		|| tl_fail "$alg: no contentType attribute naming the eContentType"
	grep -q "object: messageDigest" "$D/print" || tl_fail "$alg: no messageDigest attribute"
	! grep -q "SMIMECapabilities" "$D/print" || tl_fail "$alg: SMIMECapabilities"
	case $alg in
	p256) sig=ecdsa-with-SHA256; md=sha256 ;;
	p384) sig=ecdsa-with-SHA384; md=sha384 ;;
	rsa2048) sig=rsaEncryption; md=sha256 ;;
	esac
	grep -A1 "signatureAlgorithm:" "$D/print" | grep -q "algorithm: $sig " || tl_fail "$alg: signature algorithm"
	grep -A1 "digestAlgorithm:" "$D/print" | grep -q "algorithm: $md " || tl_fail "$alg: digest"
	grep -q "^        version: 1" "$D/print" || tl_fail "$alg: SignerInfo version"
	# pivSigner-DN: the attribute's one value is the signer's subject Name,
	# byte for byte (OID 06 08 ...03 06 05, SET 31 LL, then the Name)
	openssl x509 -in "$H/ca/signer.crt" -outform DER -out "$D/signer.der"
	read -r off hl l < <(openssl asn1parse -inform DER -in "$D/signer.der" | grep "d=2 .*cons: SEQUENCE" \
		| sed -n 4p | sed -E 's/^ *([0-9]+):d=2 +hl=([0-9]+) +l= *([0-9]+).*/\1 \2 \3/')
	subj=$(tail -c +$((off + 1)) "$D/signer.der" | head -c $((hl + l)) | bin2hex)
	[ "${subj:0:2}" = 30 ] || tl_fail "$alg: could not find the signer's subject"
	bin2hex <"$D/sig.der" | grep -q "0608608648016503060531..$subj" \
		|| tl_fail "$alg: pivSigner-DN is not the signer's subject Name"

	# a whole CHUID (EE first, 3E, FE) checked by pivstation against the CA
	printf '%s' "ee020000$(tlv 30 $FASCN)$(tlv 34 $GUID)$(tlv 35 "$EXP")$(tlv 3e "$(bin2hex <"$D/sig.der")")fe00" \
		| hex2bin >"$D/chuid.bin"
	"$P" ca verify-chuid --home "$H" --chuid "$D/chuid.bin" --json >"$D/verify.json" ||
		tl_fail "$alg: verify-chuid"
	jq -e '.chuid_signature == "valid"' "$D/verify.json" >/dev/null ||
		tl_fail "$alg: verify-chuid --json: $(cat "$D/verify.json")"
	rc=0; printf '%s' "ee020000$(tlv 30 $FASCN)$(tlv 34 ffffffffffffffffffffffffffffffff)$(tlv 35 "$EXP")$(tlv 3e "$(bin2hex <"$D/sig.der")")fe00" \
		| hex2bin >"$D/bad.bin"
	"$P" ca verify-chuid --home "$H" --chuid "$D/bad.bin" >/dev/null 2>"$D/err" || rc=$?
	[ $rc = 7 ] || tl_fail "$alg: a changed GUID: exit $rc ($(cat "$D/err"))"

	# Security Object over the CHUID and a printed information object
	printf '%s' "$(tlv 01 "$(printf 'Jane Doe' | bin2hex)")$(tlv 02 "$(printf 'Employee' | bin2hex)")fe00" \
		| hex2bin >"$D/pi.bin"
	"$P" ca secobj --home "$H" --container "1:3000:$D/chuid.bin" --container "3:3001:$D/pi.bin" \
		--out "$D/so.bin" || tl_fail "$alg: secobj"
	[ "$(tlv_value "$D/so.bin" ba | bin2hex)" = 013000033001 ] || tl_fail "$alg: BA map"
	tlv_value "$D/so.bin" fe >/dev/null || tl_fail "$alg: no FE"
	tlv_value "$D/so.bin" bb >"$D/bb.der" || tl_fail "$alg: no BB"
	openssl cms -verify -inform DER -in "$D/bb.der" -certfile "$H/ca/signer.crt" \
		-CAfile "$H/ca/chain.pem" -purpose any -binary -out "$D/lds.der" 2>"$D/v" \
		|| tl_fail "$alg: openssl refused the Security Object: $(cat "$D/v")"
	if openssl cms -verify -inform DER -in "$D/bb.der" -CAfile "$H/ca/chain.pem" -purpose any \
		-out /dev/null 2>/dev/null; then
		tl_fail "$alg: the Security Object verifies without the signer: it carries a certificate"
	fi
	openssl cms -cmsout -print -inform DER -in "$D/bb.der" >"$D/soprint"
	grep -q "eContentType: .*(1.3.27.1.1.1)" "$D/soprint" || tl_fail "$alg: LDS eContentType"
	if grep -A1 "^    certificates:" "$D/soprint" | grep -qv -e "certificates:" -e "<ABSENT>"; then
		tl_fail "$alg: the Security Object carries certificates"
	fi
	grep -q "^    version: 3" "$D/soprint" || tl_fail "$alg: Security Object SignedData version"
	openssl asn1parse -inform DER -in "$D/lds.der" >"$D/lds.txt"
	grep -q ":$md" "$D/lds.txt" || tl_fail "$alg: LDS hash algorithm"
	h1=$(openssl dgst -$md -r "$D/chuid.bin" | cut -d' ' -f1)
	h3=$(openssl dgst -$md -r "$D/pi.bin" | cut -d' ' -f1)
	grep -qi "HEX DUMP\]:$h1" "$D/lds.txt" || tl_fail "$alg: CHUID hash not in the LDS object"
	grep -qi "HEX DUMP\]:$h3" "$D/lds.txt" || tl_fail "$alg: printed information hash not in the LDS object"
	[ "$(grep -c 'prim: INTEGER' "$D/lds.txt")" = 3 ] || tl_fail "$alg: LDS: version and two data groups"
done
echo "ok"
