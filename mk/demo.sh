#!/usr/bin/env bash
# demo.sh BUILD: the main job, end to end, against virtual cards.
# Each step that exists is run; later issues extend this script.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "pivstation --version"
"$B/pivstation" --version
