#!/usr/bin/env bash
# vcard_opensc_mobile.sh: OpenSC 0.23 (opensc-tool, piv-tool, pkcs15-tool,
# pkcs11-tool with opensc-pkcs11.so) against the mobile profile; the flow is
# tests/sandbox/flow_opensc.sh.
ROOT=${PV_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	exec "$ROOT/tests/sandbox/run" --card 0:mobile -- bash "$0" "$@"
fi
. "$ROOT/tests/sandbox/testlib.sh"
. "$ROOT/tests/sandbox/flow_opensc.sh"
tl_workdir; tl_ca; tl_admin_key; cd "$TL_TMP" || exit 1

FLOW_SLOTS="9A:11 9C:07 9D:07"
FLOW_GEN_REF=9C
flow_opensc
tl_done
