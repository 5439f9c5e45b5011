# tests/sandbox/testlib.sh: the preamble and helpers of the integration
# tests (tests/integ/*.sh; mk/check.sh runs each as `bash tests/integ/X.sh`
# from the repository root, PV_BIN and PV_ROOT set).  A test starts:
#
#   . "$(dirname "$0")/../sandbox/testlib.sh"
#   tl_sandbox --card 0:usb-key      # or --none for a test that needs no card
#   tl_station --alg p256            # when it needs a station home and a CA
#
# Preamble:
#   tl_sandbox [RUN-OPTIONS...]  outside a sandbox, run this script again
#                  (with its arguments) inside tests/sandbox/run RUN-OPTIONS
#                  (--card, --card-args, --pinpad, --readers, ...); inside:
#                  PV_ROOT and PV_BIN (absolute, exported), P (the
#                  pivstation binary), no PIVSTATION_* variable inherited,
#                  a scratch directory $TL_TMP (removed at exit; TL_KEEP=1
#                  keeps it and prints its name) and the current directory
#                  there.  --none: the same set-up without a sandbox, for
#                  tests that talk to no card (and scripts that start
#                  sandboxes themselves: $TL_SELF is the script's absolute
#                  path, $TL_ARGS its arguments).
#   tl_on_exit CMD           run CMD (eval) at exit, before $TL_TMP goes
#   tl_station [OPTIONS]     a station home: `pivstation init --admin integ`
#                  and `ca init`; sets H (the home), TL_PASS (a 0600 file
#                  holding the CA and KRA passphrase TL_PASSPHRASE) and
#                  exports PIVSTATION_OPERATOR.  Options: --home DIR (default
#                  $TL_TMP/home), --admin NAME (integ), --alg ALG, --kra-alg
#                  ALG, --policies SET (ca init options), --set
#                  [SECTION.]KEY=VALUE (tl_conf, after init, before ca init;
#                  repeatable), --env (the passphrase exported as
#                  PIVSTATION_CA_PASSPHRASE; default: --passphrase-file and
#                  --kra-passphrase-file $TL_PASS), --pass TEXT, --no-init
#                  (a CA home without a store), --no-ca.  A failed step
#                  fails the test at once.
#   tl_conf HOME [SECTION.]KEY VALUE  set one line of HOME/pivstation.conf
#                  (KEY without SECTION must be unique in the file)
#   tl_secret_file FILE LINE...  a passphrase file, mode 0600
#   tl_opensc_module         the path of OpenSC's PKCS#11 module
#                  (opensc-pkcs11.so) on this machine: p11-kit's
#                  registration, the package's files, the multiarch library
#                  directories; or a message and failure
#                  ($PV_OPENSC_MODULE overrides)
#
# Checks (each prints "ok - DESC" or "not ok - DESC" and what went wrong):
#   check DESC CMD...        run CMD, print "ok - DESC" or fail the test
#   check_out DESC PATTERN CMD...  ... and require PATTERN (grep -E) in its output
#   check_fails DESC CMD...  CMD must fail
#   check_fails_out DESC PATTERN CMD...  CMD must fail and print PATTERN
#   check_eq DESC GOT WANT   GOT must be the string WANT
#   tl_fail MSG              "not ok - MSG" and exit 1 at once
#   tl_done                  the summary line; the test's exit status (fails
#                            when a check failed or none ran)
#
# Test material:
#   tl_ca                    a test CA ($TL_TMP/ca.key, ca.pem)
#   tl_cert PUB.pem CN OUT.pem [EXT]  certificate for a public key, by the CA
#   tl_pub_from_7f49 HEX OUT.pem  public key from a GENERATE response
#   tl_apdu_hex              hex bytes of a piv-tool/opensc-tool response dump
#   tl_admin_key             file with the default 3DES key for piv-tool
#                            (PIV_EXT_AUTH_KEY)

set -uo pipefail
TL_FAILS=0
TL_CHECKS=0
# Sourced without arguments, this file sees the test's own: tl_sandbox
# passes them on when it runs the test again inside the sandbox.
TL_ARGS=("$@")
TL_SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
TL_EXIT_CMDS=()

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

