#!/usr/bin/env bash
# vcard_ykman.sh: ykman 4.0.9 (Debian yubikey-manager) against the usb-key
# profile, as a YubiKey owner runs it: `ykman --reader 'Virtual PCD 00 00'
# piv ...` for info, keys generate (RSA and EC), certificates generate and
# request, keys attest, keys import, certificates import and export,
# access change-pin, change-puk, unblock-pin (a wrong PUK first),
# set-retries, change-management-key (3DES, AES, --protect), objects
# import and export (a PIN-protected one), and reset; each result is judged
# by ykman's own output and by `pivstation diag`.  The management
# application: 5.7.1 and 4.3.5 keys report their versions through it, a
# plain PIV card answers 6A82.  Then pivstation issues onto keys that ykman
# configured with a PIN-protected management key (3DES; AES-256 on 5.7.1),
# refuses one whose PIN was changed (nothing written), issues onto one with
# the PIV Manager's PIN-derived key, and ykman afterwards sees an ordinary
# key.  firmware-notes/yubikey-management-app.md, pin-puk-check-order.md,
# ykpiv-printed-info-mgmt-key.md.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key --card 1:piv-card \
	--card 2:usb-key --card-args 2 '--firmware 5.7.1' \
	--card 3:usb-key --card-args 3 '--firmware 4.3.5'

