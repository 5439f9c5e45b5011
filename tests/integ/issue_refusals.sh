#!/usr/bin/env bash
# issue_refusals.sh: what `pivstation issue` refuses, and that a refusal
# leaves the store as it was (no person, device, job, certificate, escrow
# or audit row more) and the card unwritten:
#  - an identity file with a bad field (the message names file and field),
#    a weak PIN (factory PIN/PUK, repeated, sequence),
#    invalid UTF-8 (overlong, surrogate, above U+10FFFF), a name a subject
#    attribute cannot carry (all before any job: the certificates would
#    fail after the card was changed),
#    a PIN against [pin] rules, a missing -r / --identity (usage),
#    --pin-pad on a reader that has no PIN pad;
#  - a card whose PIN is blocked; a card whose PIN is not the factory one
#    (usb-key: metadata says so; piv-card: the factory PIN is refused);
#  - a job that set the person's PIN before the card was pulled, run again
#    with another PIN: refused (a try spent, nothing recorded), then
#    finished with the right one;
#  - a card already issued: the identical command again (a batch retrying
#    after a crash) succeeds with "already issued ... nothing to do", the
#    store and the card untouched (--json: already_issued, the same job and
#    certificates); for another person refused without --reissue (hint
#    given), and with --reissue while its PIN/PUK are the person's (reset
#    needed);
#    after a PIV reset, refused without --reissue (the store knows it) and
#    issued again with --reissue: the old device terminated, its four
#    certificates revoked, exactly one active certificate per slot;
#  - a person already in the store, given again with other details (same
#    person_id, another name and e-mail): refused before the card is
#    touched, naming each field with both values; with --update-person
#    issued, the person updated and the old values in the audit log (and,
#    the identity saying the background investigation is pending, 9A and
#    9E carry the PIV interim indicator TRUE).
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:usb-key --card 1:piv-card --card 2:usb-key --card 3:usb-key
# the piv-card cannot import a 9D key: let it be made on the card
tl_station --set escrow.policy=optional

PIN=11223344
ID=$PV_ROOT/examples/identity.json
MOD=$(tl_opensc_module) || exit 1
Y0() { yubico-piv-tool -r "$PV_READER_0" "$@"; }
rows() {
	sqlite3 "$H/store.db" "select (select count(*) from people), (select count(*) from devices),
		(select count(*) from jobs), (select count(*) from certificates),
		(select count(*) from escrow), (select count(*) from audit)"
}
writes() {
	vcardctl stats "$1" | jq '[.ins | to_entries[] | select(.key | IN("db","47","24","2c","fe","ff","fb"))
		| .value] | add // 0'
}
# issue READER [ARGS...]: the PIN on stdin, the CA passphrase from a file
issue() {
	local r=$1; shift
	echo "${ISSUE_PIN:-$PIN}" | "$P" issue --home "$H" -r "$r" --pin-stdin \
		--passphrase-file "$TL_PASS" "$@"
}
# refused DESC EXIT PATTERN READER ARGS...: exit code, message, no store change
refused() {
	local desc=$1 want=$2 pat=$3 r=$4 before rc
	shift 4
	before=$(rows)
	issue "$r" "$@" >out.txt 2>err.txt; rc=$?
	check "$desc: exit $want (got $rc)" test "$rc" = "$want" || cat err.txt >&2
	check_out "$desc: message" "$pat" cat err.txt
	check "$desc: the store is as it was" test "$(rows)" = "$before"
}


# ---- input ----------------------------------------------------------------------
jq '.email = "alice-at-example"' "$ID" >bad-email.json
refused "bad email" 6 'bad-email.json: email: not an address' 0 --identity bad-email.json
jq 'del(.person_id)' "$ID" >no-pid.json
refused "no person_id" 6 'no-pid.json: person_id: missing' 0 --identity no-pid.json
jq '.person_id = "12345"' "$ID" >short-pid.json
refused "short person_id" 6 'short-pid.json: person_id' 0 --identity short-pid.json
refused "missing identity file" 6 'nothere.json' 0 --identity nothere.json
# Invalid UTF-8 that json-c lets through: refused before any job, naming
# the field, the byte and the bytes (the certificate would fail at key-9a)
printf '{"given_name":"Ab\xc0\xafcd","family_name":"Example","person_id":"0000012345","affiliation":"Employee"}' >overlong.json
refused "overlong UTF-8" 6 'overlong.json: given_name: not UTF-8 at byte 3: an overlong encoding \(c0 af\)' \
	0 --identity overlong.json
printf '{"given_name":"Alice","family_name":"Ab\xed\xa0\x80","person_id":"0000012345","affiliation":"Employee"}' >surrogate.json
refused "UTF-16 surrogate" 6 'surrogate.json: family_name: not UTF-8 at byte 3: a UTF-16 surrogate' \
	0 --identity surrogate.json
