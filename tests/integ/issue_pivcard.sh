#!/usr/bin/env bash
# issue_pivcard.sh: `pivstation issue` onto a piv-card vcard (plain SP
# 800-73-4, no IMPORT KEY, short APDUs).  With [escrow] policy = required
# it is refused before anything is written: a clear message, exit 1, the
# card got no write command at all (vcard per-INS counts) and the store no
# row (people, devices, jobs, certificates, escrow, audit).  With policy =
# optional it is issued: the 9D key made on the card and recorded as not
# escrowed (only the PUK has an envelope), the factory management key kept
# (the card cannot change it), four certificates that OpenSC lists and a
# 9D key that decrypts.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:piv-card
tl_station

PIN=13572468
MOD=$(tl_opensc_module) || exit 1
P11() { pkcs11-tool --module "$MOD" --slot-index 0 "$@"; }
rows() {
	sqlite3 "$H/store.db" "select (select count(*) from people), (select count(*) from devices),
		(select count(*) from jobs), (select count(*) from certificates),
		(select count(*) from escrow), (select count(*) from audit)"
}
# writes: the card's count of commands that change it
writes() {
	vcardctl stats 0 | jq '[.ins | to_entries[] | select(.key | IN("db","47","24","2c","fe","ff","fb"))
		| .value] | add // 0'
}
issue() {
	echo "$PIN" | "$P" issue --home "$H" -r 0 --identity "$PV_ROOT/examples/identity.json" \
		--pin-stdin --passphrase-file "$TL_PASS" "$@"
}

check_out "the configuration says escrow policy = required" '^policy = required$' \
	grep '^policy = ' "$H/pivstation.conf"

# ---- escrow = required: refused up front ------------------------------------------
before=$(rows)
issue >out.txt 2>err.txt; rc=$?
check "refused with exit 1 (got $rc)" test $rc = 1
check_out "the message names the policy, the token and that nothing was written" \
	"escrow policy 'required'.*IMPORT KEY.*nothing was written" cat err.txt
check_out "the message says what to do" 'policy = optional' cat err.txt
check "the card got no write command" test "$(writes)" = 0
check "the store did not change ($before)" test "$(rows)" = "$before"
check_out "the audit log has no job" '^0$' sqlite3 "$H/store.db" \
	"select count(*) from audit where action like 'job.%' or action like 'device.%'"
check "audit verify passes" "$P" audit verify --home "$H"

# ---- escrow = optional: issued, 9D made on the card ------------------------------------
check "[escrow] policy = optional" tl_conf "$H" escrow.policy optional
issue --json >events.jsonl 2>err.txt; rc=$?
check "issued with policy = optional (exit $rc)" test $rc = 0 || cat err.txt >&2
check_out "the result: 9D not escrowed, PUK escrowed, factory management key kept" '^true$' \
	jq -s '.[-1] | .ok and (.key_9d_escrowed | not) and .puk_escrowed and (.mgmt_key.changed | not)' \
	events.jsonl
check "the card was written this time ($(writes) commands)" test "$(writes)" -gt 10
check_out "escrow-9d and mgmt-key were reported skipped" '^2$' \
	jq -s '[.[] | select(.event == "step" and .state == "skipped")] | length' events.jsonl
check_out "device of type card, 9D recorded not escrowed" '^card\|0\|active$' sqlite3 "$H/store.db" \
	"select type, key_9d_escrowed, status from devices"
check_out "escrow holds the PUK only" '^puk$' sqlite3 "$H/store.db" "select kind from escrow"
check_out "four active certificates" '^4$' sqlite3 "$H/store.db" \
	"select count(*) from certificates where status = 'active'"
P11 -O >objects.txt 2>&1
check_out "OpenSC lists four certificates" '^4$' grep -c '^Certificate Object' objects.txt
P11 --read-object --type cert --id 03 -o c03.der >/dev/null 2>&1
openssl x509 -inform DER -in c03.der -noout -pubkey >p03.pem 2>/dev/null
head -c 32 /dev/urandom >secret
openssl pkeyutl -encrypt -pubin -inkey p03.pem -in secret -out secret.enc
check "the on-card 9D key decrypts (RSA-PKCS)" P11 --login --pin "$PIN" --decrypt --id 03 \
	-m RSA-PKCS -i secret.enc -o secret.dec
check "the decryption is the plaintext" cmp secret secret.dec
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
