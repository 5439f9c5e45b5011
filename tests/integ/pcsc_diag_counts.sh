#!/usr/bin/env bash
# pcsc_diag_counts.sh: what `pivstation diag` costs on the wire with four
# 2 KB certificates present, on usb-key (extended length) and piv-card
# (short APDUs only), against the card's own count, the protocol minimum,
# and yubico-piv-tool -a status (and OpenSC's pkcs15-tool, for reference)
# on the same card.  Prints the figures the issue's closing note quotes.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PV_BIN=${PV_BIN:-$PWD/build}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec tests/sandbox/run --card 0:usb-key --card 1:piv-card -- bash "$0" "$@"
fi
PV=$PV_BIN/pivstation
T=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; exit 1; }
apdus() { vcardctl stats "$1" | jq .apdus; }

pad=$(head -c 542 /dev/zero | tr "\0" x)
for s in 9a 9c 9d 9e; do
	openssl req -x509 -newkey rsa:4096 -nodes -keyout "$T/k$s.pem" \
	    -out "$T/c$s.pem" -days 365 -addext "nsComment=$pad" \
	    -subj "/CN=Count Cardholder $s/O=pivstation test/OU=Diagnostics Unit With A Long Name/C=US" \
	    2>/dev/null
done

for slot in 0 1; do
	R=$(vcardctl reader $slot)
	for s in 9a 9c 9d 9e; do
		yubico-piv-tool -r "$R" -a import-certificate -s $s -i "$T/c$s.pem" >/dev/null 2>&1 ||
		    fail "import $s on slot $slot"
	done
	yubico-piv-tool -r "$R" -a set-chuid -a set-ccc >/dev/null 2>&1
	a=$(apdus $slot)
	yubico-piv-tool -r "$R" -a status > /dev/null 2>&1
	b=$(apdus $slot)
	pkcs15-tool --reader $slot --list-certificates > /dev/null 2>&1 || true
	c=$(apdus $slot)
	"$PV" diag -r $slot --json --stats > "$T/d$slot.json" 2> "$T/d$slot.err"
	d=$(apdus $slot)
	J=$T/d$slot.json
	ours=$(jq .stats.apdus "$J")
	[ "$ours" -eq $((d - c)) ] || fail "slot $slot: --stats says $ours, the card counted $((d - c))"
	sizes=$(jq -c '[.certificates[].der_bytes]' "$J")
	echo "slot $slot ($(jq -r ".card.identified[0] // \"not in smartcard_list.txt\"" "$J"); extended length $(jq .reader.extended_length "$J")):" \
	    "certificates $sizes bytes"
	echo "  pivstation diag:            $ours APDUs ($(jq .stats.get_response "$J") GET RESPONSE)," \
	    "$(jq .stats.bytes_sent "$J") bytes sent, $(jq .stats.bytes_received "$J") received"
	echo "  yubico-piv-tool -a status:  $((b - a)) APDUs"
	echo "  pkcs15-tool --list-certificates (OpenSC): $((c - b)) APDUs"
	[ "$ours" -lt $((b - a)) ] || fail "diag needs more APDUs than yubico-piv-tool"
	for s in 9a 9c 9d 9e; do
		[ "$(jq -r ".certificates[] | select(.key == \"$s\") | .present" "$J")" = true ] ||
		    fail "slot $slot: certificate $s not read"
	done
done
# usb-key: one extended GET DATA per object; SELECT, GET VERSION, GET
# SERIAL and seven GET METADATA (PIN, PUK, 9B, the four key slots).
[ "$(jq .stats.apdus "$T/d0.json")" -eq 18 ] || fail "usb-key: not 18 APDUs"
[ "$(jq .stats.get_response "$T/d0.json")" -eq 0 ] || fail "usb-key: GET RESPONSE used"
# piv-card: ceil(wire bytes / 256) exchanges per object (53 header
# included; Discovery is its own 7E element), plus SELECT, GET VERSION
# (6D00) and the PIN status VERIFY.
J=$T/d1.json
min=$(jq '[.chuid, .ccc, .key_history,
	   (.certificates[] | {present, bytes: .object_bytes})] |
	  map(if .present then (.bytes + (if .bytes < 128 then 2 elif .bytes < 256 then 3 else 4 end)) else 0 end) |
	  map(if . == 0 then 1 else ((. + 255) / 256 | floor) end) | add' "$J")
disc=$(jq '.discovery.bytes // 0' "$J")
min=$((min + (disc > 0 ? (disc + 255) / 256 : 1) + 3))
[ "$(jq .stats.apdus "$J")" -eq "$min" ] || fail "piv-card: $(jq .stats.apdus "$J") APDUs, minimum $min"
echo "piv-card: diag is at the short-APDU minimum of $min exchanges"
echo "pcsc_diag_counts: all checks passed"
