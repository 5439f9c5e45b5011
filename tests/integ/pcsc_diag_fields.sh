#!/usr/bin/env bash
# pcsc_diag_fields.sh: `pivstation diag --json` checked field by field
# against what the vcard holds after a yubico-piv-tool personalisation,
# on a YubiKey-like usb-key (extended length) and a plain piv-card (short
# APDUs only); and the APDU count of diag against the card's own count
# and against yubico-piv-tool -a status.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key --card-args 0 '--serial 12345678' --card 1:piv-card
set -e

# Three 2 KB certificates (RSA 4096 keys, padded with a comment) for 9C, 9D
# and 9E; 9A gets a P-256 key generated on the card (see perso).
pad=$(head -c 461 /dev/zero | tr '\0' x)
for s in 9c 9d 9e; do
	openssl req -x509 -newkey rsa:4096 -nodes -keyout "$TL_TMP/k$s.pem" \
	    -out "$TL_TMP/c$s.pem" -days 365 \
	    -subj "/CN=Diag Cardholder $s/O=pivstation test/OU=Diagnostics Unit With A Long Name/C=US" \
	    -addext "nsComment=$pad" \
	    -addext "certificatePolicies=2.16.840.1.101.3.2.1.3.13" \
	    -addext "subjectAltName=URI:urn:uuid:01234567-89ab-cdef-0123-456789abcdef" \
	    2>/dev/null
	n=$(openssl x509 -in "$TL_TMP/c$s.pem" -outform der | wc -c)
	[ "$n" -ge 2000 ] && [ "$n" -le 2100 ] || tl_fail "test certificate $s is $n bytes, wanted about 2048"
done

openssl ecparam -name prime256v1 -genkey -noout -out "$TL_TMP/ca.key"
openssl req -x509 -new -key "$TL_TMP/ca.key" -subj "/CN=pivstation test CA" \
    -days 30 -out "$TL_TMP/ca.pem" 2>/dev/null

perso() {	# perso SLOT
	local R; R=$(vcardctl reader "$1")
	yubico-piv-tool -r "$R" -a generate -s 9a -A ECCP256 -o "$TL_TMP/pub$1.pem" >/dev/null 2>&1
	# The on-card key certified by a test CA (the certificate must match
	# the key in the slot).
	openssl x509 -new -subj "/CN=Diag Auth $1/O=pivstation test" \
	    -CA "$TL_TMP/ca.pem" -CAkey "$TL_TMP/ca.key" -force_pubkey "$TL_TMP/pub$1.pem" \
	    -days 30 -out "$TL_TMP/c9a-$1.pem" 2>/dev/null
	yubico-piv-tool -r "$R" -a import-certificate -s 9a -i "$TL_TMP/c9a-$1.pem" >/dev/null 2>&1
	for s in 9c 9d 9e; do
		yubico-piv-tool -r "$R" -a import-certificate -s $s -i "$TL_TMP/c$s.pem" >/dev/null 2>&1
	done
	yubico-piv-tool -r "$R" -a set-chuid -a set-ccc >/dev/null 2>&1
	yubico-piv-tool -r "$R" -a change-pin -P 123456 -N 654321 >/dev/null 2>&1
	# SET MANAGEMENT KEY is a YubiKey extension.
	[ "$1" != 0 ] || yubico-piv-tool -r "$R" -a set-mgm-key \
	    -n 0a0b0c0d0e0f10111213141516171819aabbccddeeff0011 >/dev/null 2>&1
}

