#!/usr/bin/env bash
# sandbox_basics.sh: tests/sandbox/run itself: exit status, environment,
# several cards and readers, per-card and global vcard options, teardown (no
# process, directory or mount left, Ctrl-C included), two sandboxes at once,
# and a system pcscd running next to it.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none
RUN=$PV_ROOT/tests/sandbox/run

check_out "CMD's exit status comes back" '^7$' bash -c "'$RUN' -- sh -c 'exit 7'; echo \$?"
check_out "a setup failure is 125 and says why" 'vcard in slot 0 exited' \
	bash -c "'$RUN' --card 0:no-such-profile -- true; echo rc=\$?"
check_out "... with status 125" 'rc=125' \
	bash -c "'$RUN' --card 0:no-such-profile -- true 2>/dev/null; echo rc=\$?"

# Four cards, three profiles.
inner() {
	echo "readers=$PV_SANDBOX_READERS"
	echo "r0=$PV_READER_0 r2=$PV_READER_2 r3=$PV_READER_3"
	echo "pids=$PV_VCARD_PIDS"
	vcardctl list
	for s in 0 3; do
		yubico-piv-tool -r "$(vcardctl reader $s)" -a status | sed -n 's/^Serial Number:/serial'$s'/p'
	done
	opensc-tool -r 1 -n; opensc-tool -r 2 -n
}
export -f inner
out=$("$RUN" --card 0:usb-key --card 1:piv-card --card 2:mobile --card 3:usb-key \
	-- bash -c inner 2>&1)
check_out "4 readers" '^readers=4$' echo "$out"
check_out "reader names by slot" '^r0=Virtual PCD 00 00 r2=Virtual PCD 2 00 00 r3=Virtual PCD 2 00 01$' \
	echo "$out"
check_out "PV_VCARD_PIDS lists each slot" '^pids=0:[0-9]+ 1:[0-9]+ 2:[0-9]+ 3:[0-9]+$' echo "$out"
check "every card is present" test "$(grep -c $'\tpresent\t' <<<"$out")" = 4
check_out "the piv-card ATR" 'Virtual PCD 00 01	present	3B9C968131FE4580' echo "$out"
check "two USB keys, two serials" test "$(grep -c '^serial' <<<"$out")" = 2 -a \
	"$(grep '^serial' <<<"$out" | awk '{print $2}' | sort -u | wc -l)" = 2
check_out "OpenSC sees the card and the token" \
	'Personal Identity Verification Card' echo "$out"
check_out "--readers 3 with one card gives 4 readers (pairs)" '^4$' \
	"$RUN" --readers 3 --card 0:piv-card -- sh -c 'echo $PV_SANDBOX_READERS'

# Options for every card (PV_VCARD_ARGS) and for a restart (vcardctl start ARGS).
check_out "PV_VCARD_ARGS reaches every card" '^6303 6303$' env \
	PV_VCARD_ARGS='--quirk pin-sw-630x' "$RUN" --card 0:piv-card --card 1:piv-card -- \
	sh -c 'echo $(vcardctl transmit 0 0020008000) $(vcardctl transmit 1 0020008000)'
check_out "vcardctl start SLOT ARGS changes the options" '^63C3 6303$' \
	"$RUN" --card 0:piv-card -- sh -c 'a=$(vcardctl transmit 0 0020008000);
		vcardctl stop 0 && vcardctl start 0 --quirk pin-sw-630x &&
		echo $a $(vcardctl transmit 0 0020008000)'

# Teardown: nothing of the sandbox is left, after success or failure of CMD.
"$RUN" --card 0:piv-card -- sh -c 'echo "$PV_SANDBOX_DIR" >"$0"; exit 3' "$TL_TMP/dir0"
d=$(cat "$TL_TMP/dir0")
check "failed CMD: the sandbox directory is gone" test ! -e "$d"
check "failed CMD: no process of it is left" test -z "$(pgrep -f "$d")"
"$RUN" --card 0:usb-key -- sh -c 'echo "$PV_SANDBOX_DIR" >"$0"' "$TL_TMP/dir1"
d=$(cat "$TL_TMP/dir1")
check "teardown: the sandbox directory is gone" test ! -e "$d"
check "teardown: no process of it is left" test -z "$(pgrep -f "$d")"
check "teardown: no mount of it is visible" bash -c '! grep -q pv-sandbox /proc/mounts'

# Ctrl-C while CMD runs (SIGINT to the whole process group): 130, and the
# same teardown; SIGTERM to run alone (a timeout): 143.
for sig in INT TERM; do
	rm -f "$TL_TMP/dir2"
	setsid "$RUN" --card 0:usb-key -- sh -c 'echo "$PV_SANDBOX_DIR" >"$0"; sleep 60' \
		"$TL_TMP/dir2" &
	runpid=$!
	for _ in $(seq 400); do [ -s "$TL_TMP/dir2" ] && break; sleep 0.05; done
	d=$(cat "$TL_TMP/dir2")
	if [ $sig = INT ]; then kill -INT -- "-$runpid"; want=130; else kill -TERM "$runpid"; want=143; fi
	wait "$runpid"; rc=$?
	check_out "SIG$sig: exit status $want" "^$want\$" echo "$rc"
	check "SIG$sig: the sandbox directory is gone" test ! -e "$d"
	check "SIG$sig: no process of it is left" test -z "$(pgrep -f "$d")"
done

# Two sandboxes at once, same ports in different network namespaces.
for i in 1 2; do
	"$RUN" --card 0:usb-key -- sh -c 'yubico-piv-tool -r Virtual -a generate -s 9a \
		-A ECCP256 >/dev/null && yubico-piv-tool -r Virtual -a status' \
		>"$TL_TMP/par$i" 2>&1 &
	eval "p$i=\$!"
done
wait "$p1"; r1=$?; wait "$p2"; r2=$?
check "two sandboxes at once both succeed" test $r1 -eq 0 -a $r2 -eq 0
check "... each with its own card" test "$(grep Serial "$TL_TMP/par1")" != \
	"$(grep Serial "$TL_TMP/par2")"

# A system pcscd (outside any sandbox) does not disturb a sandbox, nor is it
# disturbed.  Started here only when none runs; stopped at the end.
sys_pcscd=
if ! [ -S /run/pcscd/pcscd.comm ]; then
	mkdir -p "$TL_TMP/sysconf" /run/pcscd
	pcscd --foreground --config "$TL_TMP/sysconf" >"$TL_TMP/syspcscd.log" 2>&1 &
	sys_pcscd=$!
	tl_on_exit 'kill $sys_pcscd 2>/dev/null'	# also when a check fails
	for _ in $(seq 100); do [ -S /run/pcscd/pcscd.comm ] && break; sleep 0.05; done
fi
lst=$("$RUN" --card 0:usb-key -- vcardctl list 2>&1)
check "with a system pcscd running, the sandbox sees only its 2 readers" \
	test "$(wc -l <<<"$lst")" = 2 -a "$(grep -c '^Virtual PCD 00 0[01]'$'\t' <<<"$lst")" = 2
check_out "... and a client works in it" 'Version:' "$RUN" --card 0:usb-key -- \
	yubico-piv-tool -r Virtual -a status
if [ -n "$sys_pcscd" ]; then
	check "the system pcscd is still running" kill -0 "$sys_pcscd"
	kill "$sys_pcscd"; wait "$sys_pcscd" 2>/dev/null
fi
tl_done
