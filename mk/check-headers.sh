#!/usr/bin/env bash
# check-headers.sh: every project header compiles on its own.
set -uo pipefail
cd "$(dirname "$0")/.."
CC=$1; FLAGS=$2
bad=0; n=0
for h in apdu/*.h pcsc/*.h issuance/*.h tui/*.h cli/*.h vcard/*.h tests/support/*.h; do
	[ -f "$h" ] || continue
	n=$((n + 1))
	if ! echo "#include \"$h\"" | $CC $FLAGS -fsyntax-only -x c - 2>/tmp/pv-hdr.$$; then
		echo "check-headers: $h does not compile alone:" >&2
		cat /tmp/pv-hdr.$$ >&2
		bad=1
	fi
done
rm -f /tmp/pv-hdr.$$
[ $bad -eq 0 ] && echo "check-headers: $n headers ok"
exit $bad
