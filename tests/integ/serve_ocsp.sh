#!/usr/bin/env bash
# serve_ocsp.sh: `pivstation serve` inside the sandbox's network namespace,
# judged by third-party clients.  The station issues card 0 fully and card
# 1 until it is pulled (its job then cancelled: its certificates revoked,
# keyCompromise); a certificate made by `ca issue` is not in the store.
#   - OCSP (RFC 6960): `openssl ocsp -url` gets good / revoked (date and
#     reason) / unknown over POST, the nonce echoed, the response verified
#     up to the root with the delegated responder certificate ca init
#     made (id-kp-OCSPSigning, ocsp-nocheck, issued by the issuing CA);
#     a GET (base64 in the path) gets the same answer, cacheable;
#     `pivstation validate --cert` gets the same three answers from it.
#   - the CRL and the .p7c at the URLs of an issued certificate (curl,
#     openssl crl, openssl pkcs7 -print_certs); `openssl verify
#     -crl_download` accepts the good certificate and refuses the revoked
#     one once `ca crl` has republished (the service re-reads the file).
#   - HTTPS: TLS 1.2 and 1.3 with the station's own server certificate
#     (for the host of [serve] url, serverAuth), TLS 1.1 refused; OCSP
#     over HTTPS too.
#   - bad requests: a body over max_body_kib (413), headers over the
#     limit (431), a body that is no OCSP request (400, malformedRequest),
#     a GET path that is no base64 (400), PUT (405), an unknown path
#     (404), a client that stops sending (the connection closed); the
#     service answers normally afterwards.
#   - `ca roll ocsp` and a restart: responses signed by the new responder.
#   - SIGTERM: exit 0, "stopped" logged, the ports closed; no request body
#     or OCSP request in the log.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --card 0:usb-key --card 1:usb-key -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
tl_workdir; cd "$TL_TMP" || exit 1
unset PIVSTATION_HOME PIVSTATION_KRA_PASSPHRASE
export PIVSTATION_OPERATOR=integ PIVSTATION_CA_PASSPHRASE="serve ca passphrase"

P=$PV_BIN/pivstation
H=$TL_TMP/home
PIN=24681357
HTTP=http://127.0.0.1:8480
HTTPS=https://127.0.0.1:8443
OCSP=$HTTP/ocsp

"$P" init --home "$H" --admin integ >/dev/null
sed -i -e "s|^crl = .*|crl = $HTTP/crl/pivstation.crl|" \
	-e "s|^ocsp = .*|ocsp = $OCSP|" \
	-e "s|^ca_issuers = .*|ca_issuers = $HTTP/aia/pivstation-issuing.p7c|" \
	-e 's|^station_crl = yes|station_crl = no|' \
	-e "s|^url = https://.*|url = $HTTPS|" \
	-e 's|^listen = .*|listen = 127.0.0.1:8443|' \
	-e 's|^listen_http = .*|listen_http = 127.0.0.1:8480|' \
	-e 's|^timeout_seconds = .*|timeout_seconds = 2|' \
	-e 's|^max_body_kib = .*|max_body_kib = 16|' "$H/pivstation.conf"
check "ca init" "$P" ca init --home "$H" --alg p256
cp "$H/ca/root.crt" root.crt; cp "$H/ca/issuing.crt" issuing.crt

# ---- the delegated responder certificate ---------------------------------------------
openssl x509 -in "$H/ca/ocsp.crt" -noout -text >ocsp.txt
check_out "ca show lists the OCSP responder" '^ocsp$' "$P" ca show --home "$H"
check_out "responder: id-kp-OCSPSigning" 'OCSP Signing' cat ocsp.txt
check_out "responder: id-pkix-ocsp-nocheck" 'OCSP No Check' cat ocsp.txt
check_out "responder: issued by the issuing CA" 'Issuer: .*PIV Issuing CA' cat ocsp.txt
check "responder: verifies up to the root" openssl verify -CAfile root.crt \
	-untrusted issuing.crt "$H/ca/ocsp.crt"
check "responder key is 0600" test "$(stat -c %a "$H/ca/ocsp.key")" = 600

