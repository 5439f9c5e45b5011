#!/usr/bin/env bash
# vcard_persist.sh: card state survives the vcard (SIGTERM and SIGKILL),
# pcscd restarts and whole sandboxes: same serial, keys, certificates,
# objects, PIN and counters, read back through yubico-piv-tool and OpenSC.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none

if [ -z "${PV_SANDBOX_DIR:-}" ]; then
	# Outside: two sandboxes in turn on the same two state files.
	export PV_PERSIST_DIR=$TL_TMP
	"$PV_ROOT/tests/sandbox/run" --card "0:usb-key:$TL_TMP/key.pv" \
		--card "1:piv-card:$TL_TMP/card.pv" -- bash "$TL_SELF" first || exit 1
	check_out "the state file is private (0600)" '^600$' stat -c %a "$TL_TMP/key.pv"
	check "no temporary file left next to it" \
		test -z "$(find "$TL_TMP" -name '*.tmp.*')"
	"$PV_ROOT/tests/sandbox/run" --card "0:usb-key:$TL_TMP/key.pv" \
		--card "1:piv-card:$TL_TMP/card.pv" -- bash "$TL_SELF" second || exit 1
	tl_done
	exit
fi

# Inside: what both sandboxes share lives next to the state files.
cd "$PV_PERSIST_DIR" || exit 1
MOD=$(tl_opensc_module) || exit 1
Y() { yubico-piv-tool -r "$PV_READER_0" "$@"; }
serial() { Y -a status | sed -nE 's/^Serial Number:[[:space:]]+//p'; }
card_cert() { pkcs15-tool -r 1 --read-certificate 01 2>/dev/null | openssl x509 -outform DER; }

# What must survive, checked after every interruption.  The PIN has one
# wrong try on it (2 left) each time.
same_usb_key() {
	check_out "$1: same serial" "^$(cat serial)\$" serial
	check "$1: same certificate in 9a" cmp <(Y -a read-certificate -s 9a -o - |
		openssl x509 -outform DER) <(openssl x509 -in cert9a.pem -outform DER)
	check_out "$1: same object 5fc10d" '^5303c0ffee$' Y -a read-object --id 0x5fc10d -f hex
	check_out "$1: the PIN retry counter (one wrong try)" 'PIN tries left:[[:space:]]+2' \
		Y -a status
	check_out "$1: the changed PIN and the same key in 9a" 'Successful ECDSA' \
		Y -a verify-pin -P 246810 -a test-signature -s 9a -i cert9a.pem
	Y -a verify-pin -P 000000 >/dev/null 2>&1	# 2 tries left again
}
same_piv_card() {
	check "$1: same certificate on the piv-card" cmp <(card_cert) \
		<(openssl x509 -in certcard.pem -outform DER)
	echo "persist" >data
	check "$1: the piv-card key still signs" pkcs11-tool --module "$MOD" \
		--slot-index 1 --login --pin 123456 --sign --mechanism ECDSA-SHA256 \
		--signature-format openssl --id 01 -i data -o sig
	check_out "$1: ... with the same key" 'Verified OK' \
		openssl dgst -sha256 -verify pubcard.pem -signature sig data
}

if [ "$1" = first ]; then
	tl_ca
	tl_admin_key
	serial >serial
	check "the usb-key has a serial" test -s serial
	check "generate in 9a" Y -a generate -s 9a -A ECCP256 -o pub9a.pem
	check "certificate 9a" tl_cert pub9a.pem persist cert9a.pem
	check "import-certificate 9a" Y -a import-certificate -s 9a -i cert9a.pem
	echo 5303c0ffee >obj.hex
	check "write-object 5fc10d" Y -a write-object --id 0x5fc10d -f hex -i obj.hex
	check "change-pin" Y -a change-pin -P 123456 -N 246810
	# piv-card through OpenSC
	out=$(piv-tool -r 1 -A M:9B:03 -s 00:47:00:9A:05:AC:03:80:01:11:00 2>&1)
	check "piv-card: generate 9A" tl_pub_from_7f49 "$(tl_apdu_hex <<<"$out")" pubcard.pem
	check "piv-card: certificate" tl_cert pubcard.pem card certcard.pem
	piv-tool -r 1 -A M:9B:03 -C 9A -i certcard.pem >/dev/null 2>&1
	check "piv-card: certificate loaded" cmp <(card_cert) <(openssl x509 -in certcard.pem -outform DER)
	Y -a verify-pin -P 000000 >/dev/null 2>&1	# one wrong try: 2 left

	check "vcardctl stop 0 (SIGTERM)" vcardctl stop 0
	check "vcardctl start 0 on the same state file" vcardctl start 0
	same_usb_key "after stop/start"
	check "vcardctl kill 1 (SIGKILL, a crash)" vcardctl kill 1
	check "vcardctl start 1" vcardctl start 1
	same_piv_card "after a crash"
	check "vcardctl pcscd-restart: cards reconnect" vcardctl pcscd-restart
	same_usb_key "after pcscd restart"
	same_piv_card "after pcscd restart"
	check_out "the restarted vcard reconnected" '"connections":[2-9]' vcardctl stats 1
else
	same_usb_key "in a new sandbox"
	same_piv_card "in a new sandbox"
fi
tl_done
