#!/usr/bin/env bash
# audit_tamper.sh: `pivstation audit verify` after someone edits the store
# file with the sqlite3 command: each column of a middle row, a deleted
# middle row, deleted last rows, a head moved back, and the whole store
# rolled back to an older copy (with its head file, without it, or with an
# old head file, which only an anchor outside the home can tell); a head
# file behind by one transaction (a note) or more (an error) or that cannot
# be written.  Each is reported, exit status 7, naming
# the first bad row.  Also `audit show` and `audit note`.  Talks to no
# card: no pcsc sandbox needed.
set -euo pipefail
B=${PV_BIN:?PV_BIN: the build directory}
P=$B/pivstation
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset PIVSTATION_HOME
unset PIVSTATION_OPERATOR

H=$T/home
"$P" init --home "$H" >/dev/null
for i in 1 2 3 4 5 6 7 8 9; do
	"$P" audit note --home "$H" "note number $i" || fail "audit note $i"
done
[ "$(sqlite3 "$H/store.db" 'SELECT count(*) FROM audit')" = 10 ] || fail "expected 10 rows"
"$P" audit verify --home "$H" >"$T/out" || fail "verify of an intact log failed"
grep -q "audit log intact: 10 rows, head authenticated" "$T/out" || fail "verify said: $(cat "$T/out")"
"$P" --json audit verify --home "$H" | jq -e '.ok and .rows == 10 and .head_authenticated and .head_file == "checked" and .store_rows == 0' \
	>/dev/null || fail "verify --json"

# show
"$P" audit show --home "$H" --since 8 >"$T/show"
[ "$(wc -l <"$T/show")" = 2 ] || fail "show --since 8: $(cat "$T/show")"
grep -q "uid [0-9]* ([a-z0-9_-]*) .*note .*note number 9" "$T/show" || fail "show lacks the last note: $(cat "$T/show")"
"$P" --json audit show --home "$H" --limit 3 | jq -e '.rows | length == 3 and .[0].seq == 1 and .[1].detail.text == "note number 1"' \
	>/dev/null || fail "show --json --limit 3"
rc=0; "$P" audit show --home "$H" --since x 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "--since x: exit $rc, want 2"

DROP="DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"
n=0
# case SQL EXPECTED-MESSAGE-PART FIRST-BAD
check() {
	local sql=$1 want=$2 first=$3 c rc=0
	n=$((n + 1)); c=$T/case$n
	cp -a "$H" "$c"
	sqlite3 "$c/store.db" "$sql" || fail "sqlite3: $sql"
	"$P" audit verify --home "$c" >"$c.out" 2>"$c.err" || rc=$?
	[ $rc = 7 ] || fail "[$sql] exit $rc, want 7 ($(cat "$c.err"))"
	grep -qF -- "$want" "$c.err" || fail "[$sql] message: $(cat "$c.err"), want: $want"
	"$P" --json audit verify --home "$c" >"$c.json" 2>/dev/null || true
	jq -e ".ok == false and .first_bad == $first" "$c.json" >/dev/null ||
		fail "[$sql] --json: $(cat "$c.json"), want first_bad $first"
}
for col in "time = time + 1" "actor = 'mallory'" "action = 'x'" "object = 'y'" \
    "detail = '{\"text\":\"note number 0\"}'" "hash = zeroblob(32)"; do
	check "$DROP UPDATE audit SET $col WHERE seq = 6" "audit row 6: altered" 6
done
check "$DROP UPDATE audit SET prev_hash = zeroblob(32) WHERE seq = 6" "audit row 6: does not follow row 5" 6
check "$DROP DELETE FROM audit WHERE seq = 6" "audit row 6 is missing" 6
check "$DROP DELETE FROM audit WHERE seq = 6; UPDATE audit SET seq = seq - 1 WHERE seq > 6" \
	"audit row 6: does not follow row 5" 6
check "$DROP DELETE FROM audit WHERE seq = 10" "audit row 10 is missing: the log ends at row 9" 10
check "$DROP DELETE FROM audit WHERE seq >= 8" "audit row 8 is missing" 8
check "$DROP DELETE FROM audit WHERE seq = 10; UPDATE audit_head SET count = 9, hash = (SELECT hash FROM audit WHERE seq = 9)" \
	"audit head: its MAC is wrong" 9
check "UPDATE audit_head SET mac = zeroblob(32)" "audit head: its MAC is wrong" 10
# A row of a table the log describes, added behind pivstation's back: the
# certificate is named.  (Changing a certificate the log recorded is
# tested where one is issued: issue_usbkey.sh, and in test_audit.c.)
check "INSERT INTO certificates (device_id, slot, serial, pem, spki_sha256, not_before, not_after, status, created_at) \
VALUES (1, 154, '0a1b2c', 'x', zeroblob(32), 0, 0, 'active', 0)" \
	"certificates row 1 (cert:0a1b2c) is not in the audit log" 0

