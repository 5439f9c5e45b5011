#!/usr/bin/env bash
# decode_cli.sh: `pivstation decode` on the example YubiKey conversation
# names the commands, explains the status words, reassembles the 61XX
# answer, and never shows the PIN (123456) in any form, text or --json.
# It reads a file and talks to no card, so it needs no pcsc sandbox.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none
set -e
CONV=$PV_ROOT/examples/conversation-yubikey-status.txt

"$P" decode "$CONV" >"$TL_TMP/out.txt"
"$P" decode --json "$CONV" >"$TL_TMP/out.json"
"$P" decode - <"$CONV" >"$TL_TMP/stdin.txt"
cmp -s "$TL_TMP/out.txt" "$TL_TMP/stdin.txt" || tl_fail "stdin and file input differ"

for want in "SELECT" "GET VERSION" "GET SERIAL" "VERIFY" "GET DATA" "GET RESPONSE" \
    "firmware version 5.4.3" "serial number 15328984" \
    "63C3: verification failed, 3 tries left" \
    "6A82: data object or application not found" \
    "verify PIV PIN" "[8 bytes redacted]" \
    "reassembled answer of #7: 310 bytes" \
    "FASC-N (25): d4e739da739ced39ce739d836858210842108421c84210c3eb" \
    "expiration date (8): \"20300101\"" "S9999F9999F999999F0F1F0000000000300001E" \
    "application property template"; do
	grep -qF -- "$want" "$TL_TMP/out.txt" || tl_fail "text output lacks: $want"
done
[ "$(grep -c '^#[0-9]' "$TL_TMP/out.txt")" -eq 9 ] || tl_fail "expected 9 exchanges"

# The PIN, in every spelling a decoder could print it.
for f in "$TL_TMP/out.txt" "$TL_TMP/out.json"; do
	norm=$(tr -d ' :\n' <"$f" | tr 'A-F' 'a-f')
	for pin in 313233343536 123456; do
		if grep -q "$pin" <<<"$norm"; then tl_fail "$f shows the PIN ($pin)"; fi
	done
	if grep -qiE '31[^0-9a-f]{0,3}32[^0-9a-f]{0,3}33[^0-9a-f]{0,3}34' "$f"; then
		tl_fail "$f shows PIN digits"
	fi
done
# The input does contain it: the check above can fail.
grep -q "31 32 33 34 35 36" "$CONV" || tl_fail "the example no longer holds a PIN to redact"

# --json is one valid document with the same exchanges.
python3 - "$TL_TMP/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
x = d["exchanges"]
assert len(x) == 9, len(x)
assert x[0]["name"] == "SELECT" and x[0]["sw"] == "9000"
v = x[4]
assert v["name"] == "VERIFY" and v["data_redacted"] is True, v
assert set(v["data"]) == {"*"}, v["data"]
assert x[7]["reassembled_len"] == 310
tags = [t["tag"] for t in x[7]["rsp_tlv"][0]["children"]]
assert tags == ["30", "34", "35", "3e", "fe"], tags
assert x[8]["sw"] == "6a82" and "not found" in x[8]["sw_text"]
PY

# Bad input is refused with the line named, exit code 6 (input).
printf '> 00 a4 04 00\n< 9\n' >"$TL_TMP/bad.txt"
set +e
"$P" decode "$TL_TMP/bad.txt" >/dev/null 2>"$TL_TMP/err.txt"; rc=$?
set -e
[ $rc -eq 6 ] || tl_fail "bad input: exit $rc, want 6"
grep -q "line 2: odd number of hex digits" "$TL_TMP/err.txt" || tl_fail "error does not name the line: $(cat "$TL_TMP/err.txt")"

# The JSON Lines trace form decodes to the same explanation.
printf '%s\n' '{"seq":1,"cmd":"00a404000","rsp":"9000"}' >"$TL_TMP/bad.jsonl"
set +e; "$P" decode "$TL_TMP/bad.jsonl" >/dev/null 2>&1; rc=$?; set -e
[ $rc -eq 6 ] || tl_fail "odd hex in a JSON trace accepted (exit $rc)"
printf '%s\n' '{"seq":1,"t":"2025-01-01T00:00:00.000001Z","reader":"Virtual PCD 00 00","cmd":"0020008008313233343536ffff","rsp":"9000","us":9100}' \
    '{"seq":2,"cmd":"00fd000000","rsp":"0504039000"}' >"$TL_TMP/trace.jsonl"
"$P" decode "$TL_TMP/trace.jsonl" >"$TL_TMP/trace.txt"
grep -qF "firmware version 5.4.3" "$TL_TMP/trace.txt" || tl_fail "JSON Lines trace not decoded"
grep -qF "[8 bytes redacted]" "$TL_TMP/trace.txt" || tl_fail "JSON Lines VERIFY not redacted"
! grep -q "3132" "$TL_TMP/trace.txt" || tl_fail "JSON Lines decode shows the PIN"
echo "decode_cli: ok"
