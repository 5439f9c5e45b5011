#!/usr/bin/env bash
# vcard_ykpiv.sh: yubico-piv-tool 2.2.0 against the usb-key profile: status,
# generate (RSA2048, ECCP256, ECCP384), import-key, import-certificate,
# read-certificate, verify-pin, change-pin, change-puk, unblock-pin,
# set-mgm-key (weak keys refused) and back, test-signature, test-decipher
# (RSA and ECDH), attest,
# read-object/write-object, pin-retries, and reset after blocking PIN and PUK.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key
tl_ca

Y() { yubico-piv-tool -r "$PV_READER_0" "$@"; }
der() { openssl x509 -in "$1" -outform DER; }

check_out "status: a fresh YubiKey 5.4.3" 'Version:[[:space:]]+5\.4\.3' Y -a status
check_out "status: no CHUID on a blank key" 'CHUID:[[:space:]]+No data available' Y -a status
check_out "status: 3 PIN tries" 'PIN tries left:[[:space:]]+3' Y -a status

# generate: one slot per algorithm, certificate from the printed public key
for sa in 9a:ECCP256:prime256v1 9c:RSA2048:'2048 bit' 9e:ECCP384:secp384r1; do
	IFS=: read -r s alg want <<<"$sa"
	check "generate $alg in $s" Y -a generate -s "$s" -A "$alg" -o "pub$s.pem"
	check_out "generate $alg: the public key is $want" "$want" \
		openssl pkey -pubin -in "pub$s.pem" -noout -text
	check "certificate for $s" tl_cert "pub$s.pem" "slot $s" "cert$s.pem"
	check "import-certificate $s" Y -a import-certificate -s "$s" -i "cert$s.pem"
	check "read-certificate $s" Y -a read-certificate -s "$s" -o "read$s.pem"
	check "read-certificate $s gives back the same DER" \
		cmp <(der "cert$s.pem") <(der "read$s.pem")
	check_out "test-signature $s ($alg)" 'Successful (ECDSA|RSA) verification' \
		Y -a verify-pin -P 123456 -a test-signature -s "$s" -i "cert$s.pem"
done
check_out "status lists the three certificates" 'Slot 9e:' Y -a status

# import-key RSA2048 into 9d, then test-decipher
openssl genrsa -out k9d.pem 2048 2>/dev/null
openssl req -new -x509 -key k9d.pem -subj /CN=km -days 30 -out cert9d.pem
check "import-key RSA2048 into 9d" Y -a import-key -s 9d -i k9d.pem
check "import-certificate 9d" Y -a import-certificate -s 9d -i cert9d.pem
check_out "test-decipher 9d" 'Successfully performed RSA decryption' \
	Y -a verify-pin -P 123456 -a test-decipher -s 9d -i cert9d.pem
openssl ecparam -name prime256v1 -genkey -noout -out k82.pem 2>/dev/null
check "import-key ECCP256 into retired slot 82" Y -a import-key -s 82 -i k82.pem
openssl req -new -x509 -key k82.pem -subj /CN=km82 -days 30 -out cert82.pem
check "import-certificate 82" Y -a import-certificate -s 82 -i cert82.pem
check_out "test-decipher 82 (ECDH P-256)" 'Successfully performed ECDH exchange' \
	Y -a verify-pin -P 123456 -a test-decipher -s 82 -i cert82.pem

# attest: generated keys only; the chain ends at the F9 certificate
check "read-certificate f9 (attestation CA)" Y -a read-certificate -s f9 -o f9.pem
check "attest 9a" Y -a attest -s 9a -o att9a.pem
check_out "the attestation certificate verifies under F9" ': OK' \
	openssl verify -partial_chain -CAfile f9.pem att9a.pem
check "the attestation certifies the 9a key" \
	cmp <(openssl x509 -in att9a.pem -noout -pubkey) <(openssl pkey -pubin -in pub9a.pem)
check_out "firmware extension in the attestation" '1\.3\.6\.1\.4\.1\.41482\.3\.3' \
	openssl x509 -in att9a.pem -noout -text
check_fails "attest of an imported key is refused" Y -a attest -s 9d

# write-object / read-object
printf '53 0a 71 77 65 72 74 79 75 69 6f 70' | tr -d ' ' >obj.hex
check "write-object 5fc10d" Y -a write-object --id 0x5fc10d -f hex -i obj.hex
check_out "read-object 5fc10d" '^530a71776572747975696f70$' \
	Y -a read-object --id 0x5fc10d -f hex

