#!/usr/bin/env bash
# issue_concurrent.sh: several `pivstation issue` runs for the same person
# at once, on several readers, each card answering 10 ms late so that the
# runs overlap (without latency they still raced one time in four).  Claiming
# the person for a job is one store operation backed by a UNIQUE index: one
# run issues its card; every other one is refused before it writes to its
# card, naming the reader that holds the job (when it claims the person,
# exit 1; or, if it got going later, when its inspection finds the person's
# job running with another token, exit 3), and leaves nothing behind (no
# job, no device left "issuing").  Repeated three times with a new person,
# on the cards still blank: four, three, then two runs at once.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox \
	--card 0:usb-key --card-args 0 '--latency apdu=10' \
	--card 1:usb-key --card-args 1 '--latency apdu=10' \
	--card 2:usb-key --card-args 2 '--latency apdu=10' \
	--card 3:usb-key --card-args 3 '--latency apdu=10'
tl_station

ID=$PV_ROOT/examples/identity.json
sql() { sqlite3 "$H/store.db" "$@"; }
# rdr SLOT: the reader name of that slot
rdr() { local v=PV_READER_$1; printf "%s" "${!v:-none}"; }
writes() {
	vcardctl stats "$1" | jq '[.ins | to_entries[] | select(.key | IN("db","47","24","2c","fe","ff","fb"))
		| .value] | add // 0'
}

blank="0 1 2 3"
for round in 1 2 3; do
	pid=000000700$round
	jq --arg p "$pid" '.person_id = $p | .email = "p\($p)@example.gov" | .upn = .email' \
		"$ID" >id$round.json
	declare -A w0=() pids=()
	for s in $blank; do w0[$s]=$(writes "$s"); done
	for s in $blank; do
		(echo 11223344 | exec "$P" issue --home "$H" -r "$(rdr "$s")" \
			--identity id$round.json --pin-stdin --passphrase-file "$TL_PASS" \
			>out$round.$s 2>err$round.$s; echo $? >rc$round.$s) &
		pids[$s]=$!
	done
	for s in $blank; do wait "${pids[$s]}"; done
	won=() lost=()
	for s in $blank; do
		if [ "$(cat rc$round.$s)" = 0 ]; then won+=("$s"); else lost+=("$s"); fi
	done
	check "round $round: exactly one of ${blank// /,} issued (${won[*]:-none})" \
		test "${#won[@]}" = 1
	for s in "${lost[@]}"; do
		# refused when it claims the person (exit 1), or, started
		# later, when it finds the person's job running with another
		# token (exit 3: put that token back)
		check "round $round: card $s refused, exit 1 or 3 (got $(cat rc$round.$s))" \
			grep -qx '[13]' rc$round.$s || cat err$round.$s >&2
		check_out "round $round: card $s: the message names the job and its reader" \
			"issue: (this person already has issue job [0-9]+ running on|job [0-9]+ for this person is issuing the token with serial [0-9]+ \(in) $(rdr "${won[0]:-x}")" \
			cat err$round.$s
		check "round $round: card $s: nothing written to it" \
			test "$(writes "$s")" = "${w0[$s]}"
	done
	check_out "round $round: one job for the person, done" '^1\|done$' sql \
		"select count(*), group_concat(j.state) from jobs j join people p
		 on p.id = j.person_id where p.person_id = '$pid'"
	check_out "round $round: one device for the person, active, four active certificates" \
		'^1\|active\|4$' sql \
		"select count(distinct d.id), group_concat(distinct d.status),
		 (select count(*) from certificates c where c.device_id = d.id and c.status = 'active')
		 from devices d join people p on p.id = d.person_id where p.person_id = '$pid'"
	check_out "round $round: no job running, no device left issuing" '^0\|0$' sql \
		"select (select count(*) from jobs where state = 'running'),
		 (select count(*) from devices where status = 'issuing')"
	# the cards that lost stay blank for the next round
	blank=${lost[*]}
	unset w0 pids
done
check_out "job list shows no running job" '^no running jobs$' "$P" job list --home "$H"
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
