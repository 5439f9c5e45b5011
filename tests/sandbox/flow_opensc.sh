# tests/sandbox/flow_opensc.sh: the OpenSC 0.23 client flow, shared by
# tests/integ/vcard_opensc_*.sh.  Source it inside a sandbox with one card in
# slot 0, after testlib.sh's tl_sandbox, with:
#   FLOW_SLOTS   "9A:11 9C:07 9D:07 9E:14" (key reference:algorithm id)
#   FLOW_GEN_REF a reference for the plain `piv-tool -G` run
# It runs: opensc-tool -a -n, piv-tool admin authentication and key
# generation, certificate loading, pkcs15-tool -D and --read-certificate,
# pkcs11-tool -L -O, login + sign with every key (verified by openssl),
# RSA decrypt (PKCS#1 v1.5 and OAEP), and pkcs11-tool --test.
# Known tool defects it steps around: firmware-notes/client-opensc-0.23.md.

MOD=$(tl_opensc_module) || exit 1
P11() { pkcs11-tool --module "$MOD" --slot-index 0 "$@"; }

# PKCS#15 IDs of the PIV slots (OpenSC pkcs15-piv.c).
declare -A FLOW_ID=([9A]=01 [9C]=02 [9D]=03 [9E]=04)

flow_ins_count() {	# INS (hex) -> how many the card answered so far
	vcardctl stats 0 | sed -nE "s/.*\"$1\":([0-9]+).*/\\1/p" | grep . || echo 0
}

# flow_gen REF ALG: GENERATE through piv-tool's APDU path; public key to
# pub<REF>.pem.
flow_gen() {
	local out
	out=$(piv-tool -r 0 -A M:9B:03 -s "00:47:00:$1:05:AC:03:80:01:$2:00" 2>&1) ||
		{ echo "$out"; return 1; }
	grep -q 'SW1=0x90, SW2=0x00' <<<"$out" || { echo "$out"; return 1; }
	tl_pub_from_7f49 "$(tl_apdu_hex <<<"$out")" "pub$1.pem"
}

