#!/usr/bin/env bash
# validate_crl_http.sh: CRLs fetched from the distribution point of a PIV
# Authentication certificate, served by a local web server (python3 -m
# http.server) inside the sandbox's network namespace: a current CRL
# (then kept in the disk cache until its nextUpdate: the server may go
# away), one that lists the certificate (date and reason), an expired
# one, one signed by another key under the same CA name, one larger than
# [revocation] crl_max_kib, and no server at all (hard-fail refuses,
# --soft-fail accepts and says so).
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox
PORT=8485
URL=http://127.0.0.1:$PORT/crl/pivstation.crl
# the station: its CRL at the local server, no OCSP, no AIA, no CRL file
CONF=(--set "crl=$URL" --set ocsp= --set ca_issuers= --set station_crl=no)
tl_station --alg p256 --env "${CONF[@]}"
openssl ecparam -name prime256v1 -genkey -noout -out ee.key 2>/dev/null
openssl pkey -in ee.key -pubout -out ee.pub
"$P" ca issue --home "$H" --slot 9a --pubkey ee.pub --fascn S9999F0001F000001F0F1F0000012345100001E \
	--uuid 11111111-2222-4333-8444-555555555555 --expiry "$(date -u -d '+1 year' +%F)" \
	--subject "C=US, CN=CRL Test" --out ee.pem 2>/dev/null
check "a 9A certificate naming $URL" openssl x509 -in ee.pem -noout -ext crlDistributionPoints
serial=$(openssl x509 -in ee.pem -noout -serial | cut -d= -f2)

serve() {
	python3 -m http.server "$PORT" --bind 127.0.0.1 --directory www >http.log 2>&1 &
	HTTP_PID=$!
	for _ in $(seq 200); do [ -n "$(ss -Hltn "sport = :$PORT")" ] && return 0; sleep 0.05; done
	return 1
}
publish() { # [ca crl options]: sign a CRL in $H and publish it to www
	"$P" ca crl --home "$H" "$@" >/dev/null && "$P" ca publish --home "$H" www >/dev/null
}
v() { "$P" validate --home "$H" --cert ee.pem --json "$@" >v.json 2>v.err; }
rev() { jq -r '.checks[] | select(.id == "revocation") | "\(.status) \(.text)"' v.json; }

# ---- current ---------------------------------------------------------------------
check "a current CRL published" publish
serve; check "web server up" test $? = 0
v; rc=$?
check "current CRL: valid (exit $rc)" test $rc = 0 || cat v.err v.json >&2
check_out "the CRL came from the distribution point" "^pass .*good: not in CRL $URL \\(number 01, thisUpdate " rev
check "it is in the disk cache" test -n "$(ls "$H"/cache/*.crl 2>/dev/null)"
kill "$HTTP_PID"; wait "$HTTP_PID" 2>/dev/null
v; rc=$?
check "server gone, the cached CRL is current until its nextUpdate: valid (exit $rc)" test $rc = 0

# ---- the certificate listed ------------------------------------------------------------
printf '%s %s 1\n' "$serial" "$(date -u -d '-1 hour' +%s)" >revoked.txt
check "a CRL listing the certificate published" publish --revoked revoked.txt
serve; check "web server up" test $? = 0
v --refresh; rc=$?
check "listed: exit 7 (got $rc)" test $rc = 7
check_out "listed: date and reason" "^fail .*REVOKED on 20.*, reason keyCompromise; listed in CRL $URL" rev

# ---- expired ----------------------------------------------------------------------------
check "a CRL for the next hour published" publish --hours 1
v --refresh --at "$(date -u -d '+2 hours' +%FT%TZ)"; rc=$?
check "expired CRL: exit 7 (got $rc)" test $rc = 7
check_out "expired: its nextUpdate has passed" "^fail .*$URL: stale, its nextUpdate .* has passed" rev

# ---- signed by another key under the same name ----------------------------------------------
H1=$H
tl_station --home "$TL_TMP/other" --alg p256 --env "${CONF[@]}"	# the same names
H=$H1
check "its CRL signed" "$P" ca crl --home other
cp other/ca/crl.der www/crl/pivstation.crl
v --refresh; rc=$?
check "CRL signed by the wrong key: exit 7 (got $rc)" test $rc = 7
check_out "wrong key: its signature does not verify" \
	"^fail .*$URL: its signature does not verify with a key allowed to sign CRLs" rev

# ---- too large ----------------------------------------------------------------------------
for i in $(seq 1 1500); do printf '%040x %s 1\n' "$((i + 1000))" "$(date +%s)"; done >many.txt
check "a CRL of 1500 entries published" publish --revoked many.txt
size=$(stat -c %s www/crl/pivstation.crl)
check "it is larger than 16 KiB ($size bytes)" test "$size" -gt 16384
tl_conf "$H" crl_max_kib 16
v --refresh; rc=$?
check "CRL too large: exit 7 (got $rc)" test $rc = 7
check_out "too large: named" "^fail .*CRL $URL: larger than \\[revocation\\] crl_max_kib" rev
tl_conf "$H" crl_max_kib 16384
v --refresh; rc=$?
check "with the limit back: valid (exit $rc)" test $rc = 0

# ---- server down -------------------------------------------------------------------------
kill "$HTTP_PID"; wait "$HTTP_PID" 2>/dev/null
v --refresh; rc=$?
check "server down, hard-fail: exit 7 (got $rc)" test $rc = 7
check_out "server down: the URL and the failure named" \
	"^fail .*refused \\(hard-fail\\): no usable CRL: CRL $URL: .*(Couldn't connect|Connection refused)" rev
v --refresh --soft-fail; rc=$?
check "server down, --soft-fail: valid (exit $rc)" test $rc = 0
check_out "soft-fail said in the check" '^warn .*accepted because \[revocation\] failure = soft \(soft-fail\)' rev
tl_done
