#!/usr/bin/env bash
# deps.sh: install the Debian 12 packages pivstation needs (idempotent).
# Quiet when everything is present; names what is missing otherwise.
set -euo pipefail

PKGS=(
	build-essential pkg-config clang libclang-rt-14-dev
	libpcsclite-dev pcscd vsmartcard-vpcd pcsc-tools
	opensc opensc-pkcs11 yubico-piv-tool yubikey-manager
	libssl-dev openssl libncurses-dev libsqlite3-dev sqlite3 libcriterion-dev
	zlib1g-dev libqrencode-dev libinih-dev libjson-c-dev libcurl4-openssl-dev
	libmicrohttpd-dev wrk
	tmux valgrind cppcheck iproute2 util-linux procps psmisc jq xxd python3
	libnss3-tools gnutls-bin openjdk-17-jre-headless
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		SUDO=sudo
	else
		echo "deps: not root: run 'sudo make deps' (or: sudo apt-get install ${missing[*]})" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: installed ${#missing[@]} package(s)"
