# shellcheck shell=bash disable=SC2034
# tests/sweep/issue_lib.sh: helpers for the tests that interrupt
# `pivstation issue` (tests/integ/issue_fault_sweep.sh, issue_resume.sh,
# issue_cancel.sh).  Source it after testlib.sh's tl_sandbox.  It is not a
# test itself (mk/check.sh runs tests/integ/ only).
#
#   iss_setup                 a station home template (tl_station: init,
#                             ca init), the identity, PIN and plain KRA key
#                             in $ISS_DIR (under $TL_TMP); ISS_PROFILE=piv-card
#                             (a card that cannot import: [escrow] policy =
#                             optional, 9D made on the card) or usb-key
#                             (default)
#   iss_home NAME             a fresh copy of the template: prints its path
#   iss_fresh_card SLOT ARG.. the vcard of SLOT again as a factory-fresh card
#                             (state file removed), with vcard options -v ARG..
#   iss_issue HOME SLOT LOG   run the issuance (PIN on stdin); exit status
#                             is pivstation's, output in LOG
#   iss_bg_issue HOME SLOT LOG  the same in the background; ISS_PID is set
#   iss_verify HOME SLOT      the store and the card after a completed
#                             issuance (see the function); prints what is
#                             wrong and fails
#   iss_apdus SLOT            the vcard's APDU count so far
#   iss_wait_log SLOT FROM RE  wait until the vcard log (with -v), from line
#                             FROM on, has a line matching RE (grep -E)
#
# Exit codes of pivstation (cli/main.c): 3 = reader or card gone.

ISS_PIN=24681357

iss_setup() {
	local policy=()
	ISS_DIR=$TL_TMP/issue
	mkdir -p "$ISS_DIR" || return 1
	if [ "${ISS_PROFILE:-usb-key}" = piv-card ]; then
		policy=(--set escrow.policy=optional)
	fi
	tl_station --home "$ISS_DIR/template" --alg p256 --env \
		--pass "issue fault passphrase" ${policy[@]+"${policy[@]}"}
	cp "$PV_ROOT/examples/identity.json" "$ISS_DIR/identity.json"
	openssl pkey -in "$ISS_DIR/template/ca/kra.key" -passin "file:$TL_PASS" \
		-out "$ISS_DIR/kra-plain.key" || return 1
	ISS_N_HOMES=0
}

iss_home() {
	ISS_N_HOMES=$((ISS_N_HOMES + 1))
	local h=$ISS_DIR/home-$1
	rm -rf "$h"
	cp -a "$ISS_DIR/template" "$h" && printf '%s\n' "$h"
}

iss_fresh_card() {
	local s=$1 st; shift
	st=$(vcardctl state "$s") || return 1
	vcardctl stop "$s" >/dev/null || return 1
	rm -f "$st"
	# vcardctl start keeps the sandbox's options when given none: -v
	# (one log line per APDU) is always there, so ARGs replace them.
	vcardctl start "$s" -v "$@" >/dev/null
}

iss_issue() {
	local h=$1 s=$2 log=$3
	printf '%s\n' "$ISS_PIN" | "$P" issue --home "$h" -r "$(vcardctl reader "$s")" \
		--identity "$ISS_DIR/identity.json" --pin-stdin >"$log" 2>&1
}

iss_bg_issue() {
	local h=$1 s=$2 log=$3 rd
	rd=$(vcardctl reader "$s")
	printf '%s\n' "$ISS_PIN" >"$ISS_DIR/pin.txt"
	"$P" issue --home "$h" -r "$rd" --identity "$ISS_DIR/identity.json" \
		--pin-stdin <"$ISS_DIR/pin.txt" >"$log" 2>&1 &
	ISS_PID=$!
}

iss_apdus() {
	vcardctl stats "$1" | sed -nE 's/.*"apdus":([0-9]+).*/\1/p'
}

iss_wait_log() {
	local s=$1 from=$2 re=$3 f n=0
	f=$PV_SANDBOX_DIR/card$s.log
	while ! tail -n "+$from" "$f" 2>/dev/null | grep -Eq -- "$re"; do
		n=$((n + 1))
		[ $n -gt 3000 ] && return 1	# 30 s
		sleep 0.01
	done
}

# SQL against a home's store, one value per line.
iss_sql() { sqlite3 -batch -noheader "$1/store.db" "$2"; }

# SHA-256 (hex) of the SubjectPublicKeyInfo of a PEM certificate or key.
iss_spki_sha() {
	case $2 in
	cert) openssl x509 -in "$1" -noout -pubkey ;;
	key) openssl pkey -in "$1" -inform DER -pubout ;;
	esac | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1
}

iss_fail() { printf '%s\n' "$*" >&2; return 1; }

