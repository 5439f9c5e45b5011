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
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none
set -e

H=$TL_TMP/home
"$P" init --home "$H" >/dev/null
for i in 1 2 3 4 5 6 7 8 9; do
	"$P" audit note --home "$H" "note number $i" || tl_fail "audit note $i"
done
[ "$(sqlite3 "$H/store.db" 'SELECT count(*) FROM audit')" = 10 ] || tl_fail "expected 10 rows"
"$P" audit verify --home "$H" >"$TL_TMP/out" || tl_fail "verify of an intact log failed"
grep -q "audit log intact: 10 rows, head authenticated" "$TL_TMP/out" || tl_fail "verify said: $(cat "$TL_TMP/out")"
"$P" --json audit verify --home "$H" | jq -e '.ok and .rows == 10 and .head_authenticated and .head_file == "checked" and .store_rows == 0' \
	>/dev/null || tl_fail "verify --json"

# show
"$P" audit show --home "$H" --since 8 >"$TL_TMP/show"
[ "$(wc -l <"$TL_TMP/show")" = 2 ] || tl_fail "show --since 8: $(cat "$TL_TMP/show")"
grep -q "uid [0-9]* ([a-z0-9_-]*) .*note .*note number 9" "$TL_TMP/show" || tl_fail "show lacks the last note: $(cat "$TL_TMP/show")"
"$P" --json audit show --home "$H" --limit 3 | jq -e '.rows | length == 3 and .[0].seq == 1 and .[1].detail.text == "note number 1"' \
	>/dev/null || tl_fail "show --json --limit 3"
rc=0; "$P" audit show --home "$H" --since x 2>/dev/null || rc=$?
[ $rc = 2 ] || tl_fail "--since x: exit $rc, want 2"

DROP="DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"
n=0
# tamper SQL EXPECTED-MESSAGE-PART FIRST-BAD: a copy of the home edited with
# SQL; audit verify exits 7 naming the first bad row, also with --json
tamper() {
	local sql=$1 want=$2 first=$3 c rc=0
	n=$((n + 1)); c=$TL_TMP/case$n
	cp -a "$H" "$c"
	sqlite3 "$c/store.db" "$sql" || tl_fail "sqlite3: $sql"
	"$P" audit verify --home "$c" >"$c.out" 2>"$c.err" || rc=$?
	[ $rc = 7 ] || tl_fail "[$sql] exit $rc, want 7 ($(cat "$c.err"))"
	grep -qF -- "$want" "$c.err" || tl_fail "[$sql] message: $(cat "$c.err"), want: $want"
	"$P" --json audit verify --home "$c" >"$c.json" 2>/dev/null || true
	jq -e ".ok == false and .first_bad == $first" "$c.json" >/dev/null ||
		tl_fail "[$sql] --json: $(cat "$c.json"), want first_bad $first"
}
for col in "time = time + 1" "actor = 'mallory'" "action = 'x'" "object = 'y'" \
    "detail = '{\"text\":\"note number 0\"}'" "hash = zeroblob(32)"; do
	tamper "$DROP UPDATE audit SET $col WHERE seq = 6" "audit row 6: altered" 6
done
tamper "$DROP UPDATE audit SET prev_hash = zeroblob(32) WHERE seq = 6" "audit row 6: does not follow row 5" 6
tamper "$DROP DELETE FROM audit WHERE seq = 6" "audit row 6 is missing" 6
tamper "$DROP DELETE FROM audit WHERE seq = 6; UPDATE audit SET seq = seq - 1 WHERE seq > 6" \
	"audit row 6: does not follow row 5" 6
tamper "$DROP DELETE FROM audit WHERE seq = 10" "audit row 10 is missing: the log ends at row 9" 10
tamper "$DROP DELETE FROM audit WHERE seq >= 8" "audit row 8 is missing" 8
tamper "$DROP DELETE FROM audit WHERE seq = 10; UPDATE audit_head SET count = 9, hash = (SELECT hash FROM audit WHERE seq = 9)" \
	"audit head: its MAC is wrong" 9