# ---- certificates in the store: card 0 good, card 1 revoked -----------------------------
issue() { # CARD LOG
	echo "$PIN" | "$P" issue --home "$H" -r "$(vcardctl reader "$1")" \
		--identity "$PV_ROOT/examples/identity.json" --pin-stdin --json >"$2" 2>&1
}
check "issue card 0" issue 0 issue0.jsonl
vcardctl restart 1 --fault remove-after=30 >/dev/null
issue 1 issue1.jsonl; rc=$?
check "issuance onto card 1 interrupted (exit $rc)" test $rc = 3
vcardctl restart 1 >/dev/null
job=$(sqlite3 "$H/store.db" "SELECT id FROM jobs WHERE state = 'running'")
check "job cancel revokes card 1's certificates" "$P" job cancel "$job" --home "$H" --reason "card lost"
sqlite3 "$H/store.db" "SELECT pem FROM certificates WHERE status = 'active' AND slot = 154" >good.pem
sqlite3 "$H/store.db" "SELECT pem FROM certificates WHERE status = 'revoked' LIMIT 1" >revoked.pem
revoked_at=$(sqlite3 "$H/store.db" "SELECT revoked_at FROM certificates WHERE status = 'revoked' LIMIT 1")
check "a good certificate in the store" openssl x509 -in good.pem -noout
check "a revoked certificate in the store" openssl x509 -in revoked.pem -noout
openssl ecparam -name prime256v1 -genkey -noout -out u.key 2>/dev/null
openssl pkey -in u.key -pubout -out u.pub
"$P" ca issue --home "$H" --slot 9a --pubkey u.pub --fascn S9999F0001F000001F0F1F0000012345100001E \
	--uuid 11111111-2222-4333-8444-555555555555 --expiry "$(date -u -d '+1 year' +%F)" \
	--subject "C=US, CN=Not In The Store" --out unknown.pem 2>/dev/null
check "a certificate the store does not know" openssl x509 -in unknown.pem -noout
check_out "issued certificates name the responder" "OCSP - URI:$OCSP\$" \
	openssl x509 -in good.pem -noout -ext authorityInfoAccess
check "ca crl (the revoked ones from the store)" "$P" ca crl --home "$H"

# ---- the service ------------------------------------------------------------------------
listening() { # PORT
	for _ in $(seq 300); do [ -n "$(ss -Hltn "sport = :$1")" ] && return 0; sleep 0.05; done
	return 1
}
closed() { # PORT
	for _ in $(seq 300); do [ -z "$(ss -Hltn "sport = :$1")" ] && return 0; sleep 0.05; done
	return 1
}
start() {
	"$P" serve --home "$H" >>serve.log 2>&1 &
	SERVE_PID=$!
}
both() { listening 8480 && listening 8443; }
start
check "serve listens on both ports" both || cat serve.log >&2
check_out "serve says what it serves" 'listening: https 127.0.0.1:8443 http 127.0.0.1:8480; OCSP /ocsp, CRL /crl/pivstation.crl, AIA /aia/pivstation-issuing.p7c' cat serve.log
check_out "the station's server certificate was made and audited" '"action":"ca.service_issue"' \
	"$P" audit show --home "$H" --json

# ---- OCSP judged by openssl -----------------------------------------------------------------
ocsp() { # CERT [URL] [ARGS]: openssl ocsp -url, output in o.txt, messages in o.err
	local c=$1 u=${2:-$OCSP}; shift; shift
	openssl ocsp -issuer issuing.crt -cert "$c" -url "$u" -CAfile root.crt "$@" >o.txt 2>o.err
}
hdr() { tr -d '\r' <"$1" | tr 'A-Z' 'a-z'; }
ocsp good.pem; rc=$?
check "openssl ocsp: good (exit $rc)" test $rc = 0 || cat o.txt >&2
check_out "good: the certificate is good" '^good.pem: good$' cat o.txt
check_out "good: the response verified up to the root" '^Response verify OK' cat o.err
check "good: the nonce was echoed (no warning)" sh -c '! grep -qi nonce o.txt o.err'
ocsp revoked.pem
check_out "revoked: revoked" '^revoked.pem: revoked$' cat o.txt
check_out "revoked: reason keyCompromise" 'Reason: keyCompromise' cat o.txt
check_out "revoked: at the time the store recorded" \
	"Revocation Time: $(LC_ALL=C TZ=UTC date -d "@$revoked_at" '+%b %e %H:%M:%S %Y') GMT" cat o.txt
check_out "revoked: verified" '^Response verify OK' cat o.err
ocsp unknown.pem
check_out "not in the store: unknown" '^unknown.pem: unknown$' cat o.txt
check_out "unknown: verified" '^Response verify OK' cat o.err
ocsp good.pem "" -resp_text
check_out "the responder is named by its key hash" 'Responder Id: [0-9A-F]{40}' cat o.txt
sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' o.txt >signer.pem
check_out "signed by the delegated responder ca init made" \
	"$(openssl x509 -in "$H/ca/ocsp.crt" -noout -fingerprint -sha256)" \
	openssl x509 -in signer.pem -noout -fingerprint -sha256
