#!/usr/bin/env bash
# pcsc_readers.sh: `pivstation readers [--json]`, `atr` and reader choice
# by index, name part, serial:N and guid:HEX; exit codes when there is no
# such reader or no pcscd.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PV_BIN=${PV_BIN:-$PWD/build}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec tests/sandbox/run --readers 4 \
	    --card 0:usb-key --card-args 0 '--serial 7001' \
	    --card 2:piv-card -- bash "$0" "$@"
fi
PV=$PV_BIN/pivstation
T=$(mktemp -d)
fail() { echo "FAIL: $*" >&2; exit 1; }
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; echo "ok: $1"; }
R0=$(vcardctl reader 0); R2=$(vcardctl reader 2)

# The list, as JSON: every reader, cards where they are, ATR as pcscd has it.
"$PV" readers --json > "$T/r.json"
eq "reader count" "$(jq '.readers | length' "$T/r.json")" "$PV_SANDBOX_READERS"
while IFS=$'\t' read -r name state atr; do
	q=".readers[] | select(.name == \"$name\")"
	if [ "$state" = present ]; then
		eq "$name has a card" "$(jq -r "$q.card" "$T/r.json")" true
		eq "$name ATR" "$(jq -r "$q.atr" "$T/r.json" | tr -d ' ')" "$atr"
	else
		eq "$name is empty" "$(jq -r "$q.card" "$T/r.json")" false
	fi
done < <(vcardctl list)
eq "usb-key identified" "$(jq -r ".readers[] | select(.name == \"$R0\") | .card_type" "$T/r.json")" \
    "Yubico YubiKey 5 NFC (PKI)"
eq "indexes" "$(jq -c '[.readers[].index]' "$T/r.json")" "[0,1,2,3]"
# The text form lists the same readers.
"$PV" readers > "$T/r.txt"
grep -q "^0: $R0: card .*ATR 3B FD 13" "$T/r.txt" || fail "text list: $(cat "$T/r.txt")"
grep -q "^1: .*: no card" "$T/r.txt" || fail "text list: $(cat "$T/r.txt")"

# atr: the decode of the card's ATR, from the command line.
atr=$(jq -r ".readers[] | select(.name == \"$R2\") | .atr" "$T/r.json")
"$PV" atr --json $atr > "$T/a.json"
eq "atr valid" "$(jq -r .valid "$T/a.json")" true
eq "atr protocols" "$(jq -c .protocols "$T/a.json")" "[1]"
eq "atr TCK" "$(jq -r .tck_ok "$T/a.json")" true
"$PV" atr 3BFD1300008131FE158073C021C057597562694B657940 > "$T/a.txt"
grep -q "extended Lc/Le yes" "$T/a.txt" || fail "atr text lacks the capabilities"
rc=0; "$PV" atr 3B FD 1 2> "$T/e.txt" || rc=$?
eq "atr bad hex exit" "$rc" 6
rc=0; "$PV" atr 3A 00 > /dev/null || rc=$?
eq "atr bad TS exit" "$rc" 6

# Reader choice: index, name part, serial:, guid:.
pick() { "$PV" diag "$@" --json | jq -r .reader.name; }
eq "-r 2" "$(pick -r 2)" "$R2"
eq "-r name part" "$(pick -r "PCD 2 00 00")" "$R2"
eq "-r serial:7001" "$(pick -r serial:7001)" "$R0"
yubico-piv-tool -r "$R2" -a set-chuid >/dev/null 2>&1
guid=$("$PV" diag -r 2 --json | jq -r .chuid.guid)
eq "-r guid:$guid" "$(pick -r "guid:$guid")" "$R2"
eq "-r GUID without dashes" "$(pick -r "guid:${guid//-/}")" "$R2"
rc=0; "$PV" diag -r serial:7002 > /dev/null 2> "$T/e.txt" || rc=$?
eq "unknown serial exit" "$rc" 3
grep -q "no card present has serial" "$T/e.txt" || fail "$(cat "$T/e.txt")"
rc=0; "$PV" diag -r 9 > /dev/null 2> "$T/e.txt" || rc=$?
eq "index out of range exit" "$rc" 3
grep -q "only 4 readers" "$T/e.txt" || fail "$(cat "$T/e.txt")"
rc=0; "$PV" diag -r 1 > /dev/null 2> "$T/e.txt" || rc=$?
eq "empty reader exit" "$rc" 3
rc=0; "$PV" diag > /dev/null 2> "$T/e.txt" || rc=$?
eq "two cards, no -r: exit" "$rc" 6
grep -q "choose one with -r" "$T/e.txt" || fail "$(cat "$T/e.txt")"
rc=0; "$PV" diag -r serial:x > /dev/null 2>&1 || rc=$?
eq "bad serial spec exit" "$rc" 6

# No pcscd: a clear message and exit 3, after the bounded back-off.
vcardctl pcscd-stop
rc=0; "$PV" readers 2> "$T/e.txt" || rc=$?
eq "no pcscd exit" "$rc" 3
grep -q "pcscd) is not running" "$T/e.txt" || fail "$(cat "$T/e.txt")"
vcardctl pcscd-start
"$PV" readers --json | jq -e '.readers | length == 4' > /dev/null || fail "after pcscd restart"
echo "pcsc_readers: all checks passed"
