#!/usr/bin/env bash
# pcsc_readers.sh: `pivstation readers [--json]`, `atr` and reader choice
# by index, name part, serial:N and guid:HEX; exit codes when there is no
# such reader or no pcscd.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --readers 4 \
	--card 0:usb-key --card-args 0 '--serial 7001' \
	--card 2:piv-card
set -e
R0=$(vcardctl reader 0); R2=$(vcardctl reader 2)

# The list, as JSON: every reader, cards where they are, ATR as pcscd has it.
"$P" readers --json > "$TL_TMP/r.json"
check_eq "reader count" "$(jq '.readers | length' "$TL_TMP/r.json")" "$PV_SANDBOX_READERS"
while IFS=$'\t' read -r name state atr; do
	q=".readers[] | select(.name == \"$name\")"
	if [ "$state" = present ]; then
		check_eq "$name has a card" "$(jq -r "$q.card" "$TL_TMP/r.json")" true
		check_eq "$name ATR" "$(jq -r "$q.atr" "$TL_TMP/r.json" | tr -d ' ')" "$atr"
	else
		check_eq "$name is empty" "$(jq -r "$q.card" "$TL_TMP/r.json")" false
	fi
done < <(vcardctl list)
check_eq "usb-key identified" "$(jq -r ".readers[] | select(.name == \"$R0\") | .card_type" "$TL_TMP/r.json")" \
    "Yubico YubiKey 5 NFC (PKI)"
check_eq "indexes" "$(jq -c '[.readers[].index]' "$TL_TMP/r.json")" "[0,1,2,3]"
# The text form lists the same readers.
"$P" readers > "$TL_TMP/r.txt"
grep -q "^0: $R0: card .*ATR 3B FD 13" "$TL_TMP/r.txt" || tl_fail "text list: $(cat "$TL_TMP/r.txt")"
grep -q "^1: .*: no card" "$TL_TMP/r.txt" || tl_fail "text list: $(cat "$TL_TMP/r.txt")"

# atr: the decode of the card's ATR, from the command line.
atr=$(jq -r ".readers[] | select(.name == \"$R2\") | .atr" "$TL_TMP/r.json")
"$P" atr --json $atr > "$TL_TMP/a.json"
check_eq "atr valid" "$(jq -r .valid "$TL_TMP/a.json")" true
check_eq "atr protocols" "$(jq -c .protocols "$TL_TMP/a.json")" "[1]"
check_eq "atr TCK" "$(jq -r .tck_ok "$TL_TMP/a.json")" true
"$P" atr 3BFD1300008131FE158073C021C057597562694B657940 > "$TL_TMP/a.txt"
grep -q "extended Lc/Le yes" "$TL_TMP/a.txt" || tl_fail "atr text lacks the capabilities"
rc=0; "$P" atr 3B FD 1 2> "$TL_TMP/e.txt" || rc=$?
check_eq "atr bad hex exit" "$rc" 6
rc=0; "$P" atr 3A 00 > /dev/null || rc=$?
check_eq "atr bad TS exit" "$rc" 6

# Reader choice: index, name part, serial:, guid:.
pick() { "$P" diag "$@" --json | jq -r .reader.name; }
check_eq "-r 2" "$(pick -r 2)" "$R2"
check_eq "-r name part" "$(pick -r "PCD 2 00 00")" "$R2"
check_eq "-r serial:7001" "$(pick -r serial:7001)" "$R0"
yubico-piv-tool -r "$R2" -a set-chuid >/dev/null 2>&1
guid=$("$P" diag -r 2 --json | jq -r .chuid.guid)
check_eq "-r guid:$guid" "$(pick -r "guid:$guid")" "$R2"
check_eq "-r GUID without dashes" "$(pick -r "guid:${guid//-/}")" "$R2"
rc=0; "$P" diag -r serial:7002 > /dev/null 2> "$TL_TMP/e.txt" || rc=$?
check_eq "unknown serial exit" "$rc" 3
grep -q "no card present has serial" "$TL_TMP/e.txt" || tl_fail "$(cat "$TL_TMP/e.txt")"
rc=0; "$P" diag -r 9 > /dev/null 2> "$TL_TMP/e.txt" || rc=$?
check_eq "index out of range exit" "$rc" 3
grep -q "only 4 readers" "$TL_TMP/e.txt" || tl_fail "$(cat "$TL_TMP/e.txt")"
rc=0; "$P" diag -r 1 > /dev/null 2> "$TL_TMP/e.txt" || rc=$?
check_eq "empty reader exit" "$rc" 3
rc=0; "$P" diag > /dev/null 2> "$TL_TMP/e.txt" || rc=$?
check_eq "two cards, no -r: exit" "$rc" 6
grep -q "choose one with -r" "$TL_TMP/e.txt" || tl_fail "$(cat "$TL_TMP/e.txt")"
rc=0; "$P" diag -r serial:x > /dev/null 2>&1 || rc=$?
check_eq "bad serial spec exit" "$rc" 6

# No pcscd: a clear message and exit 3, after the bounded back-off.
vcardctl pcscd-stop
rc=0; "$P" readers 2> "$TL_TMP/e.txt" || rc=$?
check_eq "no pcscd exit" "$rc" 3
grep -q "pcscd) is not running" "$TL_TMP/e.txt" || tl_fail "$(cat "$TL_TMP/e.txt")"
vcardctl pcscd-start
"$P" readers --json | jq -e '.readers | length == 4' > /dev/null || tl_fail "after pcscd restart"
tl_done
