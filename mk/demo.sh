#!/usr/bin/env bash
# demo.sh BUILD: the main job, end to end, against virtual cards.
# Each step that exists is run; later issues extend this script.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "pivstation --version"
"$B/pivstation" --version

step "pivstation decode examples/conversation-yubikey-status.txt (a recorded card conversation, PIN redacted)"
"$B/pivstation" decode examples/conversation-yubikey-status.txt

step "pivstation readers, atr and diag on virtual cards (usb-key and piv-card, in a private pcscd)"
PV_BIN="$B" tests/sandbox/run --card 0:usb-key --card 1:piv-card -- bash -c '
	set -e
	P=$PV_BIN/pivstation
	# Give the key something to show: CHUID, CCC, a key and a certificate.
	R=$(vcardctl reader 0); t=$(mktemp -d); trap "rm -rf $t" EXIT
	yubico-piv-tool -r "$R" -a set-chuid -a set-ccc >/dev/null 2>&1
	yubico-piv-tool -r "$R" -a generate -s 9a -A ECCP256 -o "$t/pub.pem" >/dev/null 2>&1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$t/ca.key" -out "$t/ca.pem" -subj "/CN=Demo CA" -days 30 2>/dev/null
	openssl x509 -new -subj "/CN=Demo Cardholder" -CA "$t/ca.pem" -CAkey "$t/ca.key" \
	    -force_pubkey "$t/pub.pem" -days 30 -out "$t/c.pem" 2>/dev/null
	yubico-piv-tool -r "$R" -a import-certificate -s 9a -i "$t/c.pem" >/dev/null 2>&1
	echo "\$ pivstation readers"; "$P" readers
	echo; echo "\$ pivstation atr $(vcardctl list | sed -n 2p | cut -f3)"
	"$P" atr "$(vcardctl list | sed -n 2p | cut -f3)"
	echo; echo "\$ pivstation diag -r 0 --stats --latency 20"
	"$P" diag -r 0 --stats --latency 20
	echo; echo "\$ pivstation diag -r 1 --json --stats | jq .piv"
	"$P" diag -r 1 --json --stats | jq .piv'

step "pivstation issue: a primary PIV credential onto a virtual usb-key (station, CA, issue, diag)"
PV_BIN="$B" tests/sandbox/run --card 0:usb-key -- bash -c '
	set -e
	P=$PV_BIN/pivstation; t=$(mktemp -d); trap "rm -rf $t" EXIT
	H=$t/home
	(umask 077; printf "demo ca passphrase\n" >"$t/pass")	# scripts need no terminal
	echo "\$ pivstation init --home \$H"; "$P" init --home "$H"
	echo; echo "\$ pivstation ca init --home \$H --passphrase-file pass --kra-passphrase-file pass"
	"$P" ca init --home "$H" --passphrase-file "$t/pass" --kra-passphrase-file "$t/pass"
	echo; echo "\$ echo PIN | pivstation issue --home \$H -r 0 --identity examples/identity.json --pin-stdin --passphrase-file pass --stats"
	echo 24681357 | "$P" issue --home "$H" -r 0 --identity "$PV_ROOT/examples/identity.json" \
	    --pin-stdin --passphrase-file "$t/pass" --stats
	echo; echo "\$ pivstation diag -r 0"
	"$P" diag -r 0'

step "pivstation issue --pin-pad: a plain PIV card in a PIN-pad reader; the cardholder types the PIN on the pad"
PV_BIN="$B" tests/sandbox/run --pinpad --card 0:piv-card -- bash -c '
	set -e
	P=$PV_BIN/pivstation; t=$(mktemp -d); trap "rm -rf $t" EXIT
	H=$t/home
	(umask 077; printf "demo ca passphrase\n" >"$t/pass")
	"$P" init --home "$H" >/dev/null
	"$P" ca init --home "$H" --passphrase-file "$t/pass" --kra-passphrase-file "$t/pass" >/dev/null
	# A plain card cannot import: its 9D key is made on the card, not escrowed.
	sed -i "s/^policy = required\$/policy = optional/" "$H/pivstation.conf"
	echo "(the sandbox reader has a PIN pad; the cardholder will type 13572468 twice)"
	vcardctl pinpad 0 13572468
	echo "\$ pivstation issue --home \$H -r 0 --identity examples/identity.json --pin-pad --passphrase-file pass"
	"$P" issue --home "$H" -r 0 --identity "$PV_ROOT/examples/identity.json" --pin-pad \
	    --passphrase-file "$t/pass" </dev/null
	echo; echo "\$ pivstation diag -r 0 --pin-pad   (the cardholder types the PIN once more)"
	vcardctl pinpad 0 13572468
	"$P" diag -r 0 --pin-pad | grep -A5 -E "^  pin pad|^  pin:"'

step "pivstation batch: 6 people from a CSV file on 3 readers at once, cards fed as they are done"
PV_BIN="$B" tests/sandbox/run --readers 3 --card 0:usb-key --card 1:usb-key --card 2:usb-key \
    --card-args 0 "--latency yubikey5" --card-args 1 "--latency yubikey5" \
    --card-args 2 "--latency yubikey5" -- bash -c '
	set -e
	umask 077
	P=$PV_BIN/pivstation; t=$(mktemp -d); trap "rm -rf $t" EXIT
	BL_DIR=$t BL_HOME=$t/home BL_CARDS=$t/cards BL_CARD_ARGS="--latency yubikey5"
	mkdir -p "$BL_CARDS"
	. "$PV_ROOT/tests/integ/lib/batch_lib.sh"
	printf "demo ca passphrase\n" >"$t/pass"
	"$P" init --home "$BL_HOME" >/dev/null
	"$P" ca init --home "$BL_HOME" --passphrase-file "$t/pass" --kra-passphrase-file "$t/pass" >/dev/null
	cd "$t"
	{
		echo "given_name,family_name,person_id,affiliation,email"
		echo "Ada,Lovelace,0000010001,Employee,ada@example.gov"
		echo "Alan,Turing,0000010002,Employee,alan@example.gov"
		echo "Grace,Hopper,0000010003,Employee,grace@example.gov"
		echo "Claude,Shannon,0000010004,Contractor,claude@example.gov"
		echo "Edsger,Dijkstra,0000010005,Employee,edsger@example.gov"
		echo "Barbara,Liskov,0000010006,Employee,barbara@example.gov"
	} >people.csv
	echo "\$ pivstation batch --home \$H people.csv --check"
	"$P" batch --home "$BL_HOME" people.csv --check
	echo; echo "(a feeder pulls each card the store shows issued and puts a fresh usb-key in)"
	echo "\$ pivstation batch --home \$H people.csv --readers 0,1,2 --passphrase-file pass"
	bl_feeder_start 6 0 1 2
	"$P" batch --home "$BL_HOME" people.csv --readers 0,1,2 --passphrase-file "$t/pass"
	bl_feeder_stop
	echo; echo "\$ cut -c1-100 people.results.csv   (the results file; the PINs are in people.pins.csv, 0600)"
	cut -c1-100 people.results.csv
	echo; echo "\$ pivstation batch --home \$H people.csv --readers 0,1,2 --passphrase-file pass --plain   (again: nothing left to do)"
	"$P" batch --home "$BL_HOME" people.csv --readers 0,1,2 --passphrase-file "$t/pass" --plain'
