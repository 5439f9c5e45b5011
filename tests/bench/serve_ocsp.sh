#!/usr/bin/env bash
# serve_ocsp.sh BUILD [SECONDS]: `pivstation serve` on loopback, loaded
# with wrk at 64 connections for SECONDS (default 10) each: OCSP over POST
# (a signed answer looked up in the store per request) and over GET (the
# request in the path), then the CRL download.  Prints requests per
# second and the latency percentiles wrk measures.  A benchmark: prints
# figures, never fails on time; fails only when the service does not
# answer what it should.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
S=${2:-10}
P=$PWD/$B/pivstation
[ -x "$P" ] || { echo "build $B first (make BUILD=$B)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed (make deps)" >&2; exit 2; }
t=$(mktemp -d); trap 'kill "${SP:-}" 2>/dev/null; wait 2>/dev/null; rm -rf "$t"' EXIT
export PIVSTATION_OPERATOR=bench PIVSTATION_CA_PASSPHRASE="bench ca passphrase"
H=$t/home
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
HP=$(port)
U=http://127.0.0.1:$HP
"$P" init --home "$H" --admin bench >/dev/null
sed -i -e "s|^ocsp = .*|ocsp = $U/ocsp|" -e "s|^crl = .*|crl = $U/crl/pivstation.crl|" \
	-e "s|^ca_issuers = .*|ca_issuers = $U/aia/pivstation-issuing.p7c|" \
	-e "s|^threads = .*|threads = $(nproc)|" "$H/pivstation.conf"
"$P" ca init --home "$H" --alg p256 >/dev/null
"$P" ca crl --home "$H" >/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$t/ee.key" 2>/dev/null
openssl pkey -in "$t/ee.key" -pubout -out "$t/ee.pub"
"$P" ca issue --home "$H" --slot 9a --pubkey "$t/ee.pub" --fascn S9999F0001F000001F0F1F0000012345100001E \
	--uuid 11111111-2222-4333-8444-555555555555 --expiry "$(date -u -d '+1 year' +%F)" \
	--subject "C=US, CN=Bench" --out "$t/ee.pem" 2>/dev/null
openssl ocsp -issuer "$H/ca/issuing.crt" -cert "$t/ee.pem" -no_nonce -reqout "$t/req.der" >/dev/null 2>&1

"$P" serve --home "$H" --listen "" --listen-http "127.0.0.1:$HP" --quiet 2>"$t/serve.log" &
SP=$!
for _ in $(seq 200); do curl -s -o /dev/null "$U/healthz" && break; sleep 0.05; done
# what is measured must work: a verified answer (unknown: not in the store)
openssl ocsp -issuer "$H/ca/issuing.crt" -cert "$t/ee.pem" -url "$U/ocsp" -CAfile "$H/ca/root.crt" \
	>"$t/o.txt" 2>&1 && grep -q 'ee.pem: unknown' "$t/o.txt" || {
	echo "the responder does not answer:"; cat "$t/o.txt" "$t/serve.log"; exit 1; }

cat >"$t/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/ocsp-request"
local f = io.open("$t/req.der", "rb")
wrk.body = f:read("*a")
f:close()
LUA
get=$(base64 -w0 "$t/req.der" | sed -e 's|+|%2B|g' -e 's|/|%2F|g' -e 's|=|%3D|g')
echo "pivstation serve on loopback, $(nproc) CPU(s), [serve] threads = $(nproc), wrk -t2 -c64 -d${S}s"
run() { # LABEL ARGS...
	local label=$1; shift
	wrk -t2 -c64 -d"${S}s" --latency "$@" >"$t/wrk.txt" 2>&1
	awk -v l="$label" '
		/Requests\/sec/ { rps = $2 }
		/^ +50%/ { p50 = $2 } /^ +90%/ { p90 = $2 } /^ +99%/ { p99 = $2 }
		/Non-2xx/ { bad = $NF }
		/Socket errors/ { err = $0 }
		END { printf "%-22s %10s req/s   p50 %8s   p90 %8s   p99 %8s%s%s\n", l, rps, p50, p90, p99,
			bad ? "   non-2xx " bad : "", err ? "   " err : "" }' "$t/wrk.txt"
}
run "OCSP POST (P-256)" -s "$t/post.lua" "$U/ocsp"
run "OCSP GET (P-256)" "$U/ocsp/$get"
run "CRL download" "$U/crl/pivstation.crl"
kill -TERM "$SP"; wait "$SP"; SP=