check_eq() {
	local desc=$1 got=$2 want=$3
	TL_CHECKS=$((TL_CHECKS + 1))
	if [ "$got" = "$want" ]; then
		tl_log "ok - $desc"
	else
		tl_log "not ok - $desc: got '$got', want '$want'"
		TL_FAILS=$((TL_FAILS + 1))
		return 1
	fi
}

tl_fail() {
	tl_log "not ok - $*"
	exit 1
}

# ---- preamble -----------------------------------------------------------------

tl_on_exit() { TL_EXIT_CMDS+=("$1"); }

tl_exit() {
	local c
	# A test may run under set -e: a clean-up command that fails (a
	# process already gone) must not stop the others or the removal.
	set +e
	for c in ${TL_EXIT_CMDS[@]+"${TL_EXIT_CMDS[@]}"}; do
		eval "$c"
	done
	if [ -n "${TL_TMP:-}" ] && [ -d "$TL_TMP" ]; then
		if [ -n "${TL_KEEP:-}" ]; then
			tl_log "# kept $TL_TMP"
		else
			cd / && rm -rf "$TL_TMP"
		fi
	fi
}

# tl_workdir: the scratch directory $TL_TMP, removed at exit (tl_sandbox
# makes it; once per process).
tl_workdir() {
	[ -n "${TL_TMP:-}" ] && [ -d "$TL_TMP" ] && return 0
	TL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pv-integ.XXXXXX") ||
		tl_fail "mktemp: no scratch directory"
	trap tl_exit EXIT
}

tl_sandbox() {
	PV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	PV_BIN=$(cd "${PV_BIN:-$PV_ROOT/build}" 2>/dev/null && pwd) ||
		tl_fail "PV_BIN=${PV_BIN:-$PV_ROOT/build}: no such build directory (make, or make check-build)"
	export PV_ROOT PV_BIN
	if [ "${1:-}" != --none ] && [ -z "${PV_SANDBOX_DIR:-}" ]; then
		exec "$PV_ROOT/tests/sandbox/run" "$@" -- bash "$TL_SELF" "${TL_ARGS[@]}"
	fi
	P=$PV_BIN/pivstation
	[ -x "$P" ] || tl_fail "$P is not built (make, or set PV_BIN)"
	# Nothing of the person running the tests leaks in: home, operator,
	# passphrases, the ATR list, timing knobs.
	unset $(compgen -e | grep '^PIVSTATION_') 2>/dev/null
	tl_workdir
	cd "$TL_TMP" || tl_fail "cd $TL_TMP"
}

# ---- the station -----------------------------------------------------------------

tl_conf() {
	local f=$1/pivstation.conf key=$2 val=$3 sect=
	case $key in *.*) sect=${key%%.*}; key=${key#*.} ;; esac
	awk -v s="$sect" -v k="$key" -v v="$val" '
		/^\[/ { cur = substr($0, 2, index($0, "]") - 2) }
		(s == "" || cur == s) && $0 ~ "^" k " *=" { print k " = " v; n++; next }
		{ print }
		END { exit n == 1 ? 0 : n == 0 ? 1 : 2 }' "$f" >"$f.tl"
	case $? in
	0) cat "$f.tl" >"$f"; rm -f "$f.tl" ;;
	1) rm -f "$f.tl"; tl_log "tl_conf: $f has no line '$key =' ${sect:+in [$sect]}"; return 1 ;;
	*) rm -f "$f.tl"; tl_log "tl_conf: $f: '$key' is in several sections; say which (SECTION.$key)"; return 1 ;;
	esac
}

# tl_secret_file FILE LINE...: FILE (0600, as the CLI wants secret files)
# holding the LINEs.
tl_secret_file() {
	local f=$1; shift
	(umask 077 && rm -f "$f" && printf '%s\n' "$@" >"$f") ||
		tl_fail "cannot write the secret file $f"
}

