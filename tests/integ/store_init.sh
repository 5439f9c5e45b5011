#!/usr/bin/env bash
# store_init.sh: `pivstation init` sets up a station home: folder 0700,
# files 0600 whatever the umask, the documented default configuration (the
# same bytes as examples/pivstation.conf), a 32-byte master secret that a
# second run never replaces, and a store in WAL mode at the current schema
# version.  Bad homes, configurations and secret files are refused with a
# message that says what to do.  Talks to no card: no pcsc sandbox needed.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none
set -e
mode() { stat -c %a "$1"; }

# A fresh home, under a permissive umask.
H=$TL_TMP/a/b/home
(umask 000; "$P" init --home "$H" >"$TL_TMP/out1") || tl_fail "init failed"
grep -q "station home   $H (created)" "$TL_TMP/out1" || tl_fail "no 'created' line: $(cat "$TL_TMP/out1")"
grep -q "master secret  $H/master.key (created)" "$TL_TMP/out1" || tl_fail "secret not created"
[ "$(mode "$H")" = 700 ] || tl_fail "home mode $(mode "$H")"
for f in pivstation.conf master.key store.db audit.head; do
	[ -f "$H/$f" ] || tl_fail "$f missing"
	[ "$(mode "$H/$f")" = 600 ] || tl_fail "$f mode $(mode "$H/$f")"
done
[ "$(stat -c %s "$H/master.key")" = 32 ] || tl_fail "master secret is not 32 bytes"
cmp -s "$H/pivstation.conf" "$PV_ROOT/examples/pivstation.conf" || tl_fail "default config differs from the example"
"$P" init --print-config | cmp -s - "$PV_ROOT/examples/pivstation.conf" || tl_fail "--print-config differs"
"$P" --json version | jq -e --arg v "$(cat "$PV_ROOT/VERSION")" '.name == "pivstation" and .version == $v' \
	>/dev/null || tl_fail "version --json: $("$P" --json version)"
grep -q '^policy = required$' "$H/pivstation.conf" || tl_fail "config lacks the escrow policy"

# The store: WAL, schema version 7, the tables the issuance flow uses.
[ "$(sqlite3 "$H/store.db" 'PRAGMA journal_mode')" = wal ] || tl_fail "not WAL"
[ "$(sqlite3 "$H/store.db" 'SELECT version FROM schema_version')" = 7 ] || tl_fail "schema version"
for t in people devices certificates escrow jobs job_steps credential_numbers counters operators derived activations batches batch_rows audit audit_head; do
	[ "$(sqlite3 "$H/store.db" "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='$t'")" = 1 ] ||
		tl_fail "table $t missing"
done
[ "$(sqlite3 "$H/store.db" "SELECT count(*) FROM sqlite_schema WHERE name='certificates_one_live_per_slot' AND sql LIKE '%UNIQUE%WHERE%'")" = 1 ] ||
	tl_fail "no partial unique index on certificates"

# Idempotent: everything kept, the secret unchanged.
sum1=$(sha256sum <"$H/master.key")
"$P" --json init --home "$H" >"$TL_TMP/out2" || tl_fail "second init failed"
jq -e '.home_state == "kept" and .config == "kept" and .master_secret == "kept" and .store == "kept" and .schema_version == 7' \
	"$TL_TMP/out2" >/dev/null || tl_fail "second init: $(cat "$TL_TMP/out2")"
[ "$(sha256sum <"$H/master.key")" = "$sum1" ] || tl_fail "the master secret changed"
[ "$(sqlite3 "$H/store.db" 'SELECT count(*) FROM audit')" = 1 ] || tl_fail "a second init wrote to the audit log"

# $PIVSTATION_HOME, and --home after the command.
PIVSTATION_HOME=$TL_TMP/env "$P" init >/dev/null || tl_fail "init with PIVSTATION_HOME"
[ -f "$TL_TMP/env/master.key" ] || tl_fail "PIVSTATION_HOME not used"
"$P" init --home "$TL_TMP/opt" >/dev/null && [ -f "$TL_TMP/opt/store.db" ] || tl_fail "--home after the command"

# Refusals.
mkdir -m 755 "$TL_TMP/open"
if "$P" init --home "$TL_TMP/open" 2>"$TL_TMP/err"; then tl_fail "accepted a 0755 home"; fi
grep -q "chmod 700" "$TL_TMP/err" || tl_fail "no advice for an open home: $(cat "$TL_TMP/err")"

cp -r "$H" "$TL_TMP/badconf" && chmod 700 "$TL_TMP/badconf"
printf '[escrow]\npolicy = maybe\n' >"$TL_TMP/badconf/pivstation.conf"
rc=0; "$P" init --home "$TL_TMP/badconf" 2>"$TL_TMP/err" || rc=$?
[ $rc = 6 ] || tl_fail "bad config: exit $rc, want 6"
grep -qF "pivstation.conf:2: [escrow] policy: expected 'required' or 'optional', got 'maybe'" "$TL_TMP/err" ||
	tl_fail "bad config message: $(cat "$TL_TMP/err")"

cp -r "$H" "$TL_TMP/badkey" && chmod 700 "$TL_TMP/badkey"
chmod 644 "$TL_TMP/badkey/master.key"
if "$P" init --home "$TL_TMP/badkey" 2>"$TL_TMP/err"; then tl_fail "accepted a 0644 master secret"; fi
grep -q "chmod 600" "$TL_TMP/err" || tl_fail "no advice for an open secret: $(cat "$TL_TMP/err")"

cp -r "$H" "$TL_TMP/shortkey" && chmod 700 "$TL_TMP/shortkey"
head -c 16 /dev/urandom >"$TL_TMP/shortkey/master.key"
if "$P" init --home "$TL_TMP/shortkey" 2>"$TL_TMP/err"; then tl_fail "accepted a 16-byte master secret"; fi
grep -q "32 bytes" "$TL_TMP/err" || tl_fail "short secret message: $(cat "$TL_TMP/err")"

# A store from a newer pivstation is refused, not downgraded.
cp -r "$H" "$TL_TMP/newer" && chmod 700 "$TL_TMP/newer"
sqlite3 "$TL_TMP/newer/store.db" 'UPDATE schema_version SET version = 99'
if "$P" init --home "$TL_TMP/newer" 2>"$TL_TMP/err"; then tl_fail "accepted schema version 99"; fi
grep -q "use a newer pivstation" "$TL_TMP/err" || tl_fail "newer schema message: $(cat "$TL_TMP/err")"

echo "store_init: ok"
