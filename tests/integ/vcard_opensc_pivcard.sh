#!/usr/bin/env bash
# vcard_opensc_pivcard.sh: OpenSC 0.23 (opensc-tool, piv-tool, pkcs15-tool,
# pkcs11-tool with opensc-pkcs11.so) against the piv-card profile; the flow is
# tests/sandbox/flow_opensc.sh.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --card 0:piv-card
. "$PV_ROOT/tests/sandbox/flow_opensc.sh"
tl_ca; tl_admin_key

FLOW_SLOTS="9A:14 9C:07 9D:07 9E:11"
FLOW_GEN_REF=9A
flow_opensc
tl_done