tamper "UPDATE audit_head SET mac = zeroblob(32)" "audit head: its MAC is wrong" 10
# A row of a table the log describes, added behind pivstation's back: the
# certificate is named.  (Changing a certificate the log recorded is
# tested where one is issued: issue_usbkey.sh, and in test_audit.c.)
tamper "INSERT INTO certificates (device_id, slot, serial, pem, spki_sha256, not_before, not_after, status, created_at) \
VALUES (1, 154, '0a1b2c', 'x', zeroblob(32), 0, 0, 'active', 0)" \
	"certificates row 1 (cert:0a1b2c) is not in the audit log" 0

# The whole store rolled back to an older copy: the head file is ahead.
c=$TL_TMP/rollback
cp -a "$H" "$c"
cp "$c/store.db" "$TL_TMP/old.db"
"$P" audit note --home "$c" "after the copy"
cp "$TL_TMP/old.db" "$c/store.db"
rc=0; "$P" audit verify --home "$c" 2>"$TL_TMP/err" || rc=$?
[ $rc = 7 ] || tl_fail "rollback: exit $rc, want 7"
grep -q "audit row 11 is missing: the store was rolled back" "$TL_TMP/err" || tl_fail "rollback message: $(cat "$TL_TMP/err")"
# ... and worked with before anyone verified: the change is committed but
# the command fails, the head file is kept, verify still sees it.
c=$TL_TMP/rollback-written
cp -a "$TL_TMP/rollback" "$c"
rc=0
for n in 1 2 3; do "$P" audit note --home "$c" "cover $n" 2>"$TL_TMP/err" || rc=$?; done
[ $rc = 7 ] || tl_fail "rolled back and written to: exit $rc, want 7"
grep -q "the head file $c/audit.head records audit row 11, which the log holds with another hash: the store was rolled back" "$TL_TMP/err" ||
	tl_fail "rolled back and written to: $(cat "$TL_TMP/err")"
rc=0; "$P" audit verify --home "$c" 2>"$TL_TMP/err" || rc=$?
[ $rc = 7 ] || tl_fail "rolled back and written to, verify: exit $rc, want 7"
# ... and with its head file deleted too: a missing head is an error.
c=$TL_TMP/rollback-nohead
cp -a "$TL_TMP/rollback" "$c"
rm "$c/audit.head"
rc=0; "$P" audit verify --home "$c" 2>"$TL_TMP/err" || rc=$?
[ $rc = 7 ] || tl_fail "rollback, head deleted: exit $rc, want 7"
grep -q "the head file $c/audit.head is missing: the log has 10 rows" "$TL_TMP/err" ||
	tl_fail "rollback, head deleted: $(cat "$TL_TMP/err")"
# ... and written to before anyone verified: the new head file would make
# the log look whole; the change records the missing head in the log.
rc=0; "$P" audit note --home "$c" "cover" 2>"$TL_TMP/err" || rc=$?
[ $rc = 7 ] || tl_fail "rollback, head deleted, written to: exit $rc, want 7"
grep -q "the head file $c/audit.head was missing and the log had 10 rows before this change" "$TL_TMP/err" ||
	tl_fail "rollback, head deleted, written to: $(cat "$TL_TMP/err")"
"$P" audit show --home "$c" | grep -q 'audit.head_missing' ||
	tl_fail "no audit.head_missing row: $("$P" audit show --home "$c")"
# A head file put back from two transactions ago: more than a crash
# between commit and head write can explain.
c=$TL_TMP/head-behind
cp -a "$H" "$c"
cp "$c/audit.head" "$TL_TMP/head.old"
"$P" audit note --home "$c" "one" && "$P" audit note --home "$c" "two"
cp "$TL_TMP/head.old" "$c/audit.head"
rc=0; "$P" audit verify --home "$c" 2>"$TL_TMP/err" || rc=$?
[ $rc = 7 ] || tl_fail "head 2 behind: exit $rc, want 7"
grep -q "records 10 rows, 2 behind the log and more than its last transaction" "$TL_TMP/err" ||
	tl_fail "head 2 behind: $(cat "$TL_TMP/err")"
