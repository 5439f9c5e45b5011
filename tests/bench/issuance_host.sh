#!/usr/bin/env bash
# issuance_host.sh BUILD [CARDS]: build tests/bench/bench_issuance_host.c
# against BUILD's libraries (the release build: `make BUILD=build`) and
# time the host-side work of one issuance per card (CA signing of the four
# certificates, 9d keygen and escrow, PUK escrow, CHUID and Security
# Object signing, 9b derivation).  A benchmark: prints figures, never fails
# on time.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
N=${2:-50}
[ -f "$B/lib/libpv_issuance.a" ] || { echo "build $B first (make BUILD=$B)" >&2; exit 2; }
out=$B/bench/bench_issuance_host
mkdir -p "$B/bench"
cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -I. \
	$(pkg-config --cflags openssl) tests/bench/bench_issuance_host.c \
	"$B/lib/libpv_issuance.a" "$B/lib/libpv_apdu.a" \
	$(pkg-config --libs openssl sqlite3 inih json-c zlib) -o "$out"
echo "host-side issuance work, $(nproc) CPU(s), $(openssl version)"
"$out" "$N"
