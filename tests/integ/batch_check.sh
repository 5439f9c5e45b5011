#!/usr/bin/env bash
# batch_check.sh: `pivstation batch` refuses a file with bad rows before
# anything starts: every problem named by file, row and field as identity
# files name theirs (CSV and JSON Lines), exit 6, no card touched (the
# vcard counted no APDU), nothing in the store.  Problems against the
# store are refused too: a person who already holds a credential, one
# whose issuance runs elsewhere, an email that is another person's, a
# person of another unfinished batch, a person the store has with other
# details (unless --update-people, which takes the row's, audited).
# --check validates only; a weak
# --pin-stdin PIN and a PIN mailer others may read stop it before it
# starts; a file whose name says no format needs --format.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --card 0:usb-key --card 1:usb-key \
		--card-args 1 '--fault remove-after=14' -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
. "$ROOT/tests/integ/lib/batch_lib.sh"
bl_setup >setup.log 2>&1
check "station home and CA" test -s "$BL_DIR/kra-plain.key" || { cat setup.log >&2; tl_done; exit 1; }
B() { "$P" batch --home "$BL_HOME" "$@"; }

# ---- the file's own problems --------------------------------------------------------
{
	echo 'given_name,family_name,person_id,affiliation,email'
	echo 'Alice,Example,0000002001,Employee,alice@example.gov'
	echo 'Bob,Example,00000020,Employee,bob@example.gov'
	echo 'Carol,Example,0000002003,Employee,not-an-address'
	echo 'Dan,Example,0000002004,Employee of the month!!,'
	echo 'Erin,Example,0000002001,Employee,'
	echo 'Frank,"Ex"ample,0000002006,Employee,'
	echo 'Gina,Example,0000002007,Employee'
} >bad.csv
B bad.csv --plain >bad.out 2>bad.err
check "a file with bad rows: exit 6" test $? = 6
for want in \
	'bad.csv:3: person_id: expected 10 digits, got 8' \
	'bad.csv:4: email: not an address' \
	'bad.csv:5: affiliation: 23 bytes, at most 20' \
	'bad.csv:6: person_id: 0000002001 is also on row 2' \
	'bad.csv:7: field 2: text after the closing quote' \
	'bad.csv:8: 4 fields, the header has 5' \
	'6 problems in bad.csv: nothing was started'; do
	check "names it: $want" grep -qF "pivstation: batch: $want" bad.err
done
check_out "... and only those" '^7$' bash -c 'grep -c "pivstation: batch: " bad.err'
check_out "no card was touched" '^0$' bash -c 'vcardctl stats 0 | jq .apdus'
check_out "nothing in the store" '^0 0$' bl_sql "SELECT (SELECT count(*) FROM batches) || ' ' || (SELECT count(*) FROM jobs)"

printf '%s\n' '{"given_name":"A","family_name":"B","person_id":"0000003001","affiliation":"E"}' \
	'{"given_name":"A","family_name":"B","person_id":"0000003002","affiliation":"E","nick":"x"}' \
	'' '{"given_name":"A","family_name":"B","person_id":"0000003003","affiliation":"E","email":1}' >bad.jsonl
B bad.jsonl --check --json >jbad.json 2>jbad.err
check "JSON Lines with bad rows: exit 6" test $? = 6
check_out "--json lists the problems by row" '^\[2,4\]$' jq -c '[.problems[].row]' jbad.json
check_out "... as identity files name them" 'bad.jsonl:4: email: expected a string, got a number' \
	jq -r '.problems[1].message' jbad.json

cp bad.csv people.txt
check_fails_out "a name without .csv or .jsonl needs --format" 'give --format csv or jsonl' \
	B people.txt --check

# ---- problems against the store ----------------------------------------------------
cat >one.json <<'J'
{"given_name":"Ivy","family_name":"Issued","person_id":"0000004001","affiliation":"Employee","email":"ivy@example.gov"}
J
check "one person issued with pivstation issue" bash -c \
	"echo 24681357 | '$P' issue --home '$BL_HOME' -r 0 --identity one.json --pin-stdin"
cat >half.json <<'J'
{"given_name":"Hal","family_name":"Halfway","person_id":"0000004002","affiliation":"Employee"}
J
echo 24681357 | "$P" issue --home "$BL_HOME" -r 1 --identity half.json --pin-stdin >half.out 2>&1
check "another issuance cut off by a pulled card (exit 3)" test $? = 3
{
	echo 'given_name,family_name,person_id,affiliation,email'
	echo 'Ivy,Issued,0000004001,Employee,'
	echo 'Hal,Halfway,0000004002,Employee,'
	echo 'Jo,Other,0000004003,Employee,ivy@example.gov'
	echo 'Kim,Fine,0000004004,Employee,'
} >store.csv
B store.csv --check >store.out 2>store.err
check "problems against the store: exit 6" test $? = 6
check "a person with a credential" grep -qE \
	'store.csv:2: person_id: 0000004001 already has a active credential \(device [0-9]+, serial [0-9]+\)' store.err
