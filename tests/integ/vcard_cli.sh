#!/usr/bin/env bash
# vcard_cli.sh: pivstation-vcard as a program, against a scripted vpcd peer
# (tests/sandbox/fake_vpcd.py) instead of pcscd, so every byte on the link
# is seen: the option synopsis and its refusals, vpcd framing (ATR, power,
# APDUs), --serial, the state file (created 0600, locked, kept across runs),
# -v logging without command data, SIGUSR1 and exit-time --stats, a clean
# SIGTERM exit, and reconnecting when the peer goes away.
# Runs in a sandbox with no card only for its private network namespace.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox

V=$PV_BIN/pivstation-vcard
PEER=$PV_ROOT/tests/sandbox/fake_vpcd.py
PORT=41000

# --- the synopsis ------------------------------------------------------------
for o in --port --profile --state --serial --quirk --fault --latency --stats; do
	check_out "--help names $o" "\\$o" "$V" --help
done
check_out "--help lists the three profiles" 'usb-key.*piv-card|piv-card.*usb-key' "$V" --help
check_out "--help lists the quirks" 'no-extended, get-response-255, select-needs-full-aid' \
	"$V" --help
usage_rc() { "$V" "$@" >/dev/null 2>&1; echo "rc=$?"; }
check_out "no --state: usage, exit 2" '^rc=2$' usage_rc --port 1 --profile usb-key
check_out "port 0: usage, exit 2" '^rc=2$' usage_rc --port 0 --profile usb-key --state s
check_fails_out "unknown profile is named" 'unknown profile "yubikey"' \
	"$V" --port 1 --profile yubikey --state s
check_fails_out "unknown quirk is named" 'unknown quirk "fast"' \
	"$V" --port 1 --profile usb-key --state s --quirk fast
check_fails_out "bad fault is refused" 'remove-after' \
	"$V" --port 1 --profile usb-key --state s --fault remove-after=x
check_fails_out "unknown latency model is refused" 'latency' \
	"$V" --port 1 --profile usb-key --state s --latency yubikey9
check "nothing was created by the refusals" test ! -e s

# --- one session through the fake vpcd ---------------------------------------------
SEL=00A4040005A000000308
PIN=0020008008313233343536FFFF
start_peer() {	# start_peer OUT SCRIPT...: a peer on $PORT, ready when it listens
	rm -f "$1.ready"
	python3 "$PEER" "$PORT" "$1.ready" "${@:2}" >"$1" 2>&1 &
	PEER_PID=$!
	for _ in $(seq 200); do [ -e "$1.ready" ] && return 0; sleep 0.02; done
	return 1
}
start_peer s1.out 'atr' 'on' "apdu $SEL" "apdu $PIN" 'apdu 0020008000' \
	'apdu 00F8000000' 'apdu 00FD000000' 'close' \
	'atr' "apdu $SEL" 'apdu 0020008000' 'apdu 00FD000000' 'wait'
check "the fake vpcd listens" test -e s1.out.ready
"$V" --port $PORT --profile usb-key --state card.pv --serial 12345678 \
	--stats st.json -v 2>vc.log &
VC=$!
check "the peer saw two sessions" bash -c "for _ in \$(seq 300); do
	grep -q '^session 2 done' s1.out && exit 0; sleep 0.02; done; cat s1.out; exit 1"
out=$(cat s1.out)
check_out "ATR: the YubiKey 5 ATR" '^atr 3BFD1300008131FE158073C021C057597562694B657940$' echo "$out"
check_out "power on has no reply" '^on -$' echo "$out"
check_out "SELECT answers the YubiKey APT" "^apdu $SEL 61114F0600001000010079074F05A0000003089000\$" \
	echo "$out"
check_out "VERIFY with the default PIN" "^apdu $PIN 9000\$" echo "$out"
check_out "the PIN status is verified" '^apdu 0020008000 9000$' echo "$out"
check_out "GET SERIAL is --serial 12345678 (00BC614E)" '^apdu 00F8000000 00BC614E9000$' echo "$out"
check_out "GET VERSION 5.4.3" '^apdu 00FD000000 0504039000$' echo "$out"
check_out "a new connection is a fresh insertion: PIN status lost" \
	'^apdu 0020008000 63C3$' echo "$out"
check_out "the vcard reconnected after the peer closed" 'vpcd closed the connection' cat vc.log
check_out "the state file is created 0600" '^600$' stat -c %a card.pv
check_fails_out "a second vcard on the same state file is refused" 'in use by another vcard' \
	"$V" --port $PORT --profile usb-key --state card.pv

# -v: header and status word, never the data (the PIN)
check_out "-v logs each APDU header, SW and lengths" \
	'> 00 20 00 80 \(13 bytes\) < 9000 \(2 bytes\)' cat vc.log
check_out "-v logs a data answer" '> 00 fd 00 00 \(5 bytes\) < 9000 \(5 bytes\)' cat vc.log
check_fails "-v never shows the PIN" grep -qi '313233343536\|31 32 33 34 35 36' vc.log

# stats: on SIGUSR1 while running, and at exit after SIGTERM
kill -USR1 $VC
check "SIGUSR1 writes the statistics" bash -c \
	'for _ in $(seq 200); do [ -s st.json ] && exit 0; sleep 0.02; done; exit 1'
check_out "... 8 APDUs in 2 connections" '"apdus":8,.*"connections":2' cat st.json
check_out "... per-INS counts" '"20":3' cat st.json
rm -f st.json
kill -TERM $VC; wait $VC; rc=$?
check_out "SIGTERM: clean exit, status 0" '^0$' echo $rc
check_out "SIGTERM: statistics written at exit" '"apdus":8' cat st.json
check "no temporary file left" test -z "$(find . -name '*.tmp.*')"
kill $PEER_PID 2>/dev/null; wait $PEER_PID 2>/dev/null

# --- the same state file again: same card ------------------------------------------
start_peer s2.out 'atr' "apdu $SEL" 'apdu 00F8000000' 'close' 'wait'
check "the fake vpcd listens again" test -e s2.out.ready
"$V" --port $PORT --profile usb-key --state card.pv --serial 999 2>vc2.log &
VC=$!
check "the peer saw the session" bash -c "for _ in \$(seq 300); do
	grep -q '^session 1 done' s2.out && exit 0; sleep 0.02; done; cat s2.out; exit 1"
check_out "the serial stays 12345678" '^apdu 00F8000000 00BC614E9000$' cat s2.out
check_out "... and the vcard says it kept it" "keeping the card's serial 12345678" cat vc2.log
kill -TERM $VC; wait $VC
kill $PEER_PID 2>/dev/null; wait $PEER_PID 2>/dev/null
check_fails_out "another profile on the same file is refused" 'holds a usb-key' \
	"$V" --port $PORT --profile piv-card --state card.pv
tl_done
