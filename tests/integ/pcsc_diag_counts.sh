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
set -euo pipefail
cd "$(dirname "$0")/../.."
export PV_BIN=${PV_BIN:-$PWD/build}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec tests/sandbox/run --card 0:usb-key --card 1:piv-card -- bash "$0" "$@"
fi
PV=$PV_BIN/pivstation
T=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; exit 1; }
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; echo "ok: $1 = $3"; }
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
	openssl req -x509 -newkey rsa:4096 -nodes -keyout "$T/k$s.pem" \
	    -out "$T/c$s.pem" -days 365 -addext "nsComment=$pad" \
	    -subj "/CN=Count Cardholder $s/O=pivstation test/OU=Diagnostics Unit With A Long Name/C=US" \
	    2>/dev/null
	der=$(openssl x509 -in "$T/c$s.pem" -outform der | wc -c)
	[ "$der" -ge 1990 ] && [ "$der" -le 2100 ] || fail "certificate $s is $der bytes, wanted about 2048"
	gr=$((gr + (der + 13 + 255) / 256 - 1))	# GET RESPONSE rounds to read it short
done
echo "four certificates of $(for s in 9a 9c 9d 9e; do openssl x509 -in "$T/c$s.pem" -outform der | wc -c; done | paste -sd/) bytes: $gr GET RESPONSE rounds in short APDUs"

for slot in 0 1; do
	R=$(vcardctl reader $slot)
	for s in 9a 9c 9d 9e; do
		yubico-piv-tool -r "$R" -a import-certificate -s $s -i "$T/c$s.pem" >/dev/null 2>&1 ||
		    fail "import $s on slot $slot"
	done
	yubico-piv-tool -r "$R" -a set-chuid -a set-ccc >/dev/null 2>&1
	vcardctl stats $slot > "$T/s0"
	yubico-piv-tool -r "$R" -a status > /dev/null 2>&1
	vcardctl stats $slot > "$T/s1"
	pkcs15-tool --reader $slot --list-certificates > /dev/null 2>&1 || true
	vcardctl stats $slot > "$T/s2"
	"$PV" diag -r $slot --json --stats > "$T/d$slot.json" 2> "$T/d$slot.err"
	vcardctl stats $slot > "$T/s3"
	J=$T/d$slot.json
	ours=$(jq .stats.apdus "$J"); yk=$(total "$T/s0" "$T/s1")
	eq "slot $slot: diag --stats APDUs = the card's count" "$ours" "$(total "$T/s2" "$T/s3")"
	for s in 9a 9c 9d 9e; do
		eq "slot $slot: certificate $s read, DER bytes" \
		    "$(jq -r ".certificates[] | select(.key == \"$s\") | \"\(.present) \(.der_bytes)\"" "$J")" \
		    "true $(openssl x509 -in "$T/c$s.pem" -outform der | wc -c)"
	done
	echo "slot $slot ($(jq -r '.card.identified[0] // "not in smartcard_list.txt"' "$J"); extended length $(jq .reader.extended_length "$J")):"
	echo "  pivstation diag:            $ours APDUs ($(jq .stats.get_response "$J") GET RESPONSE)," \
	    "$(jq .stats.bytes_sent "$J") bytes sent, $(jq .stats.bytes_received "$J") received; by INS: $(ins_delta "$T/s2" "$T/s3")"
	echo "  yubico-piv-tool -a status:  $yk APDUs; by INS: $(ins_delta "$T/s0" "$T/s1")"
	echo "  pkcs15-tool --list-certificates (OpenSC, not asserted): $(total "$T/s1" "$T/s2") APDUs"
	cp "$T/s0" "$T/yk0-$slot"; cp "$T/s1" "$T/yk1-$slot"
	cp "$T/s2" "$T/pv0-$slot"; cp "$T/s3" "$T/pv1-$slot"
done

# usb-key, extended length: SELECT; GET VERSION, GET SERIAL, GET METADATA
# for PIN, PUK, 9B and the four key slots (what no PIV object tells); one
# extended GET DATA for each of CHUID, CCC, Discovery, Key History and the
# four certificates; no GET RESPONSE.
eq "usb-key diag by INS" "$(ins_delta "$T/pv0-0" "$T/pv1-0")" "a4:1 cb:8 f7:7 f8:1 fd:1"
eq "usb-key diag APDUs" "$(jq .stats.apdus "$T/d0.json")" 18
# piv-card, short only: SELECT, GET VERSION (6D00: no YubiKey extensions),
# VERIFY without data (PIN tries left), one GET DATA per object, and the
# certificates' GET RESPONSE rounds; CHUID, CCC, Discovery and the absent
# Key History fit one response each.
eq "piv-card diag by INS" "$(ins_delta "$T/pv0-1" "$T/pv1-1")" "20:1 a4:1 c0:$gr cb:8 fd:1"
eq "piv-card diag APDUs" "$(jq .stats.apdus "$T/d1.json")" $((3 + 8 + gr))
eq "piv-card diag GET RESPONSE" "$(jq .stats.get_response "$T/d1.json")" "$gr"
# yubico-piv-tool 2.2.0 -a status (firmware-notes/client-yubico-piv-tool-2.2.0.md):
# VERIFY status at connect and again for the tries left; 26 GET DATA
# (CHUID, CCC, four certificates and every retired slot 82..95, present or
# not), all short with GET RESPONSE rounds even where extended length is
# offered.  On the YubiKey: SELECT, GET VERSION, GET SERIAL once; on the
# plain card the failed GET VERSION is sent twice, each followed by a
# SELECT of the YubiKey management application (6A82) looking for a serial.
eq "usb-key yubico-piv-tool by INS" "$(ins_delta "$T/yk0-0" "$T/yk1-0")" "20:2 a4:1 c0:$gr cb:26 f8:1 fd:1"
eq "piv-card yubico-piv-tool by INS" "$(ins_delta "$T/yk0-1" "$T/yk1-1")" "20:2 a4:3 c0:$gr cb:26 fd:2"
echo "pcsc_diag_counts: all checks passed"
