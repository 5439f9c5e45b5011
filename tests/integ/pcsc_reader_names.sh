#!/usr/bin/env bash
# pcsc_reader_names.sh: a reader whose name carries terminal escapes
# (OSC window title, clear screen, an 8-bit CSI, a right-to-left override)
# and bytes that are not UTF-8.  Nothing pivstation prints passes them to
# the terminal raw: `readers`, `readers --watch`, `diag` (text), error
# messages, `issue` progress lines (a job's reader named in a refusal); the JSON forms stay valid UTF-8 JSON and keep the text as it
# is (controls as JSON escapes, bytes that are not UTF-8 as "\xHH").  One sanitiser (apdu/text.h) does it for all of them.
EVIL=$'Evil\e]0;owned\a\e[2J\x9b31m\xe2\x80\xaeRdr\xc0\xaf'
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --reader-name 0 "$EVIL" --card 0:usb-key --card 1:usb-key
SAFE='Evil\x1b]0;owned\x07\x1b[2J\x9b31m\u{202E}Rdr\xc0\xaf'

# raw_free FILE: valid UTF-8 with no character a terminal acts on (C0 but
# newline, DEL, C1, bidirectional and line controls)
raw_free() {
	python3 -c 'import sys
t = open(sys.argv[1], "rb").read().decode("utf-8")
bad = set("\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
sys.exit(any((ord(c) < 32 and c != "\n") or 0x7f <= ord(c) <= 0x9f or c in bad for c in t))' "$1"
}
# seen PATTERN FILE: wait (5 s at most) until FILE has a line matching
seen() {
	for _ in $(seq 100); do grep -Eq -- "$1" "$2" && return 0; sleep 0.05; done
	return 1
}

check_out "the sandbox reader has the hostile name" 'Evil' vcardctl reader 0

"$P" readers >r.txt 2>&1
check "readers: no raw control bytes" raw_free r.txt
check_out "readers: the name with its escapes shown" "^0: $(printf '%s' "$SAFE" |
	sed 's/[][\\.^$*]/\\&/g') 00 00: card" cat r.txt

"$P" readers --json >r.json
check "readers --json: valid UTF-8" iconv -f UTF-8 -t UTF-8 r.json
check "readers --json: no raw C0 control byte" bash -c "! LC_ALL=C grep -q \$'[\x01-\x09\x0b-\x1f]' r.json"
check_out "readers --json: controls kept as JSON escapes, bad bytes as text" \
	'^"Evil\\u001b\]0;owned\\u0007\\u001b\[2J\\\\x9b31m' \
	jq '.readers[0].name' r.json

"$P" diag -r 0 >d.txt 2>&1
check "diag: no raw control bytes" raw_free d.txt
check_out "diag: the reader name shown escaped" 'name +Evil\\x1b' cat d.txt
"$P" diag -r 0 --json >d.json
check "diag --json: valid UTF-8 JSON" jq -e '.reader.name | startswith("Evil\u001b")' d.json

# An error message naming the reader: slot 1 without its card.
vcardctl stop 1 >/dev/null
"$P" diag -r 1 >e.txt 2>&1
vcardctl start 1 >/dev/null
check "error message: no raw control bytes" raw_free e.txt
check_out "error message: the reader named, escaped" 'Evil\\x1b' cat e.txt

# --watch: a card removed and inserted again.
"$P" readers --watch >w.txt 2>&1 &
wpid=$!
check "readers --watch: the initial snapshot" seen 'reader-added' w.txt
vcardctl stop 0 >/dev/null
check "readers --watch saw the removal" seen 'card-removed +"Evil\\x1b' w.txt
vcardctl start 0 >/dev/null
check "readers --watch saw the insertion" seen 'card-inserted +"Evil\\x1b' w.txt
kill -INT $wpid; wait $wpid 2>/dev/null
check "readers --watch: no raw control bytes" raw_free w.txt

# issue: a job left running on card 1 (pulled once its PIN is set), then
# the same person on card 0: the inspect step's refusal names the job's
# reader and this one, in the progress line and the error line.
tl_station
check "card 1 restarted with the fault" vcardctl restart 1 --fault remove-after=17:300
echo 11223344 | "$P" issue --home "$H" -r 1 --identity "$PV_ROOT/examples/identity.json" \
	--pin-stdin --passphrase-file "$TL_PASS" >i1.txt 2>&1
check_out "issue on card 1: pulled, the job kept" 'job [0-9]+ is kept' cat i1.txt
check "issue: no raw control bytes (card pulled)" raw_free i1.txt
check "card 1 is back" vcardctl ready 1
echo 11223344 | "$P" issue --home "$H" -r 0 --identity "$PV_ROOT/examples/identity.json" \
	--pin-stdin --passphrase-file "$TL_PASS" >i0.txt 2>&1
check_out "issue on card 0: the inspect step names the job's reader, escaped" \
	'^issue: \[ 0/[0-9]+\] inspect +failed .*serial [0-9]+ \(in Evil\\x1b\]0;owned' cat i0.txt
check "issue: no raw control bytes (refusal)" raw_free i0.txt
tl_done