# PIN, PUK
check_fails_out "verify-pin with a wrong PIN" '2 tries left' Y -a verify-pin -P 111111
check_out "verify-pin resets the counter" 'Successfully verified PIN' Y -a verify-pin -P 123456
check_out "tries back to 3" 'PIN tries left:[[:space:]]+3' Y -a status
check "change-pin" Y -a change-pin -P 123456 -N 654321
check_fails "the old PIN is gone" Y -a verify-pin -P 123456
check "the new PIN verifies" Y -a verify-pin -P 654321
check "change-puk" Y -a change-puk -P 12345678 -N 87654321
for _ in 1 2 3; do Y -a verify-pin -P 000000 >/dev/null 2>&1; done
check_fails_out "PIN blocked after 3 wrong PINs" 'blocked' Y -a verify-pin -P 654321
check "unblock-pin with the new PUK" Y -a unblock-pin -P 87654321 -N 112233
check "the unblocked PIN verifies" Y -a verify-pin -P 112233

# management key: weak DES keys are refused (firmware-notes/mgmt-key-weak-3des.md):
# yubico-piv-tool on Linux checks only the first DES key itself, the card all three
ff_count() { vcardctl stats 0 | sed -nE 's/.*"ff":([0-9]+).*/\1/p' | grep . || echo 0; }
n0=$(ff_count)
check_fails "set-mgm-key with a weak first DES key (the client refuses)" \
	Y -a set-mgm-key -n fefefefefefefefe0f0e0d0c0b0a0908f1f2f3f4f5f6f7f8
check_out "... without sending SET MANAGEMENT KEY" "^$n0\$" ff_count
check_fails "set-mgm-key with a weak second DES key (the card refuses)" \
	Y -a set-mgm-key -n 0f0e0d0c0b0a09081e1e1e1e0f0f0f0ff1f2f3f4f5f6f7f8
check_out "... which reached the card" "^$((n0 + 1))\$" ff_count
check "the default key still authenticates" Y -a write-object --id 0x5fc10d -f hex -i obj.hex

# management key: change, the default stops working, change back
NEW=0f0e0d0c0b0a09080706050403020100f1f2f3f4f5f6f7f8
check "set-mgm-key to a new 3DES key" Y -a set-mgm-key -n "$NEW"
check_fails "the default key no longer authenticates" \
	Y -a write-object --id 0x5fc10d -f hex -i obj.hex
check "the new key authenticates" Y --key="$NEW" -a write-object --id 0x5fc10d -f hex -i obj.hex
check "set-mgm-key back to the default" \
	Y --key="$NEW" -a set-mgm-key -n 010203040506070801020304050607080102030405060708
check "the default key works again" Y -a write-object --id 0x5fc10d -f hex -i obj.hex

# pin-retries: needs the management key and the PIN; resets both to default
check_out "pin-retries 5/4" 'changed pin retries to 5 and puk retries to 4' \
	Y -a verify-pin -P 112233 -a pin-retries --pin-retries 5 --puk-retries 4
check_out "status shows 5 tries" 'PIN tries left:[[:space:]]+5' Y -a status
check "the PIN is the default again" Y -a verify-pin -P 123456

# reset: refused while usable, done after blocking PIN and PUK
check_fails "reset refused while PIN and PUK work" Y -a reset
for _ in 1 2 3 4 5; do Y -a verify-pin -P 000000 >/dev/null 2>&1; done
for _ in 1 2 3 4; do Y -a unblock-pin -P 00000000 -N 222222 >/dev/null 2>&1; done
check_out "reset after blocking PIN and PUK" 'Successfully reset' Y -a reset
check_out "after reset: 3 tries" 'PIN tries left:[[:space:]]+3' Y -a status
check_fails "after reset: 9a is empty" Y -a read-certificate -s 9a
check "after reset: the default PIN works" Y -a verify-pin -P 123456
check "after reset: the attestation CA is still there" Y -a read-certificate -s f9

# yubico-piv-tool never sends extended APDUs: large objects went through
# GET RESPONSE and IMPORT through command chaining
check_out "stats: the card counted GET RESPONSE and chained IMPORT" '"c0":[1-9].*"fe":[1-9]' \
	vcardctl stats 0
tl_done
