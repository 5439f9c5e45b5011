#!/usr/bin/env bash
# console_helpdesk.sh: the help desk, audit, diagnostics and derive
# screens of `pivstation console` (tmux, PIN-pad readers):
#  - a blocked PIN unblocked with the escrowed PUK, the cardholder typing
#    the new PIN on the pad (yubico-piv-tool then verifies it);
#  - suspend and resume (certificates on hold and back), with reasons in
#    the audit log;
#  - the encryption key recovered to a PKCS#12 under dual control: a
#    card that is no operator's cannot be the second one, another help
#    desk operator's card and PIN let it through; the file is 0600 and
#    holds the key of the card's 9D certificate (openssl);
#  - terminate (every certificate revoked);
#  - the audit screen filtered by operator, and verified;
#  - the diagnostics of the card in a reader; the derive screen's place;
#  - reissue opens the issue form for the person, reissue set.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --pinpad --card 0:usb-key --card 1:usb-key \
		--card 2:usb-key -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
unset PIVSTATION_HOME PIVSTATION_CA_PASSPHRASE PIVSTATION_KRA_PASSPHRASE
. "$ROOT/tests/sandbox/console_lib.sh"
trap 'cl_stop; rm -rf "$TL_TMP"' EXIT
sqlq() { sqlite3 "$H/store.db" "$1"; }
Y() { local s=$1; shift; yubico-piv-tool -r "$(vcardctl reader "$s")" "$@"; }

check "station with an operator card in slot 0" cl_station
jq -n '{given_name: "Frank", family_name: "Forgetful", person_id: "0000000006",
	affiliation: "Employee"}' >frank.json
check "Frank's card in slot 1" cl_issue 1 frank.json 13579246
jq -n '{given_name: "Henry", family_name: "Helper", person_id: "0000000008",
	affiliation: "Employee"}' >henry.json
check "Henry's card in slot 2" cl_issue 2 henry.json 86420864
check "the CRL knows Henry's card" "$P" ca crl --home "$H" --passphrase-file pass
check "Henry is a help desk operator" "$P" operator add henry --role help-desk \
	--home "$H" -r 2
for i in 1 2 3; do Y 1 -a verify-pin -P 00000000 >/dev/null 2>&1; done
check_fails_out "Frank's PIN is blocked" 'blocked' Y 1 -a verify-pin -P 13579246
FRANK_DEV=$(sqlq "select d.id from devices d join people p on p.id = d.person_id where p.person_id = '0000000006'")

check "tmux at 80x24" cl_start 80 24
cl_console
cl_wait "the sign-in screen" "Operator sign-in"
cl_type "$OP_PIN"; cl_keys Enter
cl_wait "signed in" "Signed in as olivia"

# ---- unblock ----------------------------------------------------------------------------
cl_keys F3
cl_wait "the help desk: Frank's card at the desk" "Forgetful, Frank +person_id 0000000006"
cl_wait "... its PIN blocked" "PIN: BLOCKED"
check "Frank will type a new PIN on the pad, twice" vcardctl pinpad 1 97979797
cl_keys u
cl_wait "unblocking" "Unblocking the PIN of Forgetful, Frank" 20
cl_wait "unblocked with the escrowed PUK" "PIN unblocked: job [0-9]+" 120
check "the card takes the new PIN" Y 1 -a verify-pin -P 97979797
check_out "audited: pin.unblock by olivia" "^olivia\|pin\.unblock\|device:$FRANK_DEV$" \
	sqlq "select actor||'|'||action||'|'||object from audit where action = 'pin.unblock'"
cl_keys Escape
cl_wait "back at the help desk" "Forgetful, Frank +person_id"

# ---- suspend and resume ----------------------------------------------------------------------
cl_keys s
cl_wait "the reason is asked" "The reason, for the audit log"
cl_type "badge left at home"; cl_keys Enter
cl_wait "suspended" "active -> suspended \(4 certificates\)" 30
check_out "the certificates are on hold" '^on-hold$' \
	sqlq "select group_concat(distinct status) from certificates where device_id = $FRANK_DEV"
cl_keys r
cl_type "badge found"; cl_keys Enter
cl_wait "resumed" "suspended -> active \(4 certificates\)" 30
check_out "the reasons are audited" 'badge left at home.*badge found' \
	bash -c "sqlite3 '$H/store.db' \"select group_concat(detail, ' ') from audit where action in ('device.suspend', 'device.resume') order by seq\""