printf '{"given_name":"Alice","middle_name":"\xf4\x90\x80\x80","family_name":"Example","person_id":"0000012345","affiliation":"Employee"}' >above.json
refused "code point above U+10FFFF" 6 'above.json: middle_name: not UTF-8 at byte 1: a code point above U\+10FFFF' \
	0 --identity above.json
# A name the subject template cannot carry: refused before any job too
# (DC is an IA5String: the name went in as invalid bytes before)
check "subject template with DC" tl_conf "$H" subject 'DC=gov, DC={given_name}, CN={full_name}'
jq '.given_name = "Zo\u00eb"' "$ID" >zoe.json
refused "DC not ASCII" 6 'subject: DC.*only ASCII' 0 --identity zoe.json
check "subject template as it was" tl_conf "$H" subject 'C=US, O=Example Agency, OU=People, CN={full_name}'
ISSUE_PIN=12345 refused "a 5-digit PIN" 6 'PIN: 5 characters' 0 --identity "$ID"
ISSUE_PIN=12ab5678 refused "a PIN with letters" 6 'PIN' 0 --identity "$ID"
# weak PINs ([pin] refuse): the message names the rule, not the PIN
ISSUE_PIN=123456 refused "the factory PIN" 6 'PIN: a factory default value is refused \(\[pin\] refuse: factory\)' \
	0 --identity "$ID"
for w in 12345678:factory 00000000:repeated 87654321:sequence; do
	ISSUE_PIN=${w%%:*} refused "weak PIN ${w#*:}" 6 "refuse: ${w#*:}" 0 --identity "$ID"
	check "weak PIN ${w#*:}: the PIN is not in the message" bash -c "! grep -qF ${w%%:*} err.txt"
done
check_fails_out "no reader: usage" 'required' "$P" issue --home "$H" --identity "$ID" --pin-stdin
# vpcd readers have no PIN pad (tests/integ/issue_pinpad.sh has readers that do)
before=$(rows)
"$P" issue --home "$H" -r 0 --identity "$ID" --pin-pad --passphrase-file "$TL_PASS" </dev/null \
	>out.txt 2>err.txt; rc=$?
check "--pin-pad on a reader without a pad: bad input, exit 6 (got $rc)" test "$rc" = 6
check_out "--pin-pad on a reader without a pad: message" \
	'--pin-pad: Virtual PCD 00 00 has no PIN pad .*FEATURE_MODIFY_PIN_DIRECT.*nothing was written' cat err.txt
check "--pin-pad on a reader without a pad: the store is as it was" test "$(rows)" = "$before"
check "nothing was written to either card" test "$(writes 0)$(writes 1)" = 00

# ---- card state ----------------------------------------------------------------------
# piv-card whose PIN is not the factory one: the one VERIFY of the default
# PIN fails, nothing is written
check "piv-card: PIN changed by another tool" pkcs11-tool --module "$MOD" \
	--slot-index 1 --login --pin 123456 --change-pin --new-pin 87654321
refused "piv-card with a PIN that is not the default" 5 'not the factory default.*nothing was written' \
	1 --identity "$ID"
# usb-key whose PIN is blocked
for i in 1 2 3; do Y0 -a verify-pin -P 999999 >/dev/null 2>&1; done
refused "usb-key with a blocked PIN" 5 'PIN is blocked.*nothing was written' 0 --identity "$ID"
check "no command that writes reached the usb-key" test "$(writes 0)" = 0
# reset the key (PIN and PUK blocked), so it is blank again
for i in 1 2 3; do Y0 -a unblock-pin -P 999999 -N 999999 >/dev/null 2>&1; done
check "usb-key: PIV reset" Y0 -a reset

# ---- already issued ---------------------------------------------------------------------
check "issue onto the usb-key" issue 0 --identity "$ID"
sqlite3 "$H/store.db" "select serial from certificates where status = 'active' order by serial" >old.txt
check_out "four active certificates" '^4$' wc -l <old.txt
before=$(rows); w0=$(writes 0)
issue 0 --identity "$ID" >again.txt 2>again.err; rc=$?
check "same command again: exit 0 (got $rc)" test $rc = 0 || cat again.err >&2
check_out "same command again: already issued, nothing to do" \
	'^already issued to Example, Alice M by job [0-9]+ on 20[0-9-]+T[0-9:]+Z: nothing to do$' \
	cat again.txt
issue 0 --identity "$ID" --json >again.jsonl 2>again.err; rc=$?
check "same command again, --json: exit 0 (got $rc)" test $rc = 0 || cat again.err >&2
check_out "--json: ok, already_issued, 0 steps run, the done job's device" '^true$' jq -s \
	--argjson j "$(sqlite3 "$H/store.db" "select id from jobs where state = 'done'")" \
	'.[-1] | .ok and .already_issued and .steps_run == 0 and .job == $j and .device == 1
	 and .key_9d_escrowed and .puk_escrowed and .mgmt_key.changed' again.jsonl
check "--json: the four certificates are the active ones" test \
	"$(jq -s -r '.[-1].certificates[]' again.jsonl | LC_ALL=C sort)" = "$(cat old.txt)"
