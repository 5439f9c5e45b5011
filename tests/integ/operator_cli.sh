#!/usr/bin/env bash
# operator_cli.sh: who acts at the station.  Operators are registered with
# roles; an unregistered or disabled name, or one with control
# characters, is refused before anything is written; a role that does not
# allow an action is refused by name; the audit log records the operator,
# or the account ("uid N (name)") when none is named.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none
export PIVSTATION_CA_PASSPHRASE="operator ca passphrase"
H=$TL_TMP/home
rows() { sqlite3 "$H/store.db" 'SELECT count(*) FROM audit'; }
as() { local who=$1; shift; PIVSTATION_OPERATOR=$who "$P" "$@" --home "$H"; }

check_out "init registers the first administrator" 'administrator +boss \(created\)' \
	"$P" init --home "$H" --admin boss
check "ca init by the administrator" as boss ca init --alg p256
check_out "operator add clerk (enroller)" 'operator clerk added \(enroller\)' \
	as boss operator add clerk --role enroller
check_out "operator add desk (help-desk)" 'added \(help-desk\)' \
	as boss operator add desk --role help-desk
check_out "list" 'clerk +enroller +enabled' as boss operator list
check "list --json" sh -c "PIVSTATION_OPERATOR=boss '$P' operator list --json --home '$H' |
	jq -e '[.operators[].name] == [\"boss\", \"clerk\", \"desk\"]'"

# An unvetted name never reaches the log.
before=$(rows)
check_fails_out "an unregistered operator is refused" "operator 'mallory' is not registered" \
	as mallory audit note "hello"
as mallory audit note hello >/dev/null 2>&1; rc=$?
check "... as bad input (exit $rc)" test $rc = 6
check_fails_out "control characters in the name are refused" "not printable" \
	as "$(printf 'evil\033[2Jx')" audit note hello
check "nothing was written" test "$(rows)" = "$before"

# Roles.
check_fails_out "an enroller may not publish the CRL" "may not run the certification authority: only administrator" \
	as clerk ca crl
check_fails_out "an enroller may not add operators" "only administrator" \
	as clerk operator add other --role enroller
check_fails_out "an enroller may not cancel jobs" "only help desk or administrator" \
	as clerk job cancel 1 --reason lost
check_out "the help desk may (no such job: bad input)" "no job 1" \
	sh -c "PIVSTATION_OPERATOR=desk '$P' job cancel 1 --reason lost --home '$H' 2>&1; true"
check "an enroller may add a note" as clerk audit note "shift start"

# Disabled.
check_fails "disable needs a reason" as boss operator disable clerk
check_out "disable clerk" 'clerk: enroller, disabled' as boss operator disable clerk --reason "left"
check_fails_out "a disabled operator is refused" "operator 'clerk' is disabled" \
	as clerk audit note "again"
check_out "enable clerk" 'enabled' as boss operator enable clerk --reason "back"
check_out "set-role" 'clerk: help-desk' as boss operator set-role clerk help-desk --reason "moved"

# Who the log says acted.
check_out "audit rows name the operators" 'boss .*operator\.add .*operator:clerk' as boss audit show
check_out "... and the account when none is named" "uid $(id -u) \($(id -un)\) .*store\.create" \
	"$P" audit show --home "$H"
check "audit verify passes" as boss audit verify
tl_done
