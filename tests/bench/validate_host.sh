#!/usr/bin/env bash
# validate_host.sh BUILD [RUNS]: build tests/bench/bench_validate_host.c
# against BUILD's libraries (the release build: `make BUILD=build`) and
# time relying-party validation on the host: cold, warm, the host checks
# of a card, and look-ups in a CRL of 100 000 entries.  A benchmark:
# prints figures, never fails on time.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
N=${2:-200}
[ -f "$B/lib/libpv_issuance.a" ] || { echo "build $B first (make BUILD=$B)" >&2; exit 2; }
out=$B/bench/bench_validate_host
mkdir -p "$B/bench"
cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -I. \
	$(pkg-config --cflags openssl libpcsclite) tests/bench/bench_validate_host.c \
	"$B/lib/libpv_issuance.a" "$B/lib/libpv_pcsc.a" "$B/lib/libpv_apdu.a" \
	$(pkg-config --libs openssl sqlite3 inih json-c zlib libcurl libpcsclite) -lpthread -o "$out"
echo "relying-party validation on the host, $(nproc) CPU(s), $(openssl version)"
"$out" "$N"