# The whole store rolled back to an older copy: the head file is ahead.
c=$T/rollback
cp -a "$H" "$c"
cp "$c/store.db" "$T/old.db"
"$P" audit note --home "$c" "after the copy"
cp "$T/old.db" "$c/store.db"
rc=0; "$P" audit verify --home "$c" 2>"$T/err" || rc=$?
[ $rc = 7 ] || fail "rollback: exit $rc, want 7"
grep -q "audit row 11 is missing: the store was rolled back" "$T/err" || fail "rollback message: $(cat "$T/err")"
# ... and with its head file deleted too: a missing head is an error.
c=$T/rollback-nohead
cp -a "$T/rollback" "$c"
rm "$c/audit.head"
rc=0; "$P" audit verify --home "$c" 2>"$T/err" || rc=$?
[ $rc = 7 ] || fail "rollback, head deleted: exit $rc, want 7"
grep -q "the head file $c/audit.head is missing: the log has 10 rows" "$T/err" ||
	fail "rollback, head deleted: $(cat "$T/err")"
# A head file put back from two transactions ago: more than a crash
# between commit and head write can explain.
c=$T/head-behind
cp -a "$H" "$c"
cp "$c/audit.head" "$T/head.old"
"$P" audit note --home "$c" "one" && "$P" audit note --home "$c" "two"
cp "$T/head.old" "$c/audit.head"
rc=0; "$P" audit verify --home "$c" 2>"$T/err" || rc=$?
[ $rc = 7 ] || fail "head 2 behind: exit $rc, want 7"
grep -q "records 10 rows, 2 behind the log and more than its last transaction" "$T/err" ||
	fail "head 2 behind: $(cat "$T/err")"
# One behind (a crash after the commit) is a note, not an error.
c=$T/head-one-behind
cp -a "$H" "$c"
"$P" audit note --home "$c" "one"
cp "$T/head.old" "$c/audit.head"
"$P" audit verify --home "$c" >"$T/out" || fail "head 1 behind: verify failed"
grep -q "note: the head file is 1 rows behind" "$T/out" || fail "head 1 behind: $(cat "$T/out")"
# A head file that cannot be written: the change is committed, the command
# fails and says so.
c=$T/head-unwritable
cp -a "$H" "$c"
rm "$c/audit.head"; mkdir "$c/audit.head"
rc=0; "$P" audit note --home "$c" "three" 2>"$T/err" || rc=$?
[ $rc != 0 ] || fail "head not written: exit 0"
grep -q "the store is committed, but the audit log's head could not be recorded outside it: $c/audit.head" "$T/err" ||
	fail "head not written: $(cat "$T/err")"
# Store and head file put back together: only an anchor outside the home
# sees it ([audit] anchor, appended after every change and by checkpoint).
c=$T/anchored
cp -a "$H" "$c"
sed -i "s|^anchor =.*|anchor = $T/anchor|" "$c/pivstation.conf"
"$P" audit checkpoint --home "$c" >"$T/out" || fail "checkpoint"
grep -q "audit head checkpointed: 10 rows" "$T/out" || fail "checkpoint: $(cat "$T/out")"
cp "$c/store.db" "$c/audit.head" "$T/"
"$P" audit note --home "$c" "after the anchor"
[ "$(tail -n 1 "$T/anchor" | cut -d' ' -f3)" = 11 ] || fail "anchor after a note: $(tail -n 1 "$T/anchor")"
[ "$(stat -c %a "$T/anchor")" = 600 ] || fail "anchor mode $(stat -c %a "$T/anchor")"
cp "$T/store.db" "$T/audit.head" "$c/"
rc=0; "$P" audit verify --home "$c" 2>"$T/err" || rc=$?
[ $rc = 7 ] || fail "store and head put back, anchored: exit $rc, want 7"
grep -q "audit row 11 is missing: the store was rolled back (the log ends at row 10, the anchor $T/anchor records 11 rows)" "$T/err" ||
	fail "anchored rollback: $(cat "$T/err")"

# A row edited to hold terminal escapes is shown without them.
c=$T/escape
cp -a "$H" "$c"
sqlite3 "$c/store.db" "$DROP UPDATE audit SET object = 'x' || char(27) || '[2J' WHERE seq = 3"
"$P" audit show --home "$c" >"$T/esc.out"
if grep -q $'\x1b' "$T/esc.out"; then fail "audit show printed an escape character"; fi
grep -qF 'x\x1b[2J' "$T/esc.out" || fail "the edited row is not shown: $(cat "$T/esc.out")"

# The original is still intact; a note with a control character is refused.
"$P" audit verify --home "$H" >/dev/null || fail "the original home was changed"
rc=0; "$P" audit note --home "$H" "$(printf 'a\tb')" 2>"$T/err" || rc=$?
[ $rc = 6 ] || fail "control character: exit $rc, want 6"
# No store: a clear message, no store created.
mkdir -m 700 "$T/empty"
if "$P" audit verify --home "$T/empty" 2>"$T/err"; then fail "verify without a store"; fi
grep -q "run 'pivstation init'" "$T/err" || fail "no-store message: $(cat "$T/err")"
[ ! -e "$T/empty/store.db" ] || fail "verify created a store"

echo "audit_tamper: ok ($n tampering cases)"