check "a person whose issuance runs elsewhere" grep -qE \
	"store.csv:3: person_id: 0000004002 has issuance job [0-9]+ running in Virtual PCD 00 01" store.err
check "an email that is another person's" grep -qF \
	'store.csv:4: email: ivy@example.gov is the address of person 0000004001 in the store' store.err
check "... whose row has other details than the store's (no email)" grep -qF \
	'store.csv:2: person_id: 0000004001 is in the store with other details (email)' store.err
check_out "4 problems, row 5 is fine" '^4 problems in store.csv' bash -c "grep -o '4 problems in store.csv' store.err"

# ---- a person the store has with other details ----------------------------------------
hal_job=$(bl_sql "SELECT id FROM jobs WHERE state = 'running'")
check "Hal's job cancelled: Hal stays in the store, without a credential" \
	"$P" job cancel "$hal_job" --home "$BL_HOME" --reason "card lost"
{
	echo 'given_name,family_name,person_id,affiliation,email'
	echo 'Hal,Renamed,0000004002,Contractor,hal@example.gov'
} >upd.csv
B upd.csv --check >upd.out 2>upd.err
check "other details than the store's: exit 6" test $? = 6
check "... the row refused, naming the fields" grep -qF \
	'upd.csv:2: person_id: 0000004002 is in the store with other details (family_name, affiliation, email): correct the row, or give --update-people to take the row'"'"'s' upd.err
check_out "... the store unchanged" '^Halfway$' bl_sql "SELECT family_name FROM people WHERE person_id = '0000004002'"
check_out "with --update-people the row is good" '^upd.csv: 1 rows, every one good$' \
	B upd.csv --check --update-people

# ---- a person of another unfinished batch --------------------------------------------
{
	echo 'given_name,family_name,person_id,affiliation'
	echo 'Lee,First,0000005001,Employee'
} >first.csv
{
	echo 'given_name,family_name,person_id,affiliation'
	echo 'Lee,First,0000005001,Employee'
	echo 'Max,Second,0000005002,Employee'
} >second.csv
vcardctl stop 0 >/dev/null; vcardctl stop 1 >/dev/null	# no cards: it waits
"$P" batch --home "$BL_HOME" first.csv --plain >first.out 2>first.err &
bp=$!
for _ in $(seq 100); do [ "$(bl_sql 'SELECT count(*) FROM batches')" = 1 ] && break; sleep 0.1; done
kill -INT $bp; wait $bp
check "a batch interrupted before any card: exit 130" test $? = 130
B second.csv --check >second.out 2>second.err
check "the same person in another batch: exit 6" test $? = 6
check "... named with that batch" grep -qE \
	'second.csv:2: person_id: 0000005001 is row 2 of batch [0-9]+ \(first.csv\), which is not finished' second.err

# ---- --update-people issues with the row's details, audited -----------------------------
vcardctl insert 0 "$BL_DIR/upd.state" >/dev/null
echo 24681357 | "$P" batch --home "$BL_HOME" upd.csv --update-people --pin-stdin \
	--readers 0 --plain >updrun.out 2>updrun.err
check "the batch with --update-people issues Hal (exit 0)" test $? = 0 || tail -5 updrun.err >&2
check_out "... the store has the row's details" '^Renamed Contractor hal@example.gov active$' \
	bl_sql "SELECT p.family_name || ' ' || p.affiliation || ' ' || p.email || ' ' || d.status
	  FROM people p JOIN devices d ON d.person_id = p.id AND d.status = 'active'
	  WHERE p.person_id = '0000004002'"
check_out "... and the audit log the update" '^1$' \
	bl_sql "SELECT count(*) FROM audit WHERE action = 'person.update' AND detail LIKE '%0000004002%'"
check "... which verifies" "$P" audit verify --home "$BL_HOME"
vcardctl stop 0 >/dev/null

# ---- PINs --------------------------------------------------------------------------
{
	echo 'given_name,family_name,person_id,affiliation'
	echo 'Ned,Pin,0000006001,Employee'
} >pin.csv
check_fails_out "--pin-stdin: a weak PIN is refused" 'PIN: a rising or falling sequence' \
	bash -c "echo 23456789 | '$P' batch --home '$BL_HOME' pin.csv --pin-stdin"
install -m 644 /dev/null open.pins.csv
check_fails_out "a PIN mailer others may read is refused" 'others may read or write it \(mode 644\)' \
	B pin.csv --pin-mailer open.pins.csv
check_out "... before the batch was recorded" '^0$' \
	bl_sql "SELECT count(*) FROM batches WHERE source = 'pin.csv'"
check_out "--check of a good file says so" '^pin.csv: 1 rows, every one good$' B pin.csv --check
tl_done
