#!/usr/bin/env bash
# vcard_quirks.sh: each vcard quirk as a client sees it (firmware-notes/).
#   slot 0 usb-key  get-response-255
#   slot 1 usb-key  no-extended
#   slot 2 piv-card select-needs-full-aid
#   slot 3 usb-key  pin-sw-630x
#   slot 4 usb-key  --firmware 4.3.5 (firmware-notes/yubikey-firmware-gates.md)
#   slot 5 piv-card factory-chuid
#   slot 6 usb-key  discovery-builtin
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key --card-args 0 '--quirk get-response-255' \
	--card 1:usb-key --card-args 1 '--quirk no-extended' \
	--card 2:piv-card --card-args 2 '--quirk select-needs-full-aid' \
	--card 3:usb-key --card-args 3 '--quirk pin-sw-630x' \
	--card 4:usb-key --card-args 4 '--firmware 4.3.5' \
	--card 5:piv-card --card-args 5 '--quirk factory-chuid' \
	--card 6:usb-key --card-args 6 '--quirk discovery-builtin'
tl_ca; tl_admin_key

Y() { local s=$1; shift; yubico-piv-tool -r "$(vcardctl reader "$s")" "$@"; }
SEL=00A4040005A000000308
# raw S HEX...: the responses of one PC/SC session, one per line
raw() { vcardctl transmit "$@"; }
nth() { sed -n "$1p"; }

# --- get-response-255 -----------------------------------------------------------
check "255: generate RSA2048 in 9a" Y 0 -a generate -s 9a -A RSA2048 -o pub0.pem
check "255: certificate" tl_cert pub0.pem quirk255 cert0.pem
check "255: import-certificate" Y 0 -a import-certificate -s 9a -i cert0.pem
check "255: yubico-piv-tool reads it back whole" cmp <(Y 0 -a read-certificate -s 9a |
	openssl x509 -outform DER) <(openssl x509 -in cert0.pem -outform DER)
check "255: OpenSC reads it back whole" cmp <(pkcs15-tool -r 0 --read-certificate 01 |
	openssl x509 -outform DER) <(openssl x509 -in cert0.pem -outform DER)
r=$(raw 0 $SEL 00CB3FFF055C035FC10500 | nth 2)
check_out "255: GET DATA with Le 00 gets 255 bytes and 61XX" '^.{510}61[0-9A-F]{2}$' echo "$r"
r=$(raw 0 $SEL 00CB3FFF055C035FC10500 00C0000000 | nth 3)
check_out "255: so does GET RESPONSE with Le 00" '^.{510}61[0-9A-F]{2}$' echo "$r"

# --- no-extended --------------------------------------------------------------------
check_out "no-extended: ATR capabilities 73 C0 21 80" '73C02180' \
	bash -c 'vcardctl list | grep -F "$(vcardctl reader 1)"'
check_out "no-extended: an extended GET DATA is 6700" '^6700$' \
	bash -c "vcardctl transmit 1 $SEL 00CB3FFF0000035C017E0000 | sed -n 2p"
check_out "no-extended: the short one works" '^7E12.*9000$' \
	bash -c "vcardctl transmit 1 $SEL 00CB3FFF035C017E00 | sed -n 2p"
check_out "no-extended: yubico-piv-tool works (short APDUs)" 'Version:' Y 1 -a status
check_out "no-extended: OpenSC works" 'Personal Identity Verification Card' opensc-tool -r 1 -n

# --- select-needs-full-aid ---------------------------------------------------------
check_out "full-aid: the 9-byte truncated AID is refused" '^6A82$' \
	raw 2 00A4040009A0000003080000100000
check_out "full-aid: the 5-byte RID is refused" '^6A82$' raw 2 $SEL
check_out "full-aid: the full AID selects" '^61.*9000$' raw 2 00A404000BA000000308000010000100
check_out "full-aid: ATR capabilities 73 80 21 80" '7380218056' \
	bash -c 'vcardctl list | grep -F "$(vcardctl reader 2)"'
check_fails_out "full-aid: yubico-piv-tool (RID select) cannot connect" 'Failed to connect' \
	Y 2 -a status
check_out "full-aid: OpenSC finds PIV through GET DATA 7E" 'Personal Identity Verification Card' \
	opensc-tool -r 2 -n

# --- pin-sw-630x --------------------------------------------------------------------
check_out "630x: a wrong PIN answers 63 02" '^6302$' \
	bash -c "vcardctl transmit 3 $SEL 002000800839393939393939FFFF | sed -n 2p"
check_out "630x: the status query answers 63 02" '^6302$' \
	bash -c "vcardctl transmit 3 $SEL 0020008000 | sed -n 2p"
check_fails_out "630x: yubico-piv-tool still reads the tries" '1 tries left' \
	Y 3 -a verify-pin -P 999999