R='Virtual PCD 00 00'
Y() { ykman --reader "$R" "$@"; }
YS() { ykman --reader "$(vcardctl reader "$1")" "${@:2}"; }
M=010203040506070801020304050607080102030405060708
der() { openssl x509 -in "$1" -outform DER; }
# diag SLOT JQ [PIN]: one field of `pivstation diag --json`.
diag() {
	if [ $# -ge 3 ]; then
		printf '%s\n' "$3" | "$P" diag -r "$1" --json --pin-stdin 2>/dev/null | jq -r "$2"
	else
		"$P" diag -r "$1" --json 2>/dev/null | jq -r "$2"
	fi
}
# is WHAT GOT WANT
is() { [ "$2" = "$3" ] || { echo "$1: got '$2', want '$3'"; return 1; }; }
# lacks PATTERN CMD...: CMD succeeds and its output has no PATTERN.
lacks() {
	local pat=$1 out; shift
	out=$("$@" 2>&1) || { printf '%s\n' "$out"; return 1; }
	! grep -Eq -- "$pat" <<<"$out" || { printf '%s\n' "$out"; return 1; }
}

check "the sandbox names slot 0 '$R'" is reader "$(vcardctl reader 0)" "$R"

# ---- info: the management application answers the version -----------------------
check_out "piv info: version 5.4.3 (management application)" '^PIV version: 5\.4\.3$' Y piv info
check_out "piv info: factory PIN, 3/3 tries" 'PIN tries remaining: 3/3' Y piv info
check_out "piv info: factory management key (3DES)" 'WARNING: Using default Management key!' Y piv info
check "diag agrees: 5.4.3, factory 9B key" is diag \
	"$(diag 0 '[.piv.yubikey_version, .piv.management_key.factory_default] | join(" ")')" "5.4.3 true"
check_out "ykman info reads the device information (READ CONFIG)" 'Firmware version: 5\.4\.3' Y info
check "ykman's serial is the one diag reads" is serial \
	"$(Y info | sed -n 's/^Serial number: //p')" "$(diag 0 .piv.serial)"

# ---- keys generate, certificates generate, request, attest --------------------------
check "keys generate RSA2048 in 9a" Y piv keys generate -m $M -a RSA2048 9a pub9a.pem
check_out "the 9a public key is RSA 2048" 'Public-Key: \(2048 bit\)' openssl pkey -pubin -in pub9a.pem -noout -text
check "keys generate ECCP256 in 9c" Y piv keys generate -m $M -a ECCP256 9c pub9c.pem
check_out "the 9c public key is P-256" 'prime256v1' openssl pkey -pubin -in pub9c.pem -noout -text
check "certificates generate 9a (self-signed on the key)" \
	Y piv certificates generate -m $M -P 123456 -s 'CN=ykman 9a' 9a pub9a.pem
check "certificates generate 9c" Y piv certificates generate -m $M -P 123456 -s 'CN=ykman 9c' 9c pub9c.pem
check_out "piv info lists the 9a certificate" 'Subject DN:[[:space:]]+CN=ykman 9a' Y piv info
check "diag: 9a certificate, RSA 2048, matches the generated key" is diag \
	"$(diag 0 '.certificates[] | select(.key == "9a") | [.subject, .key_bits, .matches_key_in_slot, .key_in_slot.origin] | join("|")')" \
	"CN=ykman 9a|2048|true|generated on the token"
check "diag: 9c certificate, P-256, matches the key" is diag \
	"$(diag 0 '.certificates[] | select(.key == "9c") | [.subject, .curve, .matches_key_in_slot] | join("|")')" \
	"CN=ykman 9c|prime256v1|true"
check "diag: ykman wrote a CHUID" is diag "$(diag 0 .chuid.present)" true
check "certificates request 9c" Y piv certificates request -P 123456 -s 'CN=request 9c' 9c pub9c.pem req.csr
check_out "the request's signature verifies" 'verify OK' openssl req -in req.csr -verify -noout
check "the request carries the 9c key" cmp <(openssl req -in req.csr -pubkey -noout) <(openssl pkey -pubin -in pub9c.pem)
check "keys attest 9a" Y piv keys attest 9a att9a.pem
check "read the attestation CA (F9)" yubico-piv-tool -r "$R" -a read-certificate -s f9 -o f9.pem
check_out "the attestation verifies under F9" ': OK' openssl verify -partial_chain -CAfile f9.pem att9a.pem
check "the attestation certifies the 9a key" \
	cmp <(openssl x509 -in att9a.pem -noout -pubkey) <(openssl pkey -pubin -in pub9a.pem)

# ---- keys import, certificates import and export --------------------------------------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out k9d.pem 2>/dev/null
openssl req -x509 -key k9d.pem -subj '/CN=imported 9d' -days 30 -out c9d.pem 2>/dev/null
check "keys import P-384 into 9d" Y piv keys import -m $M 9d k9d.pem
check "certificates import 9d" Y piv certificates import -m $M 9d c9d.pem
check "certificates export 9d" Y piv certificates export 9d out9d.pem
check "the exported 9d certificate is the imported one" cmp <(der c9d.pem) <(der out9d.pem)
check "diag: 9d imported P-384 key matches its certificate" is diag \
	"$(diag 0 '.certificates[] | select(.key == "9d") | [.curve, .matches_key_in_slot, .key_in_slot.origin] | join("|")')" \
	"secp384r1|true|imported"

# ---- objects import and export ------------------------------------------------------
head -c 700 /dev/urandom >obj.bin
check "objects import 5fc10d" Y piv objects import -m $M 5fc10d obj.bin
check "objects export 5fc10d gives it back" cmp obj.bin <(Y piv objects export 5fc10d -)
printf 'facial image stand-in' >face.bin
check "objects import 5fc108 (read only after the PIN)" Y piv objects import -m $M 5fc108 face.bin
check "objects export 5fc108 with the PIN" cmp face.bin <(Y piv objects export -P 123456 5fc108 -)
check_fails "objects export 5fc10e (never written)" Y piv objects export 5fc10e nothing.bin

# ---- access: PIN, PUK, retries --------------------------------------------------------
check_out "change-pin" '^New PIN set\.$' Y piv access change-pin -P 123456 -n 654321
check "diag: the new PIN verifies, no longer the default" is diag \
	"$(diag 0 '[.piv.pin.verify_result, .piv.pin.factory_default] | join(" ")' 654321)" "PIN accepted false"
check_fails_out "change-pin with a wrong PIN" 'PIN change failed - 2 tries left' \
	Y piv access change-pin -P 111111 -n 222222
check "diag: 2 PIN tries left" is diag "$(diag 0 .piv.pin.tries_left)" 2
check_out "change-puk" '^New PUK set\.$' Y piv access change-puk -p 12345678 -n 87654321
check "diag: the PUK is no longer the default" is diag "$(diag 0 .piv.puk.factory_default)" false
Y piv access change-pin -P 111111 -n 222222 >/dev/null 2>&1
check_fails_out "the third wrong PIN blocks it" 'PIN is blocked' Y piv access change-pin -P 111111 -n 222222
check "diag: PIN blocked" is diag "$(diag 0 .piv.pin.blocked)" true
# A wrong PUK with a valid new PIN: the PUK is checked first, a try spent.
check_fails_out "unblock-pin with a wrong PUK" 'PIN unblock failed - 2 tries left' \
	Y piv access unblock-pin -p 11112222 -n 333333
check "diag: 2 PUK tries left" is diag "$(diag 0 .piv.puk.tries_left)" 2
check_out "unblock-pin" '^PIN unblocked$' Y piv access unblock-pin -p 87654321 -n 33445566
check "diag: the unblocked PIN verifies, PUK counter back to 3" is diag \
	"$(diag 0 '[.piv.pin.verify_result, .piv.puk.tries_left] | join(" ")' 33445566)" "PIN accepted 3"
check_out "set-retries 5 4" 'Default PINs are set' Y piv access set-retries -m $M -P 33445566 -f 5 4
check_out "piv info: 5/5 PIN tries" 'PIN tries remaining: 5/5' Y piv info
check "diag: PIN 5 tries, PUK 4, both defaults again" is diag \
	"$(diag 0 '[.piv.pin.tries_total, .piv.puk.tries_total, .piv.pin.factory_default, .piv.puk.factory_default] | join(" ")')" \
	"5 4 true true"

# ---- access: the management key (3DES, AES, --protect) ---------------------------------
K3=0a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021
K16=00112233445566778899aabbccddeeff
check "change-management-key to another 3DES key" Y piv access change-management-key -m $M -n $K3 -f
check_fails "the factory key no longer works" Y piv keys generate -m $M -a ECCP256 9e pub9e.pem
check "diag: 3DES, not the factory key" is diag \
	"$(diag 0 '[.piv.management_key.algorithm, .piv.management_key.factory_default] | join(" ")')" "3DES false"
check "change-management-key to AES-128" \
	Y piv access change-management-key -m $K3 -a AES128 -n $K16 -f
check_out "piv info: AES128" 'Management key algorithm: AES128' Y piv info
check "diag: AES-128, no protection" is diag \
	"$(diag 0 '[.piv.management_key.algorithm, .piv.management_key.protection // "none"] | join(" ")')" "AES-128 none"
check "the AES-128 key authenticates (keys generate 9e)" Y piv keys generate -m $K16 -a ECCP256 9e pub9e.pem
check "change-management-key --protect (AES-256, PIN-protected)" \
	Y piv access change-management-key -m $K16 -P 123456 -a AES256 --protect -f
check_out "piv info: the key is stored, protected by the PIN" \
	'Management key is stored on the YubiKey, protected by PIN' Y piv info
check "diag: AES-256, PIN-protected (stored on the token)" is diag \
	"$(diag 0 '[.piv.management_key.algorithm, .piv.management_key.protection] | join("|")')" \
	"AES-256|PIN-protected (stored on the token)"
check "with the PIN alone, ykman administers the key (objects import)" \
	Y piv objects import -P 123456 5fc10d face.bin
check "... and it was written" cmp face.bin <(Y piv objects export 5fc10d -)

# ---- reset ----------------------------------------------------------------------------
check_out "reset (blocks PIN and PUK, then RESET)" 'Success! All PIV data have been cleared' Y piv reset -f
check_out "piv info after reset: factory PIN and management key" 'WARNING: Using default Management key!' Y piv info
check_fails_out "the 9a certificate is gone" 'No certificate found' Y piv certificates export 9a gone.pem
check "diag after reset: no certificates, no CHUID, factory PIN/PUK/9B, 3 tries" is diag \
	"$(diag 0 '[([.certificates[] | select(.present)] | length), .chuid.present, .piv.pin.factory_default, .piv.puk.factory_default, .piv.management_key.factory_default, .piv.pin.tries_total] | join(" ")')" \
	"0 false true true true 3"

# ---- other firmware, and a plain PIV card --------------------------------------------
check_out "5.7.1: piv info, default AES-192 key" 'Management key algorithm: AES192' YS 2 piv info
check_out "5.7.1: ykman info" 'Firmware version: 5\.7\.1' YS 2 info
check_out "4.3.5: ykman info: a YubiKey 4" 'Device type: YubiKey 4' YS 3 info
check_out "4.3.5: piv info" '^PIV version: 4\.3\.5$' YS 3 piv info
check "4.3.5: ykman's serial is the one diag reads" is serial \
	"$(YS 3 info | sed -n 's/^Serial number: //p')" "$(diag 3 .piv.serial)"
YS 1 -l DEBUG piv info >plain.log 2>&1
check_out "plain PIV card: the management SELECT answers 6A82" \
	'RECV:  SW=6a82' grep -A1 'SEND: 00a4040008a000000527471117' plain.log

# ---- pivstation issues onto tokens that ykman configured --------------------------------
PIN=24681357
tl_station
issue() {
	local slot=$1 id=$2
	sed -e "s/\"person_id\": \"[0-9]*\"/\"person_id\": \"$id\"/" \
	    -e "s/alice\.example@/alice.example.$id@/g" \
	    -e "s/EX-000001/EX-$id/" "$PV_ROOT/examples/identity.json" >"id$id.json"
	echo "$PIN" | "$P" issue --home "$H" -r "$slot" --identity "id$id.json" --pin-stdin \
		--passphrase-file "$TL_PASS" --json >"ev$id.jsonl" 2>"ev$id.err"
}

# Slot 0, after the reset: ykman --protect with its default algorithm (3DES).
check "ykman --protect on the reset key (3DES)" \
	Y piv access change-management-key -m $M -P 123456 --protect -f
check "diag: 3DES, PIN-protected" is diag \
	"$(diag 0 '[.piv.management_key.algorithm, .piv.management_key.protection] | join("|")')" \
	"3DES|PIN-protected (stored on the token)"
check "issue onto it" issue 0 0000020001
check_out "inspect: the protected key is seen, the token blank" \
	'management key PIN-protected \(stored on the token\); no CHUID; blank' \
	jq -r 'select(.event == "step" and .step == "inspect") | .text' ev0000020001.jsonl
check_out "mgmt-key: the stored key replaced, ykman's copy removed" \
	"replaced by this station's per-card AES-256 key; ykman's copy and flag removed" \
	jq -r 'select(.event == "step" and .step == "mgmt-key") | .text' ev0000020001.jsonl
check_out "the issuance finished" '^true$' jq -s '.[-1].ok and .[-1].mgmt_key.changed' ev0000020001.jsonl
check "diag: the station's key, no protection left" is diag \
	"$(diag 0 '[.piv.management_key.factory_default, .piv.management_key.protection // "none"] | join(" ")')" "false none"
check_fails_out "ykman: no ADMIN DATA left" 'No data found' Y piv objects export 5fff00 -
check "ykman: no longer a stored key" lacks 'stored on the YubiKey' Y piv info
check_out "ykman: the station's AES-256 key" '^Management key algorithm: AES256$' Y piv info
check "ykman reads the issued 9a certificate" Y piv certificates export 9a issued9a.pem
check "diag: the person's PIN verifies, four certificates" is diag \
	"$(diag 0 '[.piv.pin.verify_result, ([.certificates[] | select(.present)] | length)] | join(" ")' $PIN)" "PIN accepted 4"

# Slot 2 (5.7.1): --protect with AES-256; first with a changed PIN (refused).
check "5.7.1: ykman --protect (AES-256)" \
	YS 2 piv access change-management-key -m $M -P 123456 -a AES256 --protect -f
check "5.7.1: ykman change-pin" YS 2 piv access change-pin -P 123456 -n 97531246
before=$(vcardctl stats 2 | jq '.ins["db"] // 0')
check_fails "issue refuses the protected key behind a changed PIN" issue 2 0000020002
check_out "... saying what to do, nothing written" \
	'PIN-protected \(stored on the token\) and its PIN is not the factory default.*nothing was written.*ykman piv reset' \
	cat ev0000020002.err
check "... no PUT DATA reached the card" is puts "$(vcardctl stats 2 | jq '.ins["db"] // 0')" "$before"
# What the message says: reset the PIV application; then ykman again.
check "5.7.1: ykman piv reset" YS 2 piv reset -f
check "5.7.1: ykman --protect (AES-256) on the reset key" \
	YS 2 piv access change-management-key -m $M -P 123456 -a AES256 --protect -f
check "issue onto the AES-256 protected key" issue 2 0000020002
check_out "mgmt-key: replaced by the station's AES-256 key" \
	"per-card AES-256 key; ykman's copy and flag removed" \
	jq -r 'select(.event == "step" and .step == "mgmt-key") | .text' ev0000020002.jsonl
check "diag 5.7.1: AES-256, the station's key, no protection" is diag \
	"$(diag 2 '[.piv.management_key.algorithm, .piv.management_key.factory_default, .piv.management_key.protection // "none"] | join(" ")')" \
	"AES-256 false none"

# Slot 3 (4.3.5, no metadata): the PIV Manager's PIN-derived 3DES key.
SALT=000102030405060708090a0b0c0d0e0f
KD=$(openssl kdf -keylen 24 -kdfopt digest:SHA1 -kdfopt pass:123456 \
	-kdfopt hexsalt:$SALT -kdfopt iter:10000 PBKDF2 | tr -d ':' | tr 'A-F' 'a-f')
check "4.3.5: the 9B key set to PBKDF2(PIN, salt)" YS 3 piv access change-management-key -m $M -n "$KD" -f
printf '\x80\x12\x82\x10' >admin.bin; printf '%s' "$SALT" | xxd -r -p >>admin.bin
check "4.3.5: ADMIN DATA with the salt" YS 3 piv objects import -m "$KD" 5fff00 admin.bin
check_out "ykman: the key is derived from the PIN" 'Management key is derived from PIN' YS 3 piv info
check "diag: derived from the PIN" is diag "$(diag 3 .piv.management_key.protection)" \
	"derived from the PIN (PBKDF2, YubiKey PIV Manager)"
check "issue onto the PIN-derived key" issue 3 0000020003
check_out "mgmt-key: the derived key replaced" \
	'management key derived from the PIN .* replaced by this station' \
	jq -r 'select(.event == "step" and .step == "mgmt-key") | .text' ev0000020003.jsonl
check "4.3.5: ykman no longer derives the key" lacks 'derived from PIN' YS 3 piv info
check_fails_out "4.3.5: ADMIN DATA deleted (nothing else was in it)" 'No data found' \
	YS 3 piv objects export 5fff00 -

tl_done
