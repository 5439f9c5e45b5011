#!/usr/bin/env bash
# store_init.sh: `pivstation init` sets up a station home: folder 0700,
# files 0600 whatever the umask, the documented default configuration (the
# same bytes as examples/pivstation.conf), a 32-byte master secret that a
# second run never replaces, and a store in WAL mode at the current schema
# version.  Bad homes, configurations and secret files are refused with a
# message that says what to do.  Talks to no card: no pcsc sandbox needed.
set -euo pipefail
B=${PV_BIN:?PV_BIN: the build directory}
R=${PV_ROOT:?PV_ROOT: the repository root}
P=$B/pivstation
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mode() { stat -c %a "$1"; }
unset PIVSTATION_HOME

# A fresh home, under a permissive umask.
H=$T/a/b/home
(umask 000; "$P" init --home "$H" >"$T/out1") || fail "init failed"
grep -q "station home   $H (created)" "$T/out1" || fail "no 'created' line: $(cat "$T/out1")"
grep -q "master secret  $H/master.key (created)" "$T/out1" || fail "secret not created"
[ "$(mode "$H")" = 700 ] || fail "home mode $(mode "$H")"
for f in pivstation.conf master.key store.db audit.head; do
	[ -f "$H/$f" ] || fail "$f missing"
	[ "$(mode "$H/$f")" = 600 ] || fail "$f mode $(mode "$H/$f")"
done
[ "$(stat -c %s "$H/master.key")" = 32 ] || fail "master secret is not 32 bytes"
cmp -s "$H/pivstation.conf" "$R/examples/pivstation.conf" || fail "default config differs from the example"
"$P" init --print-config | cmp -s - "$R/examples/pivstation.conf" || fail "--print-config differs"
grep -q '^policy = required$' "$H/pivstation.conf" || fail "config lacks the escrow policy"

# The store: WAL, schema version 5, the tables the issuance flow uses.
[ "$(sqlite3 "$H/store.db" 'PRAGMA journal_mode')" = wal ] || fail "not WAL"
[ "$(sqlite3 "$H/store.db" 'SELECT version FROM schema_version')" = 5 ] || fail "schema version"
for t in people devices certificates escrow jobs job_steps credential_numbers counters operators audit audit_head; do
	[ "$(sqlite3 "$H/store.db" "SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='$t'")" = 1 ] ||
		fail "table $t missing"
done
[ "$(sqlite3 "$H/store.db" "SELECT count(*) FROM sqlite_schema WHERE name='certificates_one_live_per_slot' AND sql LIKE '%UNIQUE%WHERE%'")" = 1 ] ||
	fail "no partial unique index on certificates"

# Idempotent: everything kept, the secret unchanged.
sum1=$(sha256sum <"$H/master.key")
"$P" --json init --home "$H" >"$T/out2" || fail "second init failed"
jq -e '.home_state == "kept" and .config == "kept" and .master_secret == "kept" and .store == "kept" and .schema_version == 5' \
	"$T/out2" >/dev/null || fail "second init: $(cat "$T/out2")"
[ "$(sha256sum <"$H/master.key")" = "$sum1" ] || fail "the master secret changed"
[ "$(sqlite3 "$H/store.db" 'SELECT count(*) FROM audit')" = 1 ] || fail "a second init wrote to the audit log"

# $PIVSTATION_HOME, and --home after the command.
PIVSTATION_HOME=$T/env "$P" init >/dev/null || fail "init with PIVSTATION_HOME"
[ -f "$T/env/master.key" ] || fail "PIVSTATION_HOME not used"
"$P" init --home "$T/opt" >/dev/null && [ -f "$T/opt/store.db" ] || fail "--home after the command"

# Refusals.
mkdir -m 755 "$T/open"
if "$P" init --home "$T/open" 2>"$T/err"; then fail "accepted a 0755 home"; fi
grep -q "chmod 700" "$T/err" || fail "no advice for an open home: $(cat "$T/err")"

cp -r "$H" "$T/badconf" && chmod 700 "$T/badconf"
printf '[escrow]\npolicy = maybe\n' >"$T/badconf/pivstation.conf"
rc=0; "$P" init --home "$T/badconf" 2>"$T/err" || rc=$?
[ $rc = 6 ] || fail "bad config: exit $rc, want 6"
grep -qF "pivstation.conf:2: [escrow] policy: expected 'required' or 'optional', got 'maybe'" "$T/err" ||
	fail "bad config message: $(cat "$T/err")"

cp -r "$H" "$T/badkey" && chmod 700 "$T/badkey"
chmod 644 "$T/badkey/master.key"
if "$P" init --home "$T/badkey" 2>"$T/err"; then fail "accepted a 0644 master secret"; fi
grep -q "chmod 600" "$T/err" || fail "no advice for an open secret: $(cat "$T/err")"

cp -r "$H" "$T/shortkey" && chmod 700 "$T/shortkey"
head -c 16 /dev/urandom >"$T/shortkey/master.key"
if "$P" init --home "$T/shortkey" 2>"$T/err"; then fail "accepted a 16-byte master secret"; fi
grep -q "32 bytes" "$T/err" || fail "short secret message: $(cat "$T/err")"

# A store from a newer pivstation is refused, not downgraded.
cp -r "$H" "$T/newer" && chmod 700 "$T/newer"
sqlite3 "$T/newer/store.db" 'UPDATE schema_version SET version = 99'
if "$P" init --home "$T/newer" 2>"$T/err"; then fail "accepted schema version 99"; fi
grep -q "use a newer pivstation" "$T/err" || fail "newer schema message: $(cat "$T/err")"

echo "store_init: ok"
