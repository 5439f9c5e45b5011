#!/usr/bin/env bash
# validate_ocsp.sh: pivstation's OCSP client (RFC 6960) against real
# `openssl ocsp -index ... -port` responders inside the sandbox's network
# namespace, for PIV Authentication certificates of the station CA whose
# AIA names them (no CRL distribution point, so OCSP alone decides):
#   good (delegated responder with id-kp-OCSPSigning and ocsp-nocheck; and
#   the issuing CA answering itself), revoked (date and keyCompromise),
#   unknown, a response signed by a responder the issuing CA did not
#   certify, a stale response (validation time past its nextUpdate), a
#   replayed response (nonce mismatch, served by a small python server),
#   and a responder that is down: hard-fail refuses, --soft-fail accepts
#   and says so in the check.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox
tl_station --alg p256 --env --set crl= --set ca_issuers= --set station_crl=no
openssl pkey -in "$H/ca/issuing.key" -passin env:PIVSTATION_CA_PASSPHRASE -out issuing.key
openssl pkey -in "$H/ca/root.key" -passin env:PIVSTATION_CA_PASSPHRASE -out root.key

n=0
ee() { # NAME PORT: a 9A certificate whose AIA OCSP URL is on PORT
	n=$((n + 1))
	tl_conf "$H" ocsp "http://127.0.0.1:$2/"
	openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
	openssl pkey -in "$1.key" -pubout -out "$1.pub"
	"$P" ca issue --home "$H" --slot 9a --pubkey "$1.pub" \
		--fascn "S9999F0001F00000${n}F0F1F0000012345100001E" \
		--uuid "$(printf '%08d' $n)-1111-4111-8111-111111111111" \
		--expiry "$(date -u -d '+1 year' +%F)" --subject "C=US, CN=EE $1" \
		--out "$1.pem" 2>/dev/null
}
for c in good revoked unknown; do ee $c 8481; done
ee nonce 8483
ee unauth 8482
ee byca 8484
ee down 8489
check "test certificates issued" test -s good.pem -a -s down.pem

# responder certificates: delegated by the issuing CA, and one by the root
printf '[v3]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\nnoCheck=ignored\n' >resp.ext
resp_cert() { # NAME CA.crt CA.key
	openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
	openssl req -new -key "$1.key" -subj "/C=US/CN=OCSP $1" 2>/dev/null |
		openssl x509 -req -CA "$2" -CAkey "$3" -CAcreateserial -days 30 \
			-extfile resp.ext -extensions v3 -out "$1.crt" 2>/dev/null
}
resp_cert delegated "$H/ca/issuing.crt" issuing.key
resp_cert rootsigned "$H/ca/root.crt" root.key
check "responder certificates made" test -s delegated.crt -a -s rootsigned.crt

# index.txt: V good, R revoked (keyCompromise), nothing for unknown
line() { # STATUS CERT [REVINFO]
	printf '%s\t%s\t%s\t%s\tunknown\t%s\n' "$1" \
		"$(date -u -d "$(openssl x509 -in "$2" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)" \
		"${3:-}" "$(openssl x509 -in "$2" -noout -serial | cut -d= -f2)" \
		"$(openssl x509 -in "$2" -noout -subject -nameopt compat | sed 's/^subject=//')"
}
revoked_at=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
{ line V good.pem; line R revoked.pem "$revoked_at,keyCompromise"; line V nonce.pem
  line V unauth.pem; line V byca.pem; } >index.txt

responder() { # PORT SIGNER.crt SIGNER.key
	openssl ocsp -index index.txt -port "$1" -rsigner "$2" -rkey "$3" \
		-CA "$H/ca/issuing.crt" -ndays 1 >"resp-$1.log" 2>&1 &
}
responder 8481 delegated.crt delegated.key
responder 8482 rootsigned.crt rootsigned.key
responder 8484 "$H/ca/issuing.crt" issuing.key
# (a bare connect would hold a responder, which serves one client at a time)
listening() {
	for _ in $(seq 200); do [ -n "$(ss -Hltn "sport = :$1")" ] && return 0; sleep 0.05; done
	return 1
}
check "responders listening" listening 8481 && listening 8482 && listening 8484

