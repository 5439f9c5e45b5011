#!/usr/bin/env bash
# pkits.sh: the 249 cases of NIST PKITS 1.0.1 (tests/data/pkits, README
# there) through `pivstation validate --cert`, each with its trust anchor,
# untrusted certificates, CRLs and policy inputs, at 2011-04-15T00:00:00Z,
# CRLs only, hard-fail, a status required for every certificate below the
# anchor (PKITS §4.4).  A case agrees when the verdict is the expected one
# and, for a valid path, the reported user-constrained policy set is the
# expected one.  Disagreements fail the test unless tests/data/pkits/
# unsupported.txt lists the case with a reason.  The same cases go through
# `openssl verify` in the same run, with plain CRL checking and with
# -extended_crl -use_deltas; its figures are printed beside ours.
. "$(dirname "$0")/../sandbox/testlib.sh"
tl_sandbox --none
D=$PV_ROOT/tests/data/pkits
AT=2011-04-15T00:00:00Z
AT_EPOCH=1302825600
OUT=$TL_TMP/out
mkdir -p "$OUT" "$TL_TMP/pem"

# PEM copies for openssl verify, whose -CAfile wants PEM.
for f in "$D"/certs/*.crt; do
	openssl x509 -inform DER -in "$f" -out "$TL_TMP/pem/$(basename "$f" .crt).pem" 2>/dev/null
done
for f in "$D"/crls/*.crl; do
	openssl crl -inform DER -in "$f" -out "$TL_TMP/pem/$(basename "$f" .crl).crl.pem" 2>/dev/null
done

declare -A unsupported=()
if [ -f "$D/unsupported.txt" ]; then
	while read -r id reason; do
		[[ -z $id || $id == \#* ]] && continue
		unsupported[$id]=$reason
	done <"$D/unsupported.txt"
fi

n=0; agree=0; ossl_plain=0; ossl_ext=0; bad=0
disagree=()
ossl_dis=()
while IFS=$'\t' read -r id expected certs crls pols expl inhmap inhany ucps; do
	n=$((n + 1))
	read -ra cs <<<"$certs"
	read -ra cr <<<"$crls"
	read -ra ps <<<"$pols"
	args=(--anchor "$D/certs/${cs[0]}" --at "$AT" --no-fetch --revocation crl-only
		--hard-fail --ca-status required --json --home "$TL_TMP/nohome")
	last=$((${#cs[@]} - 1))
	for ((i = 1; i < last; i++)); do args+=(--untrusted "$D/certs/${cs[$i]}"); done
	for c in "${cr[@]}"; do args+=(--crl "$D/crls/$c"); done
	for p in "${ps[@]}"; do [ "$p" = anyPolicy ] || args+=(--policy "$p"); done
	[ "$expl" = true ] && args+=(--explicit-policy)
	[ "$inhmap" = true ] && args+=(--inhibit-policy-mapping)
	[ "$inhany" = true ] && args+=(--inhibit-any-policy)
	"$P" validate --cert "$D/certs/${cs[$last]}" "${args[@]}" >"$OUT/$id.json" 2>"$OUT/$id.err"
	rc=$?
	got=$(jq -r 'if .valid then "valid" else "invalid" end' "$OUT/$id.json" 2>/dev/null)
	ok=0
	want_rc=7; [ "$expected" = valid ] && want_rc=0
	if [ "$got" = "$expected" ] && [ $rc -eq $want_rc ]; then
		ok=1
		if [ "$expected" = valid ]; then
			# the reported policy set, as a sorted list, is the expected one
			want=$(tr ' ' '\n' <<<"$ucps" | sed 's/^anyPolicy$/2.5.29.32.0/' |
				sed '/^$/d' | sort | paste -sd, -)
			have=$(jq -r '.policy_set' "$OUT/$id.json" | tr -d ' ' | tr ',' '\n' |
				sed 's/^anyPolicy$/2.5.29.32.0/' | sed '/^$/d' | sort | paste -sd, -)
			[ "$want" = "$have" ] || { ok=0; got="valid, policy set {$have} not {$want}"; }
		fi
	fi
	if [ $ok -eq 1 ]; then
		agree=$((agree + 1))
	elif [ -n "${unsupported[$id]:-}" ]; then
		disagree+=("$id (unsupported: ${unsupported[$id]})")
	else
		bad=$((bad + 1))
		disagree+=("$id: expected $expected, got ${got:-exit $rc} $(head -c 300 "$OUT/$id.err")")
		jq -r '.checks[] | select(.status != "pass") | "    \(.id): \(.text)"' "$OUT/$id.json" 2>/dev/null | head -5 >&2
	fi

	# openssl verify on the same case
	ca=$TL_TMP/pem/${cs[0]%.crt}.pem
	: >"$TL_TMP/unt.pem"; : >"$TL_TMP/crl.pem"
	for ((i = 1; i < last; i++)); do cat "$TL_TMP/pem/${cs[$i]%.crt}.pem" >>"$TL_TMP/unt.pem"; done
	for c in "${cr[@]}"; do cat "$TL_TMP/pem/${c%.crl}.crl.pem" >>"$TL_TMP/crl.pem"; done
	oargs=(-attime "$AT_EPOCH" -CAfile "$ca" -crl_check_all -policy_check)
	[ -s "$TL_TMP/unt.pem" ] && oargs+=(-untrusted "$TL_TMP/unt.pem")
	[ -s "$TL_TMP/crl.pem" ] && oargs+=(-CRLfile "$TL_TMP/crl.pem")
	# openssl's initial policy set is empty unless given: anyPolicy by OID
	for p in "${ps[@]}"; do [ "$p" = anyPolicy ] && p=2.5.29.32.0; oargs+=(-policy "$p"); done
	[ "$expl" = true ] && oargs+=(-explicit_policy)
	[ "$inhmap" = true ] && oargs+=(-inhibit_map)
	[ "$inhany" = true ] && oargs+=(-inhibit_any)
	t=$TL_TMP/pem/${cs[$last]%.crt}.pem
	if openssl verify "${oargs[@]}" "$t" >/dev/null 2>&1; then o=valid; else o=invalid; fi
	[ "$o" = "$expected" ] && ossl_plain=$((ossl_plain + 1))
	if openssl verify "${oargs[@]}" -extended_crl -use_deltas "$t" >/dev/null 2>&1; then
		o=valid; else o=invalid; fi
	if [ "$o" = "$expected" ]; then ossl_ext=$((ossl_ext + 1)); else ossl_dis+=("$id"); fi
done < <(jq -r '.[] | [.case_id, .expected, (.certs | join(" ")), (.crls | join(" ")),
	(.user_initial_policy_set | join(" ")), .initial_explicit_policy,
	.initial_policy_mapping_inhibit, .initial_inhibit_any_policy,
	(.user_constrained_policy_set | join(" "))] | @tsv' "$D/pkits.json")

for d in "${disagree[@]}"; do tl_log "disagree: $d"; done
tl_log "openssl verify (-extended_crl -use_deltas) disagrees on: ${ossl_dis[*]}"
check "PKITS has 249 cases ($n run)" test "$n" -eq 249
check "no disagreement outside tests/data/pkits/unsupported.txt ($bad)" test "$bad" -eq 0
echo "summary: pkits: $agree/$n agree (pivstation validate); openssl verify: $ossl_ext/$n" \
	"(-crl_check_all -extended_crl -use_deltas), $ossl_plain/$n (-crl_check_all)"
tl_done
