# shellcheck shell=bash disable=SC2034
# tests/integ/lib/batch_lib.sh: helpers for the tests of `pivstation
# batch` (tests/integ/batch_*.sh), the benchmark and the demo.  Source it
# inside tests/sandbox/run after testlib.sh (and tl_workdir).  It is not a
# test itself (mk/check.sh runs tests/integ/*.sh only).
#
#   bl_setup                  a station home ($BL_HOME: init, ca init with
#                             a passphrase from the environment), the KRA
#                             key in the clear for the judges; cards saved
#                             in $BL_CARDS
#   bl_people N FILE [FROM]   a CSV of N people (person_id FROM+1...)
#   bl_feeder_start TOTAL SLOT...  feeds cards in the background, a feeder
#                             per reader: each card the store shows issued
#                             (active) is pulled and kept ($BL_CARDS/
#                             <serial>.state), and a fresh one put in its
#                             reader (vcard options $BL_CARD_ARGS, default
#                             -v), until TOTAL cards were inserted in all
#                             (those in the readers at the start count)
#   bl_feeder_stop
#   bl_wait_json FILE FILTER [S]  wait until jq -s FILTER is true on FILE
#   bl_verify_store N         the store after N rows (of all its batches)
#                             issued once each
#   bl_verify_cards           every card kept, read back with pivstation
#                             diag and yubico-piv-tool: the store's
#                             certificates, CHUID GUID and FASC-N, and the
#                             PIN of the PIN mailer verifies
#   bl_sql SQL                one value per line from the store
#   bl_wait_log SLOT FROM RE  wait until the vcard log of SLOT (with -v),
#                             from line FROM on, has a line matching RE

BL_PASS="batch test passphrase"
P=${PV_BIN:?PV_BIN: the build directory}/pivstation

bl_setup() {
	BL_DIR=${TL_TMP:?tl_workdir first}
	BL_HOME=$BL_DIR/home
	BL_CARDS=$BL_DIR/cards
	mkdir -p "$BL_CARDS"
	export PIVSTATION_OPERATOR=integ PIVSTATION_CA_PASSPHRASE=$BL_PASS
	unset PIVSTATION_HOME PIVSTATION_KRA_PASSPHRASE
	"$P" init --home "$BL_HOME" --admin integ >/dev/null || return 1
	"$P" ca init --home "$BL_HOME" --alg p256 >/dev/null || return 1
	printf '%s\n' "$BL_PASS" >"$BL_DIR/pass"
	openssl pkey -in "$BL_HOME/ca/kra.key" -passin "file:$BL_DIR/pass" \
		-out "$BL_DIR/kra-plain.key" || return 1
}

bl_sql() { sqlite3 -batch -noheader -cmd '.timeout 5000' "$BL_HOME/store.db" "$1"; }

bl_people() {
	local n=$1 f=$2 from=${3:-1000} i
	{
		echo "given_name,middle_name,family_name,person_id,affiliation,email"
		for ((i = 1; i <= n; i++)); do
			printf 'Person%d,Q,"Tester, Jr",%010d,Employee,p%d@example.gov\r\n' \
				"$i" $((from + i)) $((from + i))
		done
	} >"$f"
}