check_slot() {	# check_slot SLOT PROFILE
	local slot=$1 prof=$2 R J a b c ykn ours card
	R=$(vcardctl reader "$slot")
	perso "$slot" || tl_fail "yubico-piv-tool personalisation of slot $slot"
	# yubico-piv-tool's own view, and what it costs.
	a=$(vcardctl stats "$slot" | jq .apdus)
	yubico-piv-tool -r "$R" -a status > "$TL_TMP/status$slot.txt" 2>&1
	b=$(vcardctl stats "$slot" | jq .apdus)
	"$P" diag -r "$slot" --json --stats > "$TL_TMP/d$slot.json" 2> "$TL_TMP/d$slot.err" ||
	    tl_fail "diag on slot $slot: $(cat "$TL_TMP/d$slot.err")"
	c=$(vcardctl stats "$slot" | jq .apdus)
	J=$TL_TMP/d$slot.json
	ykn=$((b - a)); card=$((c - b)); ours=$(jq .stats.apdus "$J")
	echo "APDUs on $prof with three 2 KB certificates and one P-256: pivstation diag $ours" \
	    "($(jq .stats.get_response "$J") GET RESPONSE), yubico-piv-tool -a status $ykn"
	check_eq "$prof: diag --stats APDUs = the card's count" "$ours" "$card"
	[ "$ours" -lt "$ykn" ] || tl_fail "$prof: diag used $ours APDUs, yubico-piv-tool $ykn"

	check_eq "$prof reader" "$(jq -r .reader.name "$J")" "$R"
	check_eq "$prof protocol" "$(jq -r .reader.protocol "$J")" "T=1"
	check_eq "$prof ATR" "$(jq -r .card.atr "$J" | tr -d " ")" \
	    "$(vcardctl list | awk -v r="$R" -F'\t' '$1 == r { print $3 }' | head -1)"
	check_eq "$prof PIV present" "$(jq -r .piv.present "$J")" true
	# The full AID, also where 4F holds only the PIX (usb-key).
	check_eq "$prof APT AID" "$(jq -r .piv.aid "$J")" A000000308000010000100
	# CHUID: yubico-piv-tool's status prints it in hex; we decode it.
	chuid_hex=$(sed -n 's/^CHUID:[[:space:]]*//p' "$TL_TMP/status$slot.txt" | tr -d ' ' | tr A-F a-f)
	guid_hex=$(printf '%s' "$chuid_hex" | sed -E 's/.*3410([0-9a-f]{32}).*/\1/')
	want_guid=$(printf '%s' "$guid_hex" | sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/')
	check_eq "$prof CHUID present" "$(jq -r .chuid.present "$J")" true
	check_eq "$prof CHUID GUID" "$(jq -r .chuid.guid "$J")" "$want_guid"
	check_eq "$prof CHUID FASC-N" "$(jq -r .chuid.fasc_n "$J")" \
	    "S9999F9999F999999F0F1F0000000000300001E"
	check_eq "$prof CHUID non-federal" "$(jq -r .chuid.fasc_n_non_federal "$J")" true
	want_exp=$(printf '%s' "$chuid_hex" | sed -E 's/.*3508([0-9a-f]{16}).*/\1/' | xxd -r -p)
	check_eq "$prof CHUID expiry" "$(jq -r .chuid.expiry "$J")" \
	    "${want_exp:0:4}-${want_exp:4:2}-${want_exp:6:2}"
	check_eq "$prof CHUID signed" "$(jq -r .chuid.signed "$J")" false
	check_eq "$prof CCC present" "$(jq -r .ccc.present "$J")" true
	check_eq "$prof CCC data model" "$(jq -r .ccc.data_model "$J")" 10
	check_eq "$prof Key History absent" "$(jq -r .key_history.present "$J")" false
	# Certificates: compare with openssl's view of what was imported.
	for s in 9a 9c 9d 9e; do
		pem=$TL_TMP/c$s.pem; [ $s = 9a ] && pem=$TL_TMP/c9a-$slot.pem
		want_subj=$(openssl x509 -in "$pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
		want_ser=$(openssl x509 -in "$pem" -noout -serial | sed 's/^serial=//')
		q=".certificates[] | select(.key == \"$s\")"
		check_eq "$prof $s present" "$(jq -r "$q.present" "$J")" true
		check_eq "$prof $s subject" "$(jq -r "$q.subject" "$J")" "$want_subj"
		check_eq "$prof $s serial" "$(jq -r "$q.serial" "$J")" "$want_ser"
		check_eq "$prof $s issuer" "$(jq -r "$q.issuer" "$J")" \
		    "$(openssl x509 -in "$pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')"
		for w in startdate:not_before enddate:not_after; do
			check_eq "$prof $s ${w#*:}" "$(jq -r "$q.${w#*:}" "$J")" \
			    "$(date -u -d "$(openssl x509 -in "$pem" -noout -${w%%:*} | sed 's/^[^=]*=//')" +%Y-%m-%dT%H:%M:%SZ)"
		done
		check_eq "$prof $s DER bytes" "$(jq -r "$q.der_bytes" "$J")" \
		    "$(openssl x509 -in "$pem" -outform der | wc -c)"
	done
	check_eq "$prof 9a key" "$(jq -r '.certificates[] | select(.key == "9a") | "\(.key_type) \(.key_bits) \(.curve)"' "$J")" "EC 256 prime256v1"
	check_eq "$prof 9c key" "$(jq -r '.certificates[] | select(.key == "9c") | "\(.key_type) \(.key_bits)"' "$J")" "RSA 4096"
	check_eq "$prof 9c policy" "$(jq -r '.certificates[] | select(.key == "9c") | .policies[0]' "$J")" "2.16.840.1.101.3.2.1.3.13"
	check_eq "$prof 9c SAN UUID" "$(jq -r '.certificates[] | select(.key == "9c") | .san_uuid' "$J")" "01234567-89ab-cdef-0123-456789abcdef"
	check_eq "$prof discovery PIN policy" "$(jq -r .discovery.pin_policy "$J")" 4000
}

check_slot 0 usb-key
J=$TL_TMP/d0.json
check_eq "usb-key serial" "$(jq -r .piv.serial "$J")" 12345678
check_eq "usb-key version" "$(jq -r .piv.yubikey_version "$J")" 5.4.3
check_eq "usb-key extended length" "$(jq -r .reader.extended_length "$J")" true
check_eq "usb-key GET RESPONSE rounds" "$(jq -r .stats.get_response "$J")" 0
# SELECT, GET VERSION, GET SERIAL, 3 + 4 GET METADATA, one extended GET
# DATA per object (CHUID, CCC, Discovery, Key History, four certificates),
# and ADMIN DATA (5FFF00), read because the 9B key is not the factory one
# (firmware-notes/ykpiv-printed-info-mgmt-key.md).
check_eq "usb-key APDUs" "$(jq -r .stats.apdus "$J")" 19
check_eq "usb-key PIN tries" "$(jq -r '"\(.piv.pin.tries_left)/\(.piv.pin.tries_total)"' "$J")" 3/3
check_eq "usb-key PIN still default" "$(jq -r .piv.pin.factory_default "$J")" false
check_eq "usb-key PUK still default" "$(jq -r .piv.puk.factory_default "$J")" true
check_eq "usb-key PUK tries" "$(jq -r '"\(.piv.puk.tries_left)/\(.piv.puk.tries_total)"' "$J")" 3/3
check_eq "usb-key management key default" "$(jq -r .piv.management_key.factory_default "$J")" false
check_eq "usb-key management key algorithm" "$(jq -r .piv.management_key.algorithm "$J")" 3DES
check_eq "usb-key management key not kept for the PIN (no ADMIN DATA)" \
    "$(jq -r '.piv.management_key | has("protection")' "$J")" false
check_eq "usb-key 9a generated on the token" "$(jq -r '.certificates[] | select(.key == "9a") | .key_in_slot.origin' "$J")" "generated on the token"
check_eq "usb-key 9a certificate matches the key" "$(jq -r '.certificates[] | select(.key == "9a") | .matches_key_in_slot' "$J")" true

# --latency N: N more GET DATA exchanges, timed, and not in --stats.
a=$(vcardctl stats 0 | jq .apdus)
"$P" diag -r 0 --json --stats --latency 5 > "$TL_TMP/lat.json" 2> /dev/null
b=$(vcardctl stats 0 | jq .apdus)
check_eq "latency exchanges" "$(jq -r .latency.exchanges "$TL_TMP/lat.json")" 5
check_eq "latency min <= median <= max" \
    "$(jq -r '.latency | .min_ms <= .median_ms and .median_ms <= .max_ms and .min_ms > 0' "$TL_TMP/lat.json")" true
check_eq "--stats leaves the latency exchanges out" "$(jq -r .stats.apdus "$TL_TMP/lat.json")" 19
check_eq "the card saw the probe and the 5 timed exchanges" "$((b - a))" 24

check_slot 1 piv-card
J=$TL_TMP/d1.json
check_eq "piv-card APT algorithms" "$(jq -c .piv.algorithms "$J")" \
    '["3DES","RSA 1024","RSA 2048","RSA 3072","ECC P-256","ECC P-384"]'
check_eq "piv-card PUK (no query on plain PIV)" "$(jq -r '.piv.puk | has("tries_left")' "$J")" false
check_eq "piv-card management key default unknown without --try-default-key" \
    "$(jq -r '.piv.management_key | has("factory_default")' "$J")" false
check_eq "piv-card management key default (--try-default-key, one authentication)" \
    "$("$P" diag -r 1 --try-default-key --json | jq -r .piv.management_key.factory_default)" true
check_eq "piv-card has no YubiKey version" "$(jq -r '.piv.yubikey_version // "none"' "$J")" none
check_eq "piv-card extended length" "$(jq -r .reader.extended_length "$J")" false
check_eq "piv-card PIN tries (VERIFY status)" "$(jq -r .piv.pin.tries_left "$J")" 3
# Short APDUs: each object costs ceil(wire bytes / 256) exchanges (the
# GET DATA and its GET RESPONSE rounds), where the wire bytes are the 53
# wrapper and its length plus the content (Discovery: the 7E element
# itself); a missing object costs one.  Plus SELECT, GET VERSION (6D00)
# and the VERIFY status query: diag must be at that minimum.
min=$(jq '[.chuid, .ccc, .key_history,
	   (.certificates[] | {present, bytes: .object_bytes})] |
	  map(if .present then (.bytes + (if .bytes < 128 then 2 elif .bytes < 256 then 3 else 4 end)) else 0 end) |
	  map(if . == 0 then 1 else ((. + 255) / 256 | floor) end) | add' "$J")
disc=$(jq '.discovery.bytes // 0' "$J")
min=$((min + (disc > 0 ? (disc + 255) / 256 : 1)))
check_eq "piv-card APDUs = protocol minimum for short APDUs" \
    "$(jq .stats.apdus "$J")" "$((min + 3))"

# Text output says the same things.
"$P" diag -r 0 > "$TL_TMP/d0.txt"
grep -q "serial  *12345678" "$TL_TMP/d0.txt" || tl_fail "text output lacks the serial"
grep -q "Yubico YubiKey 5" "$TL_TMP/d0.txt" || tl_fail "text output lacks the identification"
tl_done
