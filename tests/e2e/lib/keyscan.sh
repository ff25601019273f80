# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# tests/e2e/lib/keyscan.sh - find a private key in a process's memory with
# memscan (tests/e2e/lib/memscan.c).  Source after lib.sh and td.sh.
#
#   keyscan_count PID KEYFILE [rsa]   occurrences of the key's patterns in PID
#   keyscan_named NAME                the master's children whose comm is NAME
#
# The patterns: 32 bytes of the secret (ECDSA, Ed25519: priv; RSA:
# prime1) as stored in the file and as little-endian limbs, and the PEM's
# first line of base64.

KEYSCAN_MEMSCAN=${KEYSCAN_MEMSCAN:-$TD_TOP/tests/e2e/lib/memscan}

# The hex of one field of "openssl pkey -text", without the sign byte DER
# adds before a high bit.
keyscan__field() {
	openssl pkey -in "$1" -noout -text | awk -v f="$2:" '
		$1 == f { on = 1; next }
		on && /^ / { gsub(/[ :]/, ""); h = h $0; next }
		on { exit }
		END { if (substr(h, 1, 2) == "00" && substr(h, 3, 1) ~ /[89a-f]/) h = substr(h, 3); print h }'
}

keyscan__patterns() {
	local secret
	case ${2:-} in
	rsa) secret=$(keyscan__field "$1" prime1) ;;
	*) secret=$(keyscan__field "$1" priv) ;;
	esac
	[ ${#secret} -ge 64 ] || td_fail "keyscan: no secret read from $1: '$secret'"
	echo "${secret:0:64}"
	echo "${secret: -64}" | fold -w2 | tac | tr -d '\n'
	echo
	sed -n 2p "$1" | tr -d '\n' | od -An -tx1 | tr -d ' \n'
	echo
}

keyscan_count() {
	[ -x "$KEYSCAN_MEMSCAN" ] || td_fail "$KEYSCAN_MEMSCAN not built (make check builds it)"
	# shellcheck disable=SC2046
	"$KEYSCAN_MEMSCAN" "$1" $(keyscan__patterns "$2" "${3:-}") | awk '{ n += $2 } END { print n + 0 }'
}

keyscan_named() {
	local p
	for p in $(ps -o pid= --ppid "$TD_PID"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && echo "$p"
	done
	return 0
}
