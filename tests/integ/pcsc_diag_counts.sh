#!/usr/bin/env bash
# pcsc_diag_counts.sh: what `pivstation diag` costs on the wire with four
# 2 KB certificates present, on usb-key (extended length) and piv-card
# (short APDUs only), beside yubico-piv-tool -a status on the same card.
# Every count is exact and checked per instruction against the vcard's own
# counters (vcardctl stats); the expected figures are derived here from the
# certificate sizes, not from diag's output.  Prints the figures the issue's
# closing note quotes.
#
# Short APDUs: a response carries at most 256 data bytes, so an object of W
# bytes on the wire (53 LL... around the content) costs ceil(W / 256)
# exchanges: the GET DATA and ceil(W / 256) - 1 GET RESPONSE.  A
# certificate container written by yubico-piv-tool is 70 82 LLLL <DER>
# 71 01 00 FE 00 inside 53 82 LLLL: W = DER + 13.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key --card 1:piv-card
set -e
# ins_delta A B: per-instruction APDU counts between two vcardctl stats
# snapshots, as "INS:N ..." sorted by INS.
ins_delta() {
	jq -rn --slurpfile a "$1" --slurpfile b "$2" \
	    '$a[0].ins as $x | $b[0].ins as $y | [$y | keys[] |
	     (($y[.]) - ($x[.] // 0)) as $n | select($n != 0) | "\(.):\($n)"] | join(" ")'
}
total() { jq -n --slurpfile a "$1" --slurpfile b "$2" '$b[0].apdus - $a[0].apdus'; }

# Four 2 KB certificates (RSA 4096, padded with a comment).
pad=$(head -c 542 /dev/zero | tr "\0" x)
gr=0
for s in 9a 9c 9d 9e; do
	openssl req -x509 -newkey rsa:4096 -nodes -keyout "$TL_TMP/k$s.pem" \
	    -out "$TL_TMP/c$s.pem" -days 365 -addext "nsComment=$pad" \
	    -subj "/CN=Count Cardholder $s/O=pivstation test/OU=Diagnostics Unit With A Long Name/C=US" \
	    2>/dev/null
	der=$(openssl x509 -in "$TL_TMP/c$s.pem" -outform der | wc -c)
	[ "$der" -ge 1990 ] && [ "$der" -le 2100 ] || tl_fail "certificate $s is $der bytes, wanted about 2048"
	gr=$((gr + (der + 13 + 255) / 256 - 1))	# GET RESPONSE rounds to read it short
done
echo "four certificates of $(for s in 9a 9c 9d 9e; do openssl x509 -in "$TL_TMP/c$s.pem" -outform der | wc -c; done | paste -sd/) bytes: $gr GET RESPONSE rounds in short APDUs"

for slot in 0 1; do
	R=$(vcardctl reader $slot)
	for s in 9a 9c 9d 9e; do
		yubico-piv-tool -r "$R" -a import-certificate -s $s -i "$TL_TMP/c$s.pem" >/dev/null 2>&1 ||
		    tl_fail "import $s on slot $slot"
	done
	yubico-piv-tool -r "$R" -a set-chuid -a set-ccc >/dev/null 2>&1
	vcardctl stats $slot > "$TL_TMP/s0"
	yubico-piv-tool -r "$R" -a status > /dev/null 2>&1
	vcardctl stats $slot > "$TL_TMP/s1"
	pkcs15-tool --reader $slot --list-certificates > /dev/null 2>&1 || true
	vcardctl stats $slot > "$TL_TMP/s2"
	"$P" diag -r $slot --json --stats > "$TL_TMP/d$slot.json" 2> "$TL_TMP/d$slot.err"
	vcardctl stats $slot > "$TL_TMP/s3"
	J=$TL_TMP/d$slot.json
	ours=$(jq .stats.apdus "$J"); yk=$(total "$TL_TMP/s0" "$TL_TMP/s1")
	check_eq "slot $slot: diag --stats APDUs = the card's count" "$ours" "$(total "$TL_TMP/s2" "$TL_TMP/s3")"
	for s in 9a 9c 9d 9e; do
		check_eq "slot $slot: certificate $s read, DER bytes" \
		    "$(jq -r ".certificates[] | select(.key == \"$s\") | \"\(.present) \(.der_bytes)\"" "$J")" \
		    "true $(openssl x509 -in "$TL_TMP/c$s.pem" -outform der | wc -c)"
	done
	echo "slot $slot ($(jq -r '.card.identified[0] // "not in smartcard_list.txt"' "$J"); extended length $(jq .reader.extended_length "$J")):"
	echo "  pivstation diag:            $ours APDUs ($(jq .stats.get_response "$J") GET RESPONSE)," \
	    "$(jq .stats.bytes_sent "$J") bytes sent, $(jq .stats.bytes_received "$J") received; by INS: $(ins_delta "$TL_TMP/s2" "$TL_TMP/s3")"
	echo "  yubico-piv-tool -a status:  $yk APDUs; by INS: $(ins_delta "$TL_TMP/s0" "$TL_TMP/s1")"
	echo "  pkcs15-tool --list-certificates (OpenSC, not asserted): $(total "$TL_TMP/s1" "$TL_TMP/s2") APDUs"
	cp "$TL_TMP/s0" "$TL_TMP/yk0-$slot"; cp "$TL_TMP/s1" "$TL_TMP/yk1-$slot"
	cp "$TL_TMP/s2" "$TL_TMP/pv0-$slot"; cp "$TL_TMP/s3" "$TL_TMP/pv1-$slot"
done

# usb-key, extended length: SELECT; GET VERSION, GET SERIAL, GET METADATA
# for PIN, PUK, 9B and the four key slots (what no PIV object tells); one
# extended GET DATA for each of CHUID, CCC, Discovery, Key History and the
# four certificates; no GET RESPONSE.
check_eq "usb-key diag by INS" "$(ins_delta "$TL_TMP/pv0-0" "$TL_TMP/pv1-0")" "a4:1 cb:8 f7:7 f8:1 fd:1"
check_eq "usb-key diag APDUs" "$(jq .stats.apdus "$TL_TMP/d0.json")" 18
# piv-card, short only: SELECT, GET VERSION (6D00: no YubiKey extensions),
# VERIFY without data (PIN tries left), one GET DATA per object, and the
# certificates' GET RESPONSE rounds; CHUID, CCC, Discovery and the absent
# Key History fit one response each.
check_eq "piv-card diag by INS" "$(ins_delta "$TL_TMP/pv0-1" "$TL_TMP/pv1-1")" "20:1 a4:1 c0:$gr cb:8 fd:1"
check_eq "piv-card diag APDUs" "$(jq .stats.apdus "$TL_TMP/d1.json")" $((3 + 8 + gr))
check_eq "piv-card diag GET RESPONSE" "$(jq .stats.get_response "$TL_TMP/d1.json")" "$gr"
# yubico-piv-tool 2.2.0 -a status (firmware-notes/client-yubico-piv-tool-2.2.0.md):
# VERIFY status at connect and again for the tries left; 26 GET DATA
# (CHUID, CCC, four certificates and every retired slot 82..95, present or
# not), all short with GET RESPONSE rounds even where extended length is
# offered.  On the YubiKey: SELECT, GET VERSION, GET SERIAL once; on the
# plain card the failed GET VERSION is sent twice, each followed by a
# SELECT of the YubiKey management application (6A82) looking for a serial.
check_eq "usb-key yubico-piv-tool by INS" "$(ins_delta "$TL_TMP/yk0-0" "$TL_TMP/yk1-0")" "20:2 a4:1 c0:$gr cb:26 f8:1 fd:1"
check_eq "piv-card yubico-piv-tool by INS" "$(ins_delta "$TL_TMP/yk0-1" "$TL_TMP/yk1-1")" "20:2 a4:3 c0:$gr cb:26 fd:2"
tl_done