check_out "630x: status shows 1 try" 'PIN tries left:[[:space:]]+1' Y 3 -a status
check "630x: the right PIN resets the counter" Y 3 -a verify-pin -P 123456
check_out "630x: 3 tries again" 'PIN tries left:[[:space:]]+3' Y 3 -a status

# --- firmware 4.3.5: no GET METADATA / GET SERIAL, base PIV works -------------------
st=$(Y 4 -a set-chuid -a status 2>&1)
check_out "fw 4.3.5: yubico-piv-tool status shows the version" \
	'^Version:[[:space:]]+4\.3\.5$' echo "$st"
check_out "fw 4.3.5: ... the serial (through the OTP applet)" \
	'^Serial Number:[[:space:]]+[1-9][0-9]*$' echo "$st"
check_out "fw 4.3.5: ... the CHUID it wrote (3DES admin without metadata, GET DATA)" \
	'^CHUID:[[:space:]]+3019[dD]4' echo "$st"
check_out "fw 4.3.5: ... and the PIN tries" '^PIN tries left:[[:space:]]+3$' echo "$st"
check_out "fw 4.3.5: GET METADATA and GET SERIAL answer 6D00, GET DATA 9000" \
	'^6D00 6D00 7E12.*9000$' \
	bash -c "vcardctl transmit 4 $SEL 00F700009B 00F8000000 00CB3FFF035C017E00 | sed 1d | paste -sd ' '"
check_out "fw 4.3.5: OTP applet (its status), serial, then PIV again" \
	'^0403050000009000 [0-9A-F]{8}9000 61.*9000$' \
	bash -c "vcardctl transmit 4 00A4040008A000000527200101 00011000 $SEL | paste -sd ' '"
j=$("$PV_BIN/pivstation" diag -r "$(vcardctl reader 4)" --json 2>/dev/null)
check_out "fw 4.3.5: pivstation diag sees 4.3.5 and no metadata" \
	'^4\.3\.5 .*cannot say' jq -r '[.piv.yubikey_version, .piv.management_key.algorithm] | join(" ")' <<<"$j"
ysn=$(sed -nE 's/^Serial Number:[[:space:]]+([0-9]+)$/\1/p' <<<"$st")
check_out "fw 4.3.5: ... and the serial yubico-piv-tool reads, through the OTP applet" \
	"^$ysn\$" jq -r '.piv.serial' <<<"$j"
check_out "fw 4.3.5: diag then reads PIV objects again (CHUID present)" '^true$' \
	jq -r '.chuid.present' <<<"$j"

# --- factory-chuid -----------------------------------------------------------------
j=$("$PV_BIN/pivstation" diag -r "$(vcardctl reader 5)" --json 2>/dev/null)
check_out "factory-chuid: a CHUID, unsigned, with the placeholder FASC-N" \
	'^true false S9999F9999F999999F0F1F0000000000300001E 2030-01-01$' \
	jq -r '.chuid | [.present, .signed, .fasc_n, .expiry] | map(tostring) | join(" ")' <<<"$j"
guid=$(jq -r .chuid.guid <<<"$j" | tr -d '-')
check_out "factory-chuid: a version 4 GUID" '^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$' echo "$guid"
check_out "factory-chuid: OpenSC takes the GUID as the card serial (non-federal FASC-N)" \
	"^${guid}\$" bash -c "piv-tool -r 5 --serial 2>/dev/null | cut -c1-48 | tr -d ' \n' | tr A-F a-f; echo"
check_out "factory-chuid: PUT DATA overwrites it, after 9B authentication" 'SW1=0x90, SW2=0x00' \
	piv-tool -r 5 -A M:9B:03 -s 00:DB:3F:FF:09:5C:03:5F:C1:02:53:02:AB:CD

# --- discovery-builtin -------------------------------------------------------------
DISC='7E124F0BA0000003080000100001005F2F0240009000'
check_out "discovery-builtin: GET DATA 7E is the applet's own (PIN policy 40 00)" "^$DISC\$" \
	bash -c "vcardctl transmit 6 $SEL 00CB3FFF035C017E00 | sed -n 2p"
check_out "discovery-builtin: PUT DATA 7E is refused with 6A80" 'SW1=0x6A, SW2=0x80' \
	piv-tool -r 6 -A M:9B:03 -s 00:DB:3F:FF:14:7E:12:4F:0B:A0:00:00:03:08:00:00:10:00:01:00:5F:2F:02:60:20
check_out "discovery-builtin: ... and changes nothing" "^$DISC\$" \
	bash -c "vcardctl transmit 6 $SEL 00CB3FFF035C017E00 | sed -n 2p"
check_out "discovery-builtin: other objects are written" 'SW1=0x90, SW2=0x00' \
	piv-tool -r 6 -A M:9B:03 -s 00:DB:3F:FF:09:5C:03:5F:C1:07:53:02:F5:10
check_out "discovery-builtin: OpenSC still finds PIV" 'Personal Identity Verification Card' \
	opensc-tool -r 6 -n
tl_done