# One behind (a crash after the commit) is a note, not an error.
c=$TL_TMP/head-one-behind
cp -a "$H" "$c"
"$P" audit note --home "$c" "one"
cp "$TL_TMP/head.old" "$c/audit.head"
"$P" audit verify --home "$c" >"$TL_TMP/out" || tl_fail "head 1 behind: verify failed"
grep -q "note: the head file is 1 rows behind" "$TL_TMP/out" || tl_fail "head 1 behind: $(cat "$TL_TMP/out")"
# A head file that cannot be written: the change is committed, the command
# fails and says so.
c=$TL_TMP/head-unwritable
cp -a "$H" "$c"
rm "$c/audit.head"; mkdir "$c/audit.head"
rc=0; "$P" audit note --home "$c" "three" 2>"$TL_TMP/err" || rc=$?
[ $rc != 0 ] || tl_fail "head not written: exit 0"
grep -q "the store is committed, but the audit log's head could not be recorded outside it: $c/audit.head" "$TL_TMP/err" ||
	tl_fail "head not written: $(cat "$TL_TMP/err")"
# Store and head file put back together: only an anchor outside the home
# sees it ([audit] anchor, appended after every change and by checkpoint).
c=$TL_TMP/anchored
cp -a "$H" "$c"
sed -i "s|^anchor =.*|anchor = $TL_TMP/anchor|" "$c/pivstation.conf"
"$P" audit checkpoint --home "$c" >"$TL_TMP/out" || tl_fail "checkpoint"
grep -q "audit head checkpointed: 10 rows" "$TL_TMP/out" || tl_fail "checkpoint: $(cat "$TL_TMP/out")"
cp "$c/store.db" "$c/audit.head" "$TL_TMP/"
"$P" audit note --home "$c" "after the anchor"
[ "$(tail -n 1 "$TL_TMP/anchor" | cut -d' ' -f3)" = 11 ] || tl_fail "anchor after a note: $(tail -n 1 "$TL_TMP/anchor")"
[ "$(stat -c %a "$TL_TMP/anchor")" = 600 ] || tl_fail "anchor mode $(stat -c %a "$TL_TMP/anchor")"
cp "$TL_TMP/store.db" "$TL_TMP/audit.head" "$c/"
rc=0; "$P" audit verify --home "$c" 2>"$TL_TMP/err" || rc=$?
[ $rc = 7 ] || tl_fail "store and head put back, anchored: exit $rc, want 7"
grep -q "audit row 11 is missing: the store was rolled back (the log ends at row 10, the anchor $TL_TMP/anchor records 11 rows)" "$TL_TMP/err" ||
	tl_fail "anchored rollback: $(cat "$TL_TMP/err")"
# ... and written to before anyone verified: the anchor's last line now
# agrees with the rolled-back log; its earlier line for row 11 does not.
"$P" audit note --home "$c" "a note to cover the rollback"
rc=0; "$P" audit verify --home "$c" 2>"$TL_TMP/err" || rc=$?
[ $rc = 7 ] || tl_fail "rolled back and written to, anchored: exit $rc, want 7"
grep -q "audit row 11: differs from the anchor $TL_TMP/anchor (the log was rewritten, or rolled back and written to since)" "$TL_TMP/err" ||
	tl_fail "anchored rollback written to: $(cat "$TL_TMP/err")"

# A row edited to hold terminal escapes is shown without them.
c=$TL_TMP/escape
cp -a "$H" "$c"
sqlite3 "$c/store.db" "$DROP UPDATE audit SET object = 'x' || char(27) || '[2J' WHERE seq = 3"
"$P" audit show --home "$c" >"$TL_TMP/esc.out"
if grep -q $'\x1b' "$TL_TMP/esc.out"; then tl_fail "audit show printed an escape character"; fi
grep -qF 'x\x1b[2J' "$TL_TMP/esc.out" || tl_fail "the edited row is not shown: $(cat "$TL_TMP/esc.out")"

# The original is still intact; a note with a control character is refused.
"$P" audit verify --home "$H" >/dev/null || tl_fail "the original home was changed"
rc=0; "$P" audit note --home "$H" "$(printf 'a\tb')" 2>"$TL_TMP/err" || rc=$?
[ $rc = 6 ] || tl_fail "control character: exit $rc, want 6"
# No store: a clear message, no store created.
mkdir -m 700 "$TL_TMP/empty"
if "$P" audit verify --home "$TL_TMP/empty" 2>"$TL_TMP/err"; then tl_fail "verify without a store"; fi
grep -q "run 'pivstation init'" "$TL_TMP/err" || tl_fail "no-store message: $(cat "$TL_TMP/err")"
[ ! -e "$TL_TMP/empty/store.db" ] || tl_fail "verify created a store"

echo "audit_tamper: ok ($n tampering cases)"
