#!/usr/bin/env bash
# check-layers.sh: dependencies point one way (DESIGN.md "Layers"):
#   cli/tui -> issuance -> pcsc -> apdu;  vcard -> apdu.
# A folder may include its own headers and those of layers below it, and
# must not include the system headers its layer is kept away from.
set -uo pipefail
cd "$(dirname "$0")/.."

declare -A ALLOW=(
	[apdu]="apdu"
	[pcsc]="apdu pcsc"
	[issuance]="apdu pcsc issuance"
	[tui]="apdu pcsc issuance tui"
	[cli]="apdu pcsc issuance tui cli"
	[vcard]="apdu vcard"
)
declare -A FORBID_SYS=(
	[apdu]="winscard.h pcsclite.h reader.h sqlite3.h curses.h ncurses.h"
	[pcsc]="sqlite3.h curses.h ncurses.h"
	[issuance]="curses.h ncurses.h"
	[tui]="winscard.h pcsclite.h sqlite3.h"
	[cli]="winscard.h sqlite3.h curses.h ncurses.h"
	[vcard]="winscard.h sqlite3.h curses.h ncurses.h"
)

bad=0
for layer in "${!ALLOW[@]}"; do
	[ -d "$layer" ] || continue
	while IFS= read -r hit; do
		[ -n "$hit" ] || continue
		file=${hit%%:*}
		inc=$(sed -E 's/.*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/' <<<"$hit")
		dir=${inc%%/*}
		[ "$dir" = "$inc" ] && continue	# same-folder include
		ok=0
		for a in ${ALLOW[$layer]}; do [ "$dir" = "$a" ] && ok=1; done
		if [ $ok -eq 0 ]; then
			echo "check-layers: $file includes \"$inc\": $layer/ may not use $dir/" >&2
			bad=1
		fi
	done < <(grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$layer"/*.[ch] 2>/dev/null)
	for h in ${FORBID_SYS[$layer]}; do
		if grep -lE "^[[:space:]]*#[[:space:]]*include[[:space:]]*<([A-Za-z]+/)?$h>" "$layer"/*.[ch] 2>/dev/null; then
			echo "check-layers: the files above in $layer/ include <$h>, which $layer/ must not use" >&2
			bad=1
		fi
	done
done
# apdu/ does no I/O: no stream or file calls.
if grep -nE '\b(fopen|fprintf|printf|puts|fputs|fwrite|fread|perror|open|read|write|syslog)[[:space:]]*\(' apdu/*.c 2>/dev/null \
    | grep -vE '^\S+:[0-9]+:\s*(/\*|\*)'; then
	echo "check-layers: apdu/ must not do I/O (calls above)" >&2
	bad=1
fi
[ $bad -eq 0 ] && echo "check-layers: ok"
exit $bad
