# tests/sandbox/testlib.sh: helpers for integration tests that run inside
# tests/sandbox/run.  Source it: . "$PV_ROOT/tests/sandbox/testlib.sh"
#
#   check DESC CMD...        run CMD, print "ok - DESC" or fail the test
#   check_out DESC PATTERN CMD...  ... and require PATTERN (grep -E) in its output
#   check_fails DESC CMD...  CMD must fail
#   check_fails_out DESC PATTERN CMD...  CMD must fail and print PATTERN
#   tl_workdir               a scratch directory removed at exit ($TL_TMP)
#   tl_ca                    a test CA ($TL_TMP/ca.key, ca.pem)
#   tl_cert PUB.pem CN OUT.pem [EXT]  certificate for a public key, by the CA
#   tl_pub_from_7f49 HEX OUT.pem  public key from a GENERATE response
#   tl_apdu_hex              hex bytes of a piv-tool/opensc-tool response dump
#   tl_admin_key             file with the default 3DES key for piv-tool
#                            (PIV_EXT_AUTH_KEY)
# Every helper prints what it runs when TL_VERBOSE=1.

set -uo pipefail
TL_FAILS=0
TL_CHECKS=0

tl_log() { printf '%s\n' "$*" >&2; }

check() {
	local desc=$1; shift
	TL_CHECKS=$((TL_CHECKS + 1))
	local out
	if out=$("$@" 2>&1); then
		tl_log "ok - $desc"
	else
		tl_log "not ok - $desc"
		tl_log "  command: $*"
		printf '%s\n' "$out" | tail -20 | sed 's/^/  | /' >&2
		TL_FAILS=$((TL_FAILS + 1))
		return 1
	fi
}

check_out() {
	local desc=$1 pat=$2; shift 2
	TL_CHECKS=$((TL_CHECKS + 1))
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ $rc -eq 0 ] && grep -Eq -- "$pat" <<<"$out"; then
		tl_log "ok - $desc"
	else
		tl_log "not ok - $desc (exit $rc, wanted /$pat/)"
		tl_log "  command: $*"
		printf '%s\n' "$out" | tail -20 | sed 's/^/  | /' >&2
		TL_FAILS=$((TL_FAILS + 1))
		return 1
	fi
}

check_fails() {
	local desc=$1; shift
	TL_CHECKS=$((TL_CHECKS + 1))
	local out
	if out=$("$@" 2>&1); then
		tl_log "not ok - $desc (succeeded, expected failure)"
		printf '%s\n' "$out" | tail -10 | sed 's/^/  | /' >&2
		TL_FAILS=$((TL_FAILS + 1))
		return 1
	fi
	tl_log "ok - $desc"
}

check_fails_out() {
	local desc=$1 pat=$2; shift 2
	TL_CHECKS=$((TL_CHECKS + 1))
	local out rc
	out=$("$@" 2>&1); rc=$?
	if [ $rc -ne 0 ] && grep -Eq -- "$pat" <<<"$out"; then
		tl_log "ok - $desc"
	else
		tl_log "not ok - $desc (exit $rc, wanted failure and /$pat/)"
		tl_log "  command: $*"
		printf '%s\n' "$out" | tail -20 | sed 's/^/  | /' >&2
		TL_FAILS=$((TL_FAILS + 1))
		return 1
	fi
}

# tl_done: summary line and exit status for the test script.
tl_done() {
	tl_log "# $TL_CHECKS checks, $TL_FAILS failed"
	[ "$TL_CHECKS" -gt 0 ] && [ "$TL_FAILS" -eq 0 ]
}

tl_workdir() {
	TL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pv-integ.XXXXXX")
	trap 'rm -rf "$TL_TMP"' EXIT
}

tl_admin_key() {
	printf '01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08:01:02:03:04:05:06:07:08' \
		>"$TL_TMP/admin.key"
	export PIV_EXT_AUTH_KEY=$TL_TMP/admin.key
}

tl_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TL_TMP/ca.key" -out "$TL_TMP/ca.pem" -subj /CN=pv-test-ca \
		-days 30 2>/dev/null
}

# tl_cert PUB CN OUT [extfile-section-lines]: a CA-signed certificate for PUB.
tl_cert() {
	local pub=$1 cn=$2 out=$3 ext=${4:-}
	local extf=$TL_TMP/ext.$$.cnf
	printf '[v3]\nbasicConstraints=CA:FALSE\n%s\n' "$ext" >"$extf"
	openssl req -new -key "$TL_TMP/ca.key" -subj "/CN=$cn" 2>/dev/null |
		openssl x509 -req -CA "$TL_TMP/ca.pem" -CAkey "$TL_TMP/ca.key" \
			-CAcreateserial -force_pubkey "$pub" -days 30 \
			-extfile "$extf" -extensions v3 -out "$out" 2>/dev/null
}

# tl_apdu_hex: read a hex dump ("7F 49 43 86 41 04 ... ascii") on stdin and
# print the bytes as one hex string; lines without hex pairs are skipped.
tl_apdu_hex() {
	sed -nE 's/^(([0-9A-Fa-f]{2} ){0,15}[0-9A-Fa-f]{2})( .*)?$/\1/p' | tr -d ' \n'
	echo
}

# tl_pub_from_7f49 HEX OUT.pem: 7F49 {81 n, 82 e} or {86 point} to a PEM key.
tl_pub_from_7f49() {
	local hex=${1^^} out=$2 body n e pt
	hex=${hex#7F49}
	# skip the length of 7F49
	case ${hex:0:2} in
	81) hex=${hex:4} ;;
	82) hex=${hex:6} ;;
	*) hex=${hex:2} ;;
	esac
	body=$hex
	if [ "${body:0:2}" = 86 ]; then
		local l=$((16#${body:2:2}))
		pt=${body:4:$((2 * l))}
		case $l in
		65) printf '%s%s' 3059301306072a8648ce3d020106082a8648ce3d030107034200 "$pt" ;;
		97) printf '%s%s' 3076301006072a8648ce3d020106052b81040022036200 "$pt" ;;
		*) return 1 ;;
		esac | xxd -r -p | openssl pkey -pubin -inform DER -out "$out"
		return
	fi
	[ "${body:0:2}" = 81 ] || return 1
	local ll=${body:2:2} nlen
	case $ll in
	81) nlen=$((16#${body:4:2})); n=${body:6:$((2 * nlen))}; body=${body:$((6 + 2 * nlen))} ;;
	82) nlen=$((16#${body:4:4})); n=${body:8:$((2 * nlen))}; body=${body:$((8 + 2 * nlen))} ;;
	*) nlen=$((16#$ll)); n=${body:4:$((2 * nlen))}; body=${body:$((4 + 2 * nlen))} ;;
	esac
	[ "${body:0:2}" = 82 ] || return 1
	e=${body:4:$((2 * 16#${body:2:2}))}
	printf 'asn1=SEQUENCE:k\n[k]\nn=INTEGER:0x%s\ne=INTEGER:0x%s\n' "$n" "$e" \
		>"$TL_TMP/rsa.cnf"
	openssl asn1parse -genconf "$TL_TMP/rsa.cnf" -noout -out "$TL_TMP/rsa.der" &&
		openssl pkey -pubin -inform DER -in "$TL_TMP/rsa.der" -out "$out" 2>/dev/null ||
		openssl rsa -RSAPublicKey_in -inform DER -in "$TL_TMP/rsa.der" \
			-pubout -out "$out" 2>/dev/null
}