ocsp good.pem "$HTTPS/ocsp" -CAfile root.crt
check_out "OCSP over HTTPS as well (openssl ocsp does not verify the server here)" '^good.pem: good$' cat o.txt

# GET: the DER request, base64, URL-escaped, after the responder URL
openssl ocsp -issuer issuing.crt -cert revoked.pem -no_nonce -reqout req.der >/dev/null 2>&1
b64=$(base64 -w0 req.der | sed -e 's|+|%2B|g' -e 's|/|%2F|g' -e 's|=|%3D|g')
curl -s -D get.hdr -o get.der "$OCSP/$b64"
check_out "GET: 200 application/ocsp-response" '^content-type: application/ocsp-response' \
	hdr get.hdr
check_out "GET without a nonce: cacheable until nextUpdate" '^cache-control: max-age=3600, public' \
	hdr get.hdr
openssl ocsp -issuer issuing.crt -cert revoked.pem -respin get.der -CAfile root.crt >o.txt 2>o.err
check_out "GET: revoked, verified" '^revoked.pem: revoked$' cat o.txt
check_out "GET: verified" '^Response verify OK' cat o.err

# ---- pivstation's own validator ----------------------------------------------------------------
v() { "$P" validate --home "$H" --cert "$1" --json >v.json 2>v.err; }
rev() { jq -r '.checks[] | select(.id == "revocation") | "\(.status) \(.text)"' v.json; }
v good.pem; rc=$?
check "validate: good (exit $rc)" test $rc = 0 || cat v.err v.json >&2
check_out "validate: good from our responder, delegated, nonce echoed" \
	"^pass .*good: OCSP $OCSP \\(signed by CN=Example Agency OCSP Responder.*, nonce echoed\\)" rev
v revoked.pem; rc=$?
check "validate: revoked (exit 7, got $rc)" test $rc = 7
check_out "validate: revoked, date and keyCompromise" \
	"^fail .*REVOKED on $(date -u -d "@$revoked_at" +%FT%TZ), reason keyCompromise; OCSP $OCSP" rev
# ([revocation] mode = ocsp-then-crl asks the CRL after an unknown)
v unknown.pem
check_out "validate: the responder's unknown reported" \
	"OCSP $OCSP: unknown: the responder does not know this certificate; then good: not in CRL" rev

# ---- CRL and AIA at the certificate's URLs ---------------------------------------------------------
crl_url=$(openssl x509 -in good.pem -noout -ext crlDistributionPoints | sed -n 's/^ *URI://p')
aia_url=$(openssl x509 -in good.pem -noout -ext authorityInfoAccess | sed -n 's/^ *CA Issuers - URI://p')
check "the certificate names the CRL ($crl_url) and CA ($aia_url) URLs" \
	test "$crl_url" = "$HTTP/crl/pivstation.crl" -a "$aia_url" = "$HTTP/aia/pivstation-issuing.p7c"
curl -s -D crl.hdr -o crl.der "$crl_url"
check_out "CRL: application/pkix-crl" '^content-type: application/pkix-crl' hdr crl.hdr
check "CRL: the station's, byte for byte" cmp crl.der "$H/ca/crl.der"
check_out "CRL: signed by the issuing CA" 'verify OK' \
	openssl crl -inform DER -in crl.der -CAfile "$H/ca/chain.pem" -noout
curl -s -D p7c.hdr -o ca.p7c "$aia_url"
check_out "AIA: application/pkcs7-mime" '^content-type: application/pkcs7-mime' hdr p7c.hdr
check_out "AIA: a certs-only CMS with the issuing CA" '^subject=.*CN = Example Agency PIV Issuing CA' \
	openssl pkcs7 -inform DER -in ca.p7c -print_certs -noout
check "openssl verify -crl_download: the good certificate passes" openssl verify -crl_check \
	-crl_download -CAfile root.crt -untrusted issuing.crt good.pem
openssl verify -crl_check -crl_download -CAfile root.crt -untrusted issuing.crt revoked.pem >ver.txt 2>&1; rc=$?
check_out "openssl verify -crl_download: the revoked certificate refused (exit $rc)" \
	'certificate revoked' cat ver.txt
# a new CRL published: the service serves it without a restart
sleep 1.1	# a distinct file time
check "ca crl republished" "$P" ca crl --home "$H"
kill -HUP "$SERVE_PID"
ok=no
for _ in $(seq 100); do
	curl -s -o crl2.der "$crl_url" && cmp -s crl2.der "$H/ca/crl.der" && { ok=yes; break; }
	sleep 0.1
