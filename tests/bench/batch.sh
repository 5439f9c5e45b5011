#!/usr/bin/env bash
# tests/bench/batch.sh BUILD: `pivstation batch` throughput on 1, 2, 4 and
# 8 virtual usb-keys with the vcard's `--latency yubikey5` card timing.
# Each run issues PER_READER cards per reader (PV_BENCH_BATCH_PER_READER,
# default 3) from a CSV file into a fresh station; a feeder per reader
# pulls a card the store shows issued and puts a fresh one in, as an
# operator would.  Printed per run: cards, wall time, cards per minute (the
# batch's own figure, first card in to last card done), the ratio to one
# reader, host CPU per card (the batch process, user + system), how many
# 9D keys the pool had ready, and the load average after the run (the
# machine may be shared: the ratio means little when the load exceeds
# the cores).  It
# fails only when a batch does not complete.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
ROOT=$PWD
PER=${PV_BENCH_BATCH_PER_READER:-3}
READERS=${PV_BENCH_BATCH_READERS:-1 2 4 8}

t=$(mktemp -d); echo "bench dir $t" >&2
trap '[ -n "${PV_BENCH_KEEP:-}" ] || rm -rf "$t"' EXIT

one_run() {	# $1: readers
	local n=$1 d=$t/r$1 cards=() s
	mkdir -p "$d"
	for ((s = 0; s < n; s++)); do
		cards+=(--card "$s:usb-key" --card-args "$s" "--latency yubikey5")
	done
	PV_BIN="$ROOT/$B" tests/sandbox/run --readers 8 "${cards[@]}" -- \
	    bash -c '
		set -uo pipefail
		n=$1 per=$2 TL_TMP=$3
		. "$PV_ROOT/tests/integ/lib/batch_lib.sh"
		bl_setup >"$TL_TMP/setup.log" 2>&1 || { cat "$TL_TMP/setup.log" >&2; exit 1; }
		cd "$TL_TMP"
		bl_people $((n * per)) people.csv
		# The feeders poll the store with sqlite3: every 0.3 s, so that
		# eight of them do not eat the CPU the batch is measured on.
		BL_CARD_ARGS="--latency yubikey5" BL_FEED_POLL=0.3
		bl_feeder_start $((n * per)) $(seq 0 $((n - 1)))
		s=$(date +%s%N)
		"$P" batch --home "$BL_HOME" people.csv --readers "$(seq -s, 0 $((n - 1)))" \
		    --json >events.jsonl 2>batch.err
		rc=$?
		e=$(date +%s%N)
		bl_feeder_stop
		[ $rc = 0 ] || { tail -5 batch.err >&2; exit 1; }
		echo $(( (e - s) / 1000000 )) >wall.ms' _ "$n" "$PER" "$d"
	jq -r --arg n "$n" --arg w "$(cat "$d/wall.ms")" \
	    'select(.event == "summary") |
	    "\($n) \(.progress.issued_now) \($w) \(.progress.per_min) \(.cpu_s_per_card // 0) \(.keys_9d_ahead) \(.keys_9d_inline)"' \
	    "$d/events.jsonl"
}

echo "== pivstation batch on N virtual usb-keys, --latency yubikey5 ($PER cards per reader)"
base=
for n in $READERS; do
	read -r rd cards wall rate cpu ahead inline < <(one_run "$n")
	[ -z "$base" ] && base=$rate
	printf '%d reader%s: %3d cards in %6.1f s: %6.1f cards/min, %4.2fx one reader; host CPU %.2f s per card; 9D keys ready ahead %d, made while a card waited %d; load %s\n' \
	    "$rd" "$([ "$rd" = 1 ] && echo ' ' || echo s)" "$cards" \
	    "$(awk -v w="$wall" 'BEGIN { print w / 1000 }')" "$rate" \
	    "$(awk -v r="$rate" -v b="$base" 'BEGIN { print (b > 0 ? r / b : 0) }')" "$cpu" "$ahead" "$inline" \
	    "$(cut -d' ' -f1 /proc/loadavg)"
done
echo "(goal: 8 readers at least 7.5x one reader; the machine has $(nproc) cores)"