flow_opensc() {
	local atr ref alg id n0 n1 key_usage

	atr=$(vcardctl list | awk -F'\t' -v r="$PV_READER_0" '$1 == r { print $3 }')
	atr=$(sed -E 's/(..)/\1:/g; s/:$//' <<<"${atr,,}")
	check_out "opensc-tool -a prints the card's ATR" "^$atr\$" opensc-tool -r 0 -a
	check_out "opensc-tool -n: a PIV card" 'Personal Identity Verification Card' \
		opensc-tool -r 0 -n
	check "piv-tool admin authentication (mutual, 3DES)" piv-tool -r 0 -A M:9B:03
	printf '00:11:22:33:44:55:66:77:00:11:22:33:44:55:66:77:00:11:22:33:44:55:66:77' \
		>"$TL_TMP/wrong.key"
	check_fails "piv-tool admin authentication with a wrong key" \
		env PIV_EXT_AUTH_KEY="$TL_TMP/wrong.key" piv-tool -r 0 -A M:9B:03

	# piv-tool -G: the card generates (its output step fails under OpenSSL 3,
	# see the note), so the test checks the card's side.
	n0=$(flow_ins_count 47)
	piv-tool -r 0 -A M:9B:03 -G "$FLOW_GEN_REF:11" -o /dev/null >/dev/null 2>&1
	n1=$(flow_ins_count 47)
	check "piv-tool -G $FLOW_GEN_REF:11 reaches the card's GENERATE" test "$n1" -gt "$n0"

	for ra in $FLOW_SLOTS; do
		ref=${ra%%:*}; alg=${ra#*:}
		check "generate $alg in $ref (piv-tool admin + GENERATE)" flow_gen "$ref" "$alg"
		case $ref:$alg in
		9D:0[5-7]|9D:16) key_usage='keyUsage=critical,keyEncipherment' ;;
		9C:*) key_usage='keyUsage=critical,digitalSignature,nonRepudiation' ;;
		*) key_usage='keyUsage=critical,digitalSignature' ;;
		esac
		check "certificate for $ref" tl_cert "pub$ref.pem" "slot $ref" "cert$ref.pem" \
			"$key_usage"
		piv-tool -r 0 -A M:9B:03 -C "$ref" -i "cert$ref.pem" >/dev/null 2>&1
		id=${FLOW_ID[$ref]}
		check "pkcs15-tool --read-certificate $id is the certificate loaded in $ref" \
			cmp <(pkcs15-tool -r 0 --read-certificate "$id" 2>/dev/null |
				openssl x509 -outform DER) <(openssl x509 -in "cert$ref.pem" -outform DER)
	done

	check_out "pkcs15-tool -D lists the PIV authentication key" 'Private .* Key \[PIV AUTH key\]' \
		pkcs15-tool -r 0 -D
	check_out "pkcs15-tool -D lists the PIN" 'PIN \[PIN\]' pkcs15-tool -r 0 -D
	check_out "pkcs11-tool -L shows the token" 'token label[[:space:]]+: ' P11 -L
	check_out "pkcs11-tool -O (logged in) lists the private keys" 'Private Key Object; (EC|RSA)' \
		P11 --login --pin 123456 -O
	check_out "pkcs11-tool -O lists the certificates" 'Certificate Object; type = X.509' P11 -O

	echo "to be signed by the card" >data
	for ra in $FLOW_SLOTS; do
		ref=${ra%%:*}; alg=${ra#*:}; id=${FLOW_ID[$ref]}
		case $alg in
		11)
			check "sign ECDSA-SHA256 with $ref" P11 --login --pin 123456 --sign \
				--mechanism ECDSA-SHA256 --signature-format openssl --id "$id" \
				-i data -o "sig$ref"
			check_out "openssl verifies the $ref ECDSA signature" 'Verified OK' \
				openssl dgst -sha256 -verify "pub$ref.pem" -signature "sig$ref" data ;;
		14)
			check "sign ECDSA-SHA384 with $ref" P11 --login --pin 123456 --sign \
				--mechanism ECDSA-SHA384 --signature-format openssl --id "$id" \
				-i data -o "sig$ref"
			check_out "openssl verifies the $ref P-384 signature" 'Verified OK' \
				openssl dgst -sha384 -verify "pub$ref.pem" -signature "sig$ref" data ;;
		*)
			if [ "$ref" = 9D ]; then
				openssl pkeyutl -encrypt -pubin -inkey "pub$ref.pem" -in data \
					-out enc1 2>/dev/null
				check "RSA-PKCS decrypt with $ref" P11 --login --pin 123456 --decrypt \
					--mechanism RSA-PKCS --id "$id" -i enc1 -o dec1
				check "the decrypted text is the plaintext" cmp data dec1
				openssl pkeyutl -encrypt -pubin -inkey "pub$ref.pem" -in data \
					-pkeyopt rsa_padding_mode:oaep -out enc2 2>/dev/null
				check "RSA-PKCS-OAEP decrypt with $ref" P11 --login --pin 123456 \
					--decrypt --mechanism RSA-PKCS-OAEP --hash-algorithm SHA-1 \
					--mgf MGF1-SHA1 --id "$id" -i enc2 -o dec2
				check "the OAEP plaintext matches" cmp data dec2
				continue
			fi
			check "sign SHA256-RSA-PKCS with $ref" P11 --login --pin 123456 --sign \
				--mechanism SHA256-RSA-PKCS --id "$id" -i data -o "sig$ref"
			check_out "openssl verifies the $ref RSA signature" 'Verified OK' \
				openssl dgst -sha256 -verify "pub$ref.pem" -signature "sig$ref" data
			check "sign SHA256-RSA-PKCS-PSS with $ref" P11 --login --pin 123456 --sign \
				--mechanism SHA256-RSA-PKCS-PSS --id "$id" -i data -o "pss$ref"
			check_out "openssl verifies the $ref RSA-PSS signature" 'Verified OK' \
				openssl dgst -sha256 -verify "pub$ref.pem" -sigopt rsa_padding_mode:pss \
				-sigopt rsa_pss_saltlen:-1 -signature "pss$ref" data ;;
		esac
	done
	check_fails "a wrong PIN does not sign" P11 --login --pin 999999 --sign \
		--mechanism ECDSA-SHA256 --id 01 -i data -o badsig
	check "the right PIN still works after one wrong try" P11 --login --pin 123456 \
		--sign --mechanism ECDSA-SHA256 --id 01 -i data -o sig-again
	check_out "pkcs11-tool --test" 'No errors' P11 --login --pin 123456 --test
}