# ---- key recovery under dual control -------------------------------------------------------------
cl_keys k
cl_wait "a reason is asked first" "The reason, for the audit log"
cl_keys Enter
cl_wait "... and required" "a reason is required" 5
cl_type "subpoena 2026-117"; cl_keys Enter
cl_wait "the PKCS#12 file is asked" "The PKCS#12 file to write"
cl_keys C-u; cl_type "$TL_TMP/same.p12"; cl_keys Enter
cl_wait "its passphrase" "A passphrase for the file"
cl_type "recovery pass 1"; cl_keys Enter; cl_type "recovery pass 1"; cl_keys Enter
cl_wait "a second operator is asked for" "Second operator \(dual control\)"
cl_cycle "Frank's card (no operator's) chosen" "Reader: Virtual PCD 00 01" Down
cl_type 97979797; cl_keys Enter
cl_wait "a card that is no operator's cannot co-sign" "is not an operator's card" 60
check "... and nothing was written" test ! -e same.p12
cl_keys k
cl_wait "a reason is asked" "The reason, for the audit log"
cl_type "subpoena 2026-117"; cl_keys Enter
cl_wait "the PKCS#12 file is asked" "The PKCS#12 file to write"
cl_keys C-u; cl_type "$TL_TMP/frank.p12"; cl_keys Enter
cl_type "recovery pass 1"; cl_keys Enter; cl_type "recovery pass 1"; cl_keys Enter
cl_wait "a second operator is asked for" "Second operator \(dual control\)"
cl_cycle "Henry's reader chosen" "Reader: Virtual PCD 2 00 00" Down
cl_type 86420864; cl_keys Enter
cl_wait "recovered" "the encryption key of person 0000000006 is in" 60
cl_wait "... co-signed by henry" "second operator henry" 5
check_out "the file is 0600" '^600$' stat -c %a frank.p12
openssl pkcs12 -in frank.p12 -passin pass:"recovery pass 1" -nodes -out frank.pem 2>/dev/null
check "openssl opens it" test -s frank.pem
sqlq "select pem from certificates where device_id = $FRANK_DEV and slot = 157 and status = 'active'" >c9d.pem
check_out "its key is the 9D certificate's" '^same$' bash -c "
	a=\$(openssl pkey -in frank.pem -pubout 2>/dev/null | sha256sum)
	b=\$(openssl x509 -in c9d.pem -pubkey -noout | sha256sum)
	[ \"\$a\" = \"\$b\" ] && echo same"
check_out "audited: henry's card co-signed, olivia recovered, with the reason" \
	'^olivia\|escrow\.dual-control\|.*henry.*olivia\|escrow\.recover\|.*subpoena 2026-117' \
	bash -c "sqlite3 '$H/store.db' \"select group_concat(actor||'|'||action||'|'||detail, ' ') from audit where action in ('escrow.dual-control', 'escrow.recover') order by seq\""
check_out "no recovery row for the refused co-signer's attempt" '^1$' \
	sqlq "select count(*) from audit where action like 'escrow.recover%'"
check_out "henry's sign-in for it is audited under henry" '^henry\|operator\.signin' \
	sqlq "select actor||'|'||action from audit where actor = 'henry' and action = 'operator.signin'"

# ---- reissue -------------------------------------------------------------------------------------------
cl_keys e
cl_wait "reissue: the form for Frank" "person_id \* +0000000006"
cl_wait "... reissue set" "< yes: a card not blank is issued again >"
cl_keys Escape

# ---- terminate -----------------------------------------------------------------------------------------
cl_keys F3
cl_wait "the help desk" "Forgetful, Frank +person_id"
cl_keys t
cl_type "left the agency"; cl_keys Enter
cl_wait "confirm" "Terminate for good"
cl_keys y
cl_wait "terminated" "active -> terminated \(4 certificates\)" 30
check_out "every certificate revoked" '^revoked$' \
	sqlq "select group_concat(distinct status) from certificates where device_id = $FRANK_DEV"

# ---- audit ----------------------------------------------------------------------------------------------
cl_keys F4
cl_wait "the audit screen" "Filter: none"
cl_keys /
cl_type "operator:henry"; cl_keys Enter
cl_wait "filtered by operator" "Filter: operator:henry"
cl_wait "henry's sign-in row" "henry +operator\.signin"
cl_gone "no row of olivia's" "olivia +(cert|device|pin)\." 10
cl_keys v
cl_wait "verify: intact" "audit log intact: [0-9]+ rows, head authenticated" 60
# The registry is read at each action: an operator disabled meanwhile acts
# no more, and the log is not called broken for it.
check "olivia is disabled from the command line" "$P" operator disable olivia \
	--reason "moved to another office" --home "$H"
cl_keys v
cl_wait "a disabled operator is refused" "not verified: operator 'olivia' was disabled" 30
check "olivia is enabled again" "$P" operator enable olivia --reason "back" \
	--home "$H"

# ---- diagnostics, derive ------------------------------------------------------------------------------
cl_keys F5
cl_wait "the diagnostics screen" "Enter reads the card"
cl_cycle "reader 2 chosen" "Reader: < Virtual PCD 2 00 00 >" Right
cl_keys Enter
cl_wait "the card's facts" "[0-9]+ facts read" 60
cl_wait "... its PIV application" "firmware +5\.[0-9]+\.[0-9]+" 5
cl_cycle "... PgDn scrolls to its card UUID" "card UUID +[0-9a-f]{8}-" NPage
cl_keys F6
cl_wait "the derive screen's place" "does not derive credentials yet" 10

cl_keys F10
cl_wait "F10 quits" "console-exit=0" 30
check "audit verify passes" "$P" audit verify --home "$H"
tl_done