n=$(jq -s '.[-1].stats.apdus' again.jsonl)
check "same command again: only the inspection's reads, at most 11 APDUs ($n)" test "$n" -le 11
check "same command again: the store is as it was" test "$(rows)" = "$before"
check "same command again: no command that writes reached the usb-key" test "$(writes 0)" = "$w0"
jq '.person_id = "0000054321" | .given_name = "Bob"' "$ID" >other.json
refused "issued card, another person, no --reissue" 1 'not blank.*--reissue' 0 --identity other.json
refused "issued card, --reissue while the PIN is the person's" 1 \
	"PIN is not the factory default.*reset the token" 0 --identity "$ID" --reissue
for i in 1 2 3; do Y0 -a verify-pin -P 99999999 >/dev/null 2>&1; done
for i in 1 2 3; do Y0 -a unblock-pin -P 99999999 -N 99999999 >/dev/null 2>&1; done
check "usb-key: PIV reset after the issuance" Y0 -a reset
refused "reset card the store knows, no --reissue" 1 'store record \(device 1, active\).*--reissue' \
	0 --identity "$ID"
check "--reissue issues it again" issue 0 --identity "$ID" --reissue
check_out "the old device is terminated, the new one active" '^1\|terminated 2\|active$' \
	sqlite3 "$H/store.db" "select group_concat(id || '|' || status, ' ') from devices"
check_out "the four old certificates are revoked" '^4$' sqlite3 "$H/store.db" \
	"select count(*) from certificates where status = 'revoked' and serial in
	 ($(sed "s/.*/'&'/" old.txt | paste -sd,))"
check_out "exactly one active certificate per slot, all on the new device" '^4\|4\|2$' \
	sqlite3 "$H/store.db" "select count(*), count(distinct slot), max(device_id)
	 from certificates where status = 'active'"
check_out "no job left running" '^0$' sqlite3 "$H/store.db" \
	"select count(*) from jobs where state = 'running'"
# ---- a job that set the PIN, resumed with another PIN --------------------------------
# card 2 is pulled after 17 APDUs (just after CHANGE REFERENCE DATA of the
# PIN) and comes back 300 ms later; restarted now, so that no other
# client's APDUs (OpenSC probes every reader) count
check "card 2 restarted with the fault" vcardctl restart 2 --fault remove-after=17:300
ISSUE_PIN=22446688 issue 2 --identity "$ID" --json >pulled.jsonl 2>err.txt; rc=$?
check "pulled card: exit 3 (got $rc)" test $rc = 3
check_out "pulled card: the job got as far as set-pin" '^"set-pin"$' \
	jq -s '[.[] | select(.event == "step" and .state == "done")] | .[-1].step' pulled.jsonl
check "card 2 is back" vcardctl ready 2
refused "resumed job, another PIN" 5 "already set the person's PIN.*wrong PIN \(2 tries left\)" \
	2 --identity "$ID"
ISSUE_PIN=22446688 check "resumed job, the PIN it set: finished" issue 2 --identity "$ID"
check_out "that job is done" '^done$' sqlite3 "$H/store.db" \
	"select state from jobs where device_id = (select max(id) from devices)"
# ---- the same person_id with other details ----------------------------------------
jq '.family_name = "Renamed" | .email = "renamed@example.gov" | .background_investigation = "pending"' \
	"$ID" >renamed.json
w3=$(writes 3)
refused "same person_id, other details" 6 \
	"person 0000012345 is in the store with other details.*--update-person\): family_name 'Example', given 'Renamed'; email 'alice.example@example.gov', given 'renamed@example.gov'$" \
	3 --identity renamed.json
check "other details: no command that writes reached the card" test "$(writes 3)" = "$w3"
check "--update-person: issued" issue 3 --identity renamed.json --update-person
check_out "--update-person: the person is renamed" '^Renamed\|renamed@example.gov$' \
	sqlite3 "$H/store.db" "select family_name || '|' || email from people where person_id = '0000012345'"
# the PIV interim indicator of 9A and 9E: TRUE, the investigation is pending
# (the identity file says so; [certificates] piv_interim = no says FALSE)
for slot in 154 158; do
	check_out "background_investigation pending: slot $slot carries the interim indicator TRUE" \
		'OCTET STRING +\[HEX DUMP\]:0101FF$' bash -c "sqlite3 '$H/store.db' \"select pem from certificates
		 where slot = $slot and status = 'active' and device_id = (select max(id) from devices)\" |
		 openssl asn1parse | grep -A1 ':2.16.840.1.101.3.6.9.1\$' | tail -1"
done
check_out "--update-person: the old values are in the audit log" '^Example alice.example@example.gov$' \
	sqlite3 "$H/store.db" "select json_extract(detail, '$.changed.family_name.from') || ' ' ||
	 json_extract(detail, '$.changed.email.from') from audit where action = 'person.update'"
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