done
check "after SIGHUP the new CRL is served" test $ok = yes

# ---- HTTPS --------------------------------------------------------------------------------------
check_out "HTTPS: healthz over the station's certificate" '^ok$' curl -s --cacert root.crt "$HTTPS/healthz"
echo | openssl s_client -connect 127.0.0.1:8443 -CAfile root.crt -verify_ip 127.0.0.1 -tls1_2 >tls12.txt 2>&1
check_out "HTTPS: TLS 1.2, verified" 'Verify return code: 0 \(ok\)' cat tls12.txt
check_out "HTTPS: TLS 1.2 negotiated" 'Protocol *: TLSv1.2' cat tls12.txt
echo | openssl s_client -connect 127.0.0.1:8443 -CAfile root.crt -verify_ip 127.0.0.1 -tls1_3 >tls13.txt 2>&1
check_out "HTTPS: TLS 1.3, verified" 'Verify return code: 0 \(ok\)' cat tls13.txt
check_out "HTTPS: TLS 1.3 negotiated" 'New, TLSv1.3' cat tls13.txt
echo | openssl s_client -connect 127.0.0.1:8443 -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' >tls11.txt 2>&1
check_out "HTTPS: TLS 1.1 refused" 'Cipher is \(NONE\)' cat tls11.txt
openssl x509 -in "$H/ca/tls.crt" -noout -text >tls.txt
check_out "server certificate: for 127.0.0.1" 'IP Address:127.0.0.1' cat tls.txt
check_out "server certificate: serverAuth" 'TLS Web Server Authentication' cat tls.txt
check_out "server certificate: issued by the issuing CA" 'Issuer: .*PIV Issuing CA' cat tls.txt

# ---- bad requests -----------------------------------------------------------------------------
code() { curl -s -o body.out -w '%{http_code}' "$@"; }
check_out "a body over max_body_kib: 413" '^413$' \
	code --data-binary @<(head -c 20000 /dev/zero) -H 'Content-Type: application/ocsp-request' "$OCSP"
check_out "headers over the limit: 431" '^431$' \
	code -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" "$HTTP/healthz"
check_out "a body that is no OCSP request: 400" '^400$' \
	code --data-binary 'not an OCSP request' -H 'Content-Type: application/ocsp-request' "$OCSP"
respin() { openssl ocsp -respin "$1" -resp_text -noverify 2>&1; true; }
check_out "... with malformedRequest in an OCSP response" 'Responder Error: malformedrequest' \
	respin body.out
check_out "a GET path that is no base64: 400" '^400$' code "$OCSP/not*base64"
check_out "PUT: 405" '^405$' code -X PUT --data-binary x "$OCSP"
check_out "an unknown path: 404" '^404$' code "$HTTP/nothing/here"
# a client that sends half a request and waits: closed after timeout_seconds
exec 3<>/dev/tcp/127.0.0.1/8480
printf 'POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab' >&3
timeout 30 cat <&3 >/dev/null; rc=$?
exec 3<&-
check "a client that stops sending is disconnected (timeout exit $rc)" test $rc = 0
ocsp good.pem
check_out "after all that, still answering" '^good.pem: good$' cat o.txt

# ---- the responder rolled over, the service restarted; SIGTERM -----------------------------------
old_fp=$(openssl x509 -in "$H/ca/ocsp.crt" -noout -fingerprint -sha256)
check_out "ca roll ocsp" 'ocsp certificate rolled over' "$P" ca roll ocsp --home "$H"
check_out "ca roll is audited" '"action":"ca.roll"' "$P" audit show --home "$H" --json
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; rc=$?
check "SIGTERM: serve exits 0 (got $rc)" test $rc = 0
check_out "SIGTERM: stopped cleanly" 'stopped$' tail -1 serve.log
check "SIGTERM: the ports are closed" closed 8480 && closed 8443
start
check "serve restarted" both
ocsp good.pem "" -resp_text
check_out "after the roll: still good and verified" '^Response verify OK' cat o.err
sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' o.txt >signer.pem
new_fp=$(openssl x509 -in signer.pem -noout -fingerprint -sha256)
check "after the roll: signed by the new responder" test "$new_fp" != "$old_fp" -a \
	"$new_fp" = "$(openssl x509 -in "$H/ca/ocsp.crt" -noout -fingerprint -sha256)"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"
check "the log holds no request body or OCSP request" \
	sh -c "! grep -q -e 'not an OCSP request' -e '$(printf %s "$b64" | head -c 20)' serve.log"
tl_done