tl_station() {
	local home=$TL_TMP/home admin=integ init=1 ca=1 env=0 a
	local pass="integ station passphrase"
	local -a caopt=() sets=()
	while [ $# -gt 0 ]; do
		case $1 in
		--home) home=$2; shift 2 ;;
		--admin) admin=$2; shift 2 ;;
		--alg|--kra-alg|--policies) caopt+=("$1" "$2"); shift 2 ;;
		--set) sets+=("$2"); shift 2 ;;
		--env) env=1; shift ;;
		--pass) pass=$2; shift 2 ;;
		--no-init) init=0; shift ;;
		--no-ca) ca=0; shift ;;
		*) tl_fail "tl_station: unknown option $1" ;;
		esac
	done
	H=$home
	TL_PASSPHRASE=$pass
	TL_PASS=$home.pass
	tl_secret_file "$TL_PASS" "$pass"
	export PIVSTATION_OPERATOR=$admin
	if [ $env = 1 ]; then
		export PIVSTATION_CA_PASSPHRASE=$pass
	else
		caopt+=(--passphrase-file "$TL_PASS" --kra-passphrase-file "$TL_PASS")
	fi
	if [ $init = 1 ]; then
		check "station: pivstation init --admin $admin" \
			"$P" init --home "$home" --admin "$admin" || exit 1
	fi
	for a in ${sets[@]+"${sets[@]}"}; do
		[ $init = 1 ] || tl_fail "tl_station: --set needs the configuration init writes"
		tl_conf "$home" "${a%%=*}" "${a#*=}" || tl_fail "tl_station: --set $a"
	done
	if [ $ca = 1 ]; then
		check "station: pivstation ca init" \
			"$P" ca init --home "$home" "${caopt[@]}" || exit 1
	fi
}

# tl_opensc_module: OpenSC's PKCS#11 module where this machine says it is:
# its p11-kit registration (the module directories named by pkg-config
# p11-kit-1), else the file the package installed (dpkg), else the first
# opensc-pkcs11.so in the library directories (multiarch triplet from
# dpkg-architecture or the compiler).
tl_opensc_module() {
	local m d f arch= conf= mdir=
	if [ -n "${PV_OPENSC_MODULE:-}" ]; then
		[ -r "$PV_OPENSC_MODULE" ] && { echo "$PV_OPENSC_MODULE"; return 0; }
		tl_log "PV_OPENSC_MODULE=$PV_OPENSC_MODULE: no such file"
		return 1
	fi
	if command -v pkg-config >/dev/null 2>&1; then
		conf=$(pkg-config --variable=p11_system_config_modules p11-kit-1 2>/dev/null)
		mdir=$(pkg-config --variable=p11_module_path p11-kit-1 2>/dev/null)
	fi
	for f in /etc/pkcs11/modules/*.module ${conf:+"$conf"/*.module}; do
		[ -r "$f" ] || continue
		m=$(sed -n 's/^[[:space:]]*module:[[:space:]]*//p' "$f" | tail -1)
		case $m in
		*/opensc-pkcs11.so) ;;
		opensc-pkcs11.so) [ -n "$mdir" ] && m=$mdir/$m || continue ;;
		*) continue ;;
		esac
		[ -r "$m" ] && { echo "$m"; return 0; }
	done
	if command -v dpkg >/dev/null 2>&1; then
		m=$(dpkg -L "opensc-pkcs11:$(dpkg --print-architecture)" 2>/dev/null |
			grep -m1 '/opensc-pkcs11\.so$')
		[ -n "$m" ] && [ -r "$m" ] && { echo "$m"; return 0; }
	fi
	arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null ||
		${CC:-cc} -print-multiarch 2>/dev/null) || arch=
	for d in ${arch:+/usr/lib/$arch /usr/lib/$arch/pkcs11 /usr/local/lib/$arch} \
	    /usr/lib64 /usr/lib64/pkcs11 /usr/lib /usr/lib/pkcs11 /usr/local/lib; do
		[ -r "$d/opensc-pkcs11.so" ] && { echo "$d/opensc-pkcs11.so"; return 0; }
	done
	tl_log "OpenSC's PKCS#11 module (opensc-pkcs11.so) is not installed: apt-get install opensc-pkcs11 (make deps), or set PV_OPENSC_MODULE=/path/to/opensc-pkcs11.so"
	return 1
}

# ---- test material ------------------------------------------------------------------

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