#
# iss_verify HOME SLOT: after an issuance that completed,
#  - the store: one issue job, done, none running; one device, active; per
#    slot 9A 9C 9D 9E exactly one active certificate and nothing else live;
#    exactly one current 9D escrow envelope (none on a piv-card: its 9D key
#    is made on the card) and one current PUK envelope; no key or PUK
#    escrowed twice; `audit verify` passes;
#  - the card: each of the four certificates is the store's active one
#    (yubico-piv-tool fingerprints), CHUID and CCC present;
#  - escrow: the current 9D envelope opens with the KRA key (openssl cms)
#    to the private key of the card's 9D certificate; the current PUK
#    envelope opens to the card's PUK (CHANGE REFERENCE PUK to itself);
#  - the keys: the person's PIN verifies, 9A 9C 9E sign and 9D decrypts,
#    each checked against its certificate (yubico-piv-tool test-*).
#
iss_verify() {
	local h=$1 s=$2 w rd v want slot sha fp kra_out
	w=$(mktemp -d "$ISS_DIR/verify.XXXXXX")
	rd=$(vcardctl reader "$s")

	# One query for the store's facts, against the one expected line.
	v=$(iss_sql "$h" "SELECT
	  'jobs=' || (SELECT count(*) || '/' || total(state = 'done') FROM jobs
	    WHERE kind = 'issue') ||
	  ' running=' || (SELECT count(*) FROM jobs WHERE state = 'running') ||
	  ' devices=' || (SELECT count(*) || '/' || total(status = 'active')
	    FROM devices) ||
	  ' active=' || (SELECT group_concat(x, ',') FROM (SELECT printf('%X:%d',
	    slot, count(*)) AS x FROM certificates WHERE status = 'active'
	    GROUP BY device_id, slot ORDER BY device_id, slot)) ||
	  ' other=' || (SELECT count(*) FROM certificates WHERE status NOT IN
	    ('active', 'revoked')) ||
	  ' esc9d=' || (SELECT count(*) FROM escrow WHERE kind = '9d-key' AND
	    current = 1) ||
	  ' escpuk=' || (SELECT count(*) FROM escrow WHERE kind = 'puk' AND
	    current = 1) ||
	  ' twice=' || (SELECT count(*) FROM (SELECT 1 FROM escrow GROUP BY kind,
	    fingerprint HAVING count(*) > 1)) ||
	  ' esc-is-9d=' || (SELECT count(*) FROM escrow e JOIN certificates c ON
	    c.device_id = e.device_id AND c.slot = 157 AND c.status = 'active' AND
	    c.spki_sha256 = e.fingerprint WHERE e.kind = '9d-key' AND
	    e.current = 1)")
	want='jobs=1/1.0 running=0 devices=1/1.0 active=9A:1,9C:1,9D:1,9E:1 other=0 esc9d=1 escpuk=1 twice=0 esc-is-9d=1'
	[ "${ISS_PROFILE:-usb-key}" = piv-card ] &&
		want='jobs=1/1.0 running=0 devices=1/1.0 active=9A:1,9C:1,9D:1,9E:1 other=0 esc9d=0 escpuk=1 twice=0 esc-is-9d=0'
	[ "$v" = "$want" ] || iss_fail "store: $v
  want: $want" || return 1
	iss_sql "$h" "SELECT writefile('$w/' || lower(printf('%X', slot)) || '.pem', pem)
	    FROM certificates WHERE status = 'active';
	  SELECT writefile('$w/' || (CASE kind WHEN 'puk' THEN 'puk' ELSE '9d'
	    END) || '.cms', cms) FROM escrow WHERE current = 1" >/dev/null
	"$P" audit verify --home "$h" >"$w/audit" 2>&1 ||
		iss_fail "audit verify: $(cat "$w/audit")" || return 1

	# The card holds the store's active certificates.
	yubico-piv-tool -r "$rd" -a status >"$w/status" 2>&1 ||
		iss_fail "yubico-piv-tool status: $(tail -3 "$w/status")" || return 1
	grep -q '^CHUID:.*[0-9a-f]' "$w/status" && grep -q '^CCC:.*[0-9a-f]' "$w/status" ||
		iss_fail "card: no CHUID or CCC" || return 1
	for slot in 9a 9c 9d 9e; do
		sha=$(openssl x509 -in "$w/$slot.pem" -outform DER | sha256sum | cut -d' ' -f1)
		fp=$(sed -n "/^Slot $slot:/,/^Slot\|^PIN/p" "$w/status" |
			sed -nE 's/^\s*Fingerprint:\s*([0-9a-f]+).*/\1/p')
		[ -n "$fp" ] && [ "$fp" = "$sha" ] ||
			iss_fail "card: slot $slot certificate '$fp' is not the store's active one ($sha)" || return 1
	done

	# Escrow opens to the card's key and PUK.
	if [ "${ISS_PROFILE:-usb-key}" != piv-card ]; then
		kra_out=$(openssl cms -decrypt -inform DER -in "$w/9d.cms" -recip "$h/ca/kra.crt" \
			-inkey "$ISS_DIR/kra-plain.key" -out "$w/9d.p8" 2>&1) ||
			iss_fail "openssl cms -decrypt (9D): $kra_out" || return 1
		[ "$(iss_spki_sha "$w/9d.p8" key)" = "$(iss_spki_sha "$w/9d.pem" cert)" ] ||
			iss_fail "escrow: the recovered 9D key is not the card's" || return 1
	fi
	openssl cms -decrypt -inform DER -in "$w/puk.cms" -recip "$h/ca/kra.crt" \
		-inkey "$ISS_DIR/kra-plain.key" -out "$w/puk" 2>/dev/null ||
		iss_fail "openssl cms -decrypt (PUK)" || return 1
	v=$(cat "$w/puk")
	[[ $v =~ ^[0-9]{8}$ ]] || iss_fail "escrow: the PUK envelope holds no 8-digit PUK" || return 1
	yubico-piv-tool -r "$rd" -a change-puk -P "$v" -N "$v" >"$w/puk.out" 2>&1 ||
		iss_fail "card: the escrowed PUK is not the card's: $(tail -2 "$w/puk.out")" || return 1

	# Keys: PIN, then a signature or decryption per slot against its certificate.
	for slot in 9a 9c 9d 9e; do
		v=test-signature
		[ $slot = 9d ] && v=test-decipher
		yubico-piv-tool -r "$rd" -a verify-pin -P "$ISS_PIN" -a $v -s $slot \
			-i "$w/$slot.pem" >"$w/keys.out" 2>&1 ||
			iss_fail "card key $slot ($v): $(tail -3 "$w/keys.out")" || return 1
	done
	rm -rf "$w"
}