# a response recorded for nonce.pem (with its own nonce), replayed for any request
timeout 20 openssl ocsp -issuer "$H/ca/issuing.crt" -cert nonce.pem -url http://127.0.0.1:8481/ \
	-respout replay.der -noverify >/dev/null 2>&1
check "a response recorded to replay" test -s replay.der
cat >replay.py <<'PY'
import http.server, sys
body = open('replay.der', 'rb').read()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        self.send_response(200)
        self.send_header('Content-Type', 'application/ocsp-response')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(('127.0.0.1', 8483), H).serve_forever()
PY
python3 replay.py >replay.log 2>&1 &
check "replay server listening" listening 8483

v() { # CERT [ARGS]: validate, JSON in v.json, exit status returned
	local c=$1; shift
	"$P" validate --home "$H" --cert "$c" --json "$@" >v.json 2>v.err
}
rev() { jq -r '.checks[] | select(.id == "revocation") | "\(.status) \(.text)"' v.json; }

v good.pem; rc=$?
check "good: valid (exit $rc)" test $rc = 0 || cat v.err v.json >&2
check_out "good: answered by the delegated responder, nonce echoed" \
	'^pass .*good: OCSP http://127.0.0.1:8481/ \(signed by CN=OCSP delegated.*, nonce echoed\)' rev
v byca.pem; rc=$?
check "the issuing CA answering itself: valid (exit $rc)" test $rc = 0
check_out "signed by the issuing CA" '^pass .*good: OCSP http://127.0.0.1:8484/ \(signed by CN=Example Agency PIV Issuing CA' rev
v revoked.pem; rc=$?
check "revoked: exit 7 (got $rc)" test $rc = 7
check_out "revoked: the date and the reason" \
	"^fail .*REVOKED on 20${revoked_at:0:2}-${revoked_at:2:2}-${revoked_at:4:2}T.*reason keyCompromise; OCSP http://127.0.0.1:8481/" rev
check_out "--json: revoked.reason" '^keyCompromise$' jq -r .revoked.reason v.json
v unknown.pem; rc=$?
check "unknown: exit 7 (got $rc)" test $rc = 7
check_out "unknown: said so" '^fail .*OCSP http://127.0.0.1:8481/: unknown: the responder does not know this certificate' rev
v unauth.pem; rc=$?
check "response signed by an unauthorised responder: exit 7 (got $rc)" test $rc = 7
check_out "unauthorised: neither the CA nor a responder it certified" \
	'^fail .*unauthorised response: signed by CN=OCSP rootsigned.*neither the issuing CA nor a responder it certified' rev
v good.pem --at "$(date -u -d '+2 days' +%FT%TZ)"; rc=$?
check "stale response (nextUpdate passed at the validation time): exit 7 (got $rc)" test $rc = 7
check_out "stale: thisUpdate and nextUpdate given" '^fail .*OCSP http://127.0.0.1:8481/: stale response \(thisUpdate .*, nextUpdate ' rev
v nonce.pem; rc=$?
check "replayed response: exit 7 (got $rc)" test $rc = 7
check_out "nonce mismatch" '^fail .*OCSP http://127.0.0.1:8483/: nonce mismatch' rev
v down.pem; rc=$?
check "responder down, hard-fail: exit 7 (got $rc)" test $rc = 7
check_out "down: refused (hard-fail), the URL named" \
	'^fail .*status unknown, refused \(hard-fail\): OCSP http://127.0.0.1:8489/: no answer' rev
v down.pem --soft-fail; rc=$?
check "responder down, --soft-fail: valid (exit $rc)" test $rc = 0
check_out "down, soft-fail: a warning that says so" \
	'^warn .*status unknown, accepted because \[revocation\] failure = soft \(soft-fail\)' rev
check_out "soft_failed is true in the JSON" '^true true$' jq -r '"\(.valid) \(.soft_failed)"' v.json
"$P" validate --home "$H" --cert down.pem --soft-fail >text.out 2>&1
check_out "the text verdict says soft-fail" 'VALID \(soft-fail: some status was not known' cat text.out
tl_conf "$H" failure soft
v down.pem; rc=$?
check "[revocation] failure = soft in the configuration: valid (exit $rc), warned" \
	test $rc = 0 -a "$(rev | cut -d' ' -f1)" = warn
tl_done
