# tests/sandbox/console_lib.sh: driving `pivstation console` in tmux from an
# integration test (inside tests/sandbox/run), and the station the console
# tests share.  Source it after testlib.sh and tl_workdir:
#
#   cl_station              home $H with a CA (passphrase file $TL_TMP/pass,
#                           KRA the same), P-256 keys on every slot, an
#                           operator card in slot 0 (olivia, administrator,
#                           PIN $OP_PIN) and the station CRL
#   cl_issue SLOT JSON PIN  issue a card with the CLI (--pin-stdin)
#   cl_start COLS ROWS      a tmux server with one pane running bash, LANG
#                           UTF-8, in $TL_TMP
#   cl_console [ARGS]       types the console's command line into the pane
#                           (PID in console.pid, `stty -a` before and
#                           after it in stty.before and stty.after;
#                           $CL_ENV, e.g. "env NO_COLOR=1", goes before it)
#   cl_keys KEY...          tmux send-keys (names: Enter, Escape, F1, Tab...)
#   cl_type TEXT            literal text (send-keys -l)
#   cl_screen               the pane's text now
#   cl_clear                clears the pane (between two consoles)
#   cl_wait DESC PATTERN [SECONDS]  a check that waits until the pane shows
#                           PATTERN (grep -E); fails with the screen after
#                           SECONDS (default 60): no timing is asserted
#   cl_gone DESC PATTERN [SECONDS]  ... until the pane no longer shows it
#   cl_cycle DESC PATTERN KEY [MAX]  presses KEY until PATTERN shows
#   cl_resize COLS ROWS     resizes the pane's window
#   cl_shot TITLE           prints the screen, framed (for make demo)
#   cl_stop                 kills the tmux server
# Assertions are on the text the screen shows, not on its layout.

P=${P:-$PV_BIN/pivstation}
H=${H:-$TL_TMP/home}
OP_PIN=${OP_PIN:-97531864}
CL_SOCK=$TL_TMP/tmux.sock

cl_tmux() { tmux -S "$CL_SOCK" "$@"; }

cl_issue() {
	local slot=$1 json=$2 pin=$3
	echo "$pin" | "$P" issue --home "$H" -r "$slot" --identity "$json" \
		--pin-stdin --passphrase-file "$TL_TMP/pass"
}

cl_station() {
	printf 'console test ca passphrase\n' >"$TL_TMP/pass"
	chmod 600 "$TL_TMP/pass"
	"$P" init --home "$H" >/dev/null || return 1
	# P-256 everywhere: the console is under test, not RSA key generation.
	sed -i -e 's/^slot_9c = rsa2048/slot_9c = eccp256/' \
		-e 's/^slot_9d = rsa2048/slot_9d = eccp256/' \
		-e 's/^fetch = yes/fetch = no/' "$H/pivstation.conf"
	"$P" ca init --home "$H" --passphrase-file "$TL_TMP/pass" \
		--kra-passphrase-file "$TL_TMP/pass" >/dev/null || return 1
	jq -n '{given_name: "Olivia", family_name: "Operator",
		person_id: "0000000001", affiliation: "Employee",
		email: "olivia@example.gov"}' >"$TL_TMP/olivia.json"
	cl_issue 0 "$TL_TMP/olivia.json" "$OP_PIN" >/dev/null 2>&1 || return 1
	"$P" ca crl --home "$H" --passphrase-file "$TL_TMP/pass" >/dev/null ||
		return 1
	"$P" operator add olivia --role administrator --home "$H" -r 0 >/dev/null
}