# The serial of a vcard state file (state.c: "PVVC" 01, 80 01 xx, 81 04 ....).
bl_state_serial() {
	local h
	h=$(xxd -s 10 -l 4 -p "$1" 2>/dev/null) || return 1
	[ ${#h} = 8 ] && printf '%u\n' "0x$h"
}

# One reader's feeder: waits until the store shows the card in |slot|
# issued, pulls it (kept), and puts a fresh one in while tickets last
# ($BL_DIR/feed.count, under a lock: all readers share |total|).  It
# looks at the store every $BL_FEED_POLL seconds (default 0.1).
bl_feed_slot() {
	local total=$1 s=$2 st serial k n
	serial=$(bl_state_serial "$(vcardctl state "$s")")
	while [ -n "$serial" ]; do
		until [ "$(bl_sql "SELECT count(*) FROM devices WHERE
		    status = 'active' AND serial = '$serial'" 2>/dev/null)" = 1 ]; do
			sleep "${BL_FEED_POLL:-0.1}"
		done
		st=$(vcardctl state "$s")
		vcardctl stop "$s" >/dev/null 2>&1
		cp "$st" "$BL_CARDS/$serial.state"
		serial=
		n=$(
			exec 9>>"$BL_DIR/feed.lock"
			flock 9
			k=$(cat "$BL_DIR/feed.count")
			[ "$k" -lt "$total" ] && echo $((k + 1)) >"$BL_DIR/feed.count" &&
				echo $((k + 1))
		)
		[ -n "$n" ] || break
		vcardctl insert "$s" "$BL_DIR/fresh-$n.state" ${BL_CARD_ARGS:--v} \
			>/dev/null 2>&1 || { echo "feeder: insert $s failed" >&2; break; }
		serial=$(bl_state_serial "$BL_DIR/fresh-$n.state")
	done
}

bl_feeder_start() {
	local total=$1 s; shift
	echo "$#" >"$BL_DIR/feed.count"
	BL_FEEDER=()
	for s in "$@"; do
		bl_feed_slot "$total" "$s" &
		BL_FEEDER+=($!)
	done
}

bl_feeder_stop() {
	local p
	for p in ${BL_FEEDER[@]+"${BL_FEEDER[@]}"}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	BL_FEEDER=()
	return 0	# killed feeders are no failure (set -e callers)
}

# bl_wait_json FILE FILTER [SECONDS]: until jq -s FILTER is true on FILE.
bl_wait_json() {
	local f=$1 q=$2 t=${3:-60} n=0
	until [ "$(jq -s "$q" "$f" 2>/dev/null)" = true ]; do
		n=$((n + 1))
		[ $n -gt $((t * 10)) ] && return 1
		sleep 0.1
	done
}

bl_fail() { printf '%s\n' "$*" >&2; return 1; }

bl_wait_log() {
	local s=$1 from=$2 re=$3 n=0
	while ! tail -n "+$from" "$PV_SANDBOX_DIR/card$s.log" 2>/dev/null |
	    grep -Eq -- "$re"; do
		n=$((n + 1))
		[ $n -gt 600 ] && return 1	# 60 s
		sleep 0.1
	done
}

bl_log_lines() { wc -l <"$PV_SANDBOX_DIR/card$1.log" 2>/dev/null || echo 0; }

# The store after |n| rows issued exactly once.
bl_verify_store() {
	local n=$1 v want
	v=$(bl_sql "SELECT
	  'rows=' || (SELECT count(*) || '/' || total(state = 'done') FROM batch_rows) ||
	  ' batches-open=' || (SELECT count(*) FROM batches WHERE state <> 'done') ||
	  ' jobs=' || (SELECT count(*) || '/' || total(state = 'done') FROM jobs
	    WHERE kind = 'issue' AND id IN (SELECT job_id FROM batch_rows)) ||
	  ' running=' || (SELECT count(*) FROM jobs WHERE state = 'running') ||
	  ' people=' || (SELECT count(*) FROM people) ||
	  ' active=' || (SELECT count(*) FROM devices WHERE status = 'active') ||
	  ' per-person=' || (SELECT coalesce(max(c), 0) FROM (SELECT count(*) AS c
	    FROM devices WHERE status = 'active' GROUP BY person_id)) ||
	  ' row-person=' || (SELECT count(*) FROM batch_rows r JOIN jobs j ON
	    j.id = r.job_id JOIN people p ON p.id = j.person_id AND
	    p.person_id = r.person_id JOIN devices d ON d.id = j.device_id AND
	    d.status = 'active') ||
	  ' certs=' || (SELECT count(*) FROM certificates WHERE status = 'active') ||
	  ' esc9d=' || (SELECT count(*) FROM escrow e JOIN certificates c ON
	    c.device_id = e.device_id AND c.slot = 157 AND c.status = 'active'
	    AND c.spki_sha256 = e.fingerprint WHERE e.kind = '9d-key' AND
	    e.current = 1)")
	want="rows=$n/$n.0 batches-open=0 jobs=$n/$n.0 running=0 people=$n active=$n per-person=1 row-person=$n certs=$((4 * n)) esc9d=$n"
	[ "$v" = "$want" ] || bl_fail "store: $v
  want: $want" || return 1
	"$P" audit verify --home "$BL_HOME" >"$BL_DIR/audit.out" 2>&1 ||
		bl_fail "audit verify: $(cat "$BL_DIR/audit.out")"
}

# Every kept card read back by pivstation diag and yubico-piv-tool.
bl_verify_cards() {
	local f serial dev guid fascn pin slot sha fp rd bad=0 n=0 w
	w=$BL_DIR/verify
	mkdir -p "$w"
	rd=$(vcardctl reader 0)
	for f in "$BL_CARDS"/*.state; do
		serial=$(basename "$f" .state)
		n=$((n + 1))
		vcardctl insert 0 "$f" -v >/dev/null 2>&1 ||
			{ bl_fail "card $serial: cannot insert"; bad=1; continue; }
		dev=$(bl_sql "SELECT id FROM devices WHERE serial = '$serial' AND status = 'active'")
		[ -n "$dev" ] || { bl_fail "card $serial: no active device in the store"; bad=1; continue; }
		guid=$(bl_sql "SELECT lower(hex(guid)) FROM devices WHERE id = $dev")
		"$P" diag -r 0 --json >"$w/diag.json" 2>"$w/diag.err" ||
			{ bl_fail "card $serial: diag: $(tail -2 "$w/diag.err")"; bad=1; continue; }
		[ "$(jq -r '.chuid.guid // empty' "$w/diag.json" | tr -d '-' | tr 'A-F' 'a-f')" = "$guid" ] ||
			{ bl_fail "card $serial: diag CHUID GUID is not device $dev's ($guid)"; bad=1; }
		[ "$(jq -r '.chuid.signature_valid' "$w/diag.json")" = true ] ||
			{ bl_fail "card $serial: diag: the CHUID signature does not verify"; bad=1; }
		if [ -n "${BL_RESULTS:-}" ]; then
			fascn=$(awk -F, -v s="$serial" 'NR > 1 && $(NF-8) == s { print $(NF-6) }' "$BL_RESULTS")
			[ -n "$fascn" ] && [ "$(jq -r '.chuid.fasc_n' "$w/diag.json")" = "$fascn" ] ||
				{ bl_fail "card $serial: the CHUID FASC-N is not the results file's ($fascn)"; bad=1; }
		fi
		yubico-piv-tool -r "$rd" -a status >"$w/status" 2>&1 ||
			{ bl_fail "card $serial: yubico-piv-tool status failed"; bad=1; continue; }
		for slot in 9a 9c 9d 9e; do
			bl_sql "SELECT pem FROM certificates WHERE device_id = $dev AND status = 'active' AND slot = $((16#$slot))" >"$w/c.pem"
			sha=$(openssl x509 -in "$w/c.pem" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
			fp=$(sed -n "/^Slot $slot:/,/^Slot\|^PIN/p" "$w/status" |
				sed -nE 's/^\s*Fingerprint:\s*([0-9a-f]+).*/\1/p')
			[ -n "$fp" ] && [ "$fp" = "$sha" ] ||
				{ bl_fail "card $serial: slot $slot is not the store's active certificate"; bad=1; }
		done
		pin=$(awk -F, -v s="$serial" 'NR > 1 && $(NF-3) == s { p = $NF } END { print p }' \
			"${BL_MAILER:-/dev/null}")
		if [ -n "${BL_MAILER:-}" ]; then
			[ -n "$pin" ] || { bl_fail "card $serial: no PIN in the PIN mailer"; bad=1; continue; }
			yubico-piv-tool -r "$rd" -a verify-pin -P "$pin" >"$w/pin" 2>&1 ||
				{ bl_fail "card $serial: the mailer's PIN does not verify: $(tail -1 "$w/pin")"; bad=1; }
		fi
	done
	[ "$n" -gt 0 ] || bl_fail "no card was kept" || return 1
	return $bad
}