cl_start() {
	local cols=$1 rows=$2
	cl_tmux -f /dev/null new-session -d -s pv -x "$cols" -y "$rows" \
		"env -i PATH='$PATH' HOME='$TL_TMP' LANG=C.UTF-8 TERM=screen-256color \
		ASAN_OPTIONS='${ASAN_OPTIONS:-}' UBSAN_OPTIONS='${UBSAN_OPTIONS:-}' \
		PV_BIN='$PV_BIN' HISTFILE=/dev/null bash --norc --noprofile -i" || return 1
	cl_tmux set-option -t pv status off >/dev/null
	cl_tmux set-option -t pv -g window-size manual >/dev/null 2>&1
	# The prompt shows when bash is ready for keys.
	cl_tmux send-keys -t pv "cd '$TL_TMP'; PS1='sh\$ '; clear" Enter
	sleep 0.3
}

# The console runs as the pane's foreground job, its PID in console.pid,
# the terminal's settings in stty.before and stty.after around it.
cl_console() {
	cl_tmux send-keys -t pv -l "stty -a >stty.before; ${CL_ENV:-} sh -c 'echo \$\$ \
>console.pid; exec \"\$@\"' sh '$P' console --home '$H' --passphrase-file \
'$TL_TMP/pass' --kra-passphrase-file '$TL_TMP/pass' $*; echo \"console-exit=\$?\"; \
stty -a >stty.after"
	cl_tmux send-keys -t pv Enter
}

cl_keys() { cl_tmux send-keys -t pv "$@"; }
# cl_clear: an empty pane (between two runs of the console).
cl_clear() { cl_tmux send-keys -t pv "clear" Enter; sleep 0.3; cl_tmux clear-history -t pv; }
cl_type() { cl_tmux send-keys -t pv -l "$1"; }
cl_screen() { cl_tmux capture-pane -p -t pv; }

cl_wait() {
	local desc=$1 pat=$2 secs=${3:-60} i
	TL_CHECKS=$((TL_CHECKS + 1))
	for ((i = 0; i < secs * 5; i++)); do
		if cl_screen | grep -Eq -- "$pat"; then
			tl_log "ok - $desc"
			return 0
		fi
		sleep 0.2
	done
	tl_log "not ok - $desc (the screen never showed /$pat/)"
	cl_screen | sed 's/^/  | /' >&2
	TL_FAILS=$((TL_FAILS + 1))
	return 1
}

cl_gone() {
	local desc=$1 pat=$2 secs=${3:-60} i
	TL_CHECKS=$((TL_CHECKS + 1))
	for ((i = 0; i < secs * 5; i++)); do
		if ! cl_screen | grep -Eq -- "$pat"; then
			tl_log "ok - $desc"
			return 0
		fi
		sleep 0.2
	done
	tl_log "not ok - $desc (the screen still shows /$pat/)"
	cl_screen | sed 's/^/  | /' >&2
	TL_FAILS=$((TL_FAILS + 1))
	return 1
}

# cl_cycle DESC PATTERN KEY [MAX]: presses KEY until the pane shows PATTERN,
# at most MAX (default 8) times; a check.
cl_cycle() {
	local desc=$1 pat=$2 key=$3 max=${4:-8} i
	TL_CHECKS=$((TL_CHECKS + 1))
	for ((i = 0; i <= max; i++)); do
		sleep 0.3
		if cl_screen | grep -Eq -- "$pat"; then
			tl_log "ok - $desc"
			return 0
		fi
		cl_keys "$key"
	done
	tl_log "not ok - $desc (/$pat/ never showed after $max x $key)"
	cl_screen | sed 's/^/  | /' >&2
	TL_FAILS=$((TL_FAILS + 1))
	return 1
}

cl_resize() { cl_tmux resize-window -t pv -x "$1" -y "$2"; }

cl_shot() {
	local w
	w=$(cl_tmux display -p -t pv '#{pane_width}')
	printf '\n--- %s (%sx%s) ---\n' "$1" "$w" "$(cl_tmux display -p -t pv '#{pane_height}')"
	cl_screen
}

cl_stop() {
	local i
	cl_tmux kill-server >/dev/null 2>&1
	for ((i = 0; i < 50; i++)); do
		cl_tmux has-session -t pv >/dev/null 2>&1 || break
		sleep 0.1
	done
	rm -f "$CL_SOCK"
}
