#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The private key lives in the key process only: a worker, even taken
# over, cannot read it (issue 12).  For an ECDSA, an RSA and an Ed25519
# certificate: openconnect logs in (the key process signed its handshake),
# then the memory of each worker and of the master is searched for the key
# (the private scalar or a prime, in the byte order of the file and in the
# little-endian limbs of a bignum, and the PEM text): none found; in the
# key process it is found, which proves the search works.  Then the key
# process is killed: the master starts a new one with the key, and logins
# go on.
#
#   c1 (openconnect) --br0-- tunneld: master, key process, 2 workers
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need openssl jq
MEMSCAN=$TD_TOP/tests/e2e/lib/memscan
CTL=$TD_TOP/tunnelctl
[ -x "$MEMSCAN" ] || td_fail "$MEMSCAN not built (make check builds it)"
lab_init keyp
lab_add_client c1
td_users alice:alice-pass

# The hex of one field of "openssl pkey -text" (priv:, prime1:), without
# the sign byte DER adds before a high bit.
field_hex() {
	openssl pkey -in "$1" -noout -text | awk -v f="$2:" '
		$1 == f { on = 1; next }
		on && /^ / { gsub(/[ :]/, ""); h = h $0; next }
		on { exit }
		END { if (substr(h, 1, 2) == "00" && substr(h, 3, 1) ~ /[89a-f]/) h = substr(h, 3); print h }'
}
# The bytes of hex $1 in reverse order.
reverse_hex() { echo "$1" | fold -w2 | tac | tr -d '\n'; }

# Search patterns for the key in $1: 32 bytes of its secret as stored in
# the file and as little-endian limbs, and the PEM's first line of base64.
patterns() {
	local secret
	case $2 in
	rsa) secret=$(field_hex "$1" prime1) ;;
	*) secret=$(field_hex "$1" priv) ;;
	esac
	[ ${#secret} -ge 64 ] || td_fail "no secret read from $1: '$secret'"
	echo "${secret:0:64}"
	reverse_hex "${secret: -64}"
	echo
	sed -n 2p "$1" | tr -d '\n' | od -An -tx1 | tr -d ' \n'
	echo
}

# Occurrences of the patterns in process $1, summed.
found_in() {
	# shellcheck disable=SC2046
	"$MEMSCAN" "$1" $(patterns "$LAB_KEY" "$2") | awk '{ n += $2 } END { print n + 0 }'
}

# The master's children by name: the key process (tunneld-key), the
# hashing processes (tunneld-hash); the workers are "tunneld".
children_named() {
	local p
	for p in $(ps -o pid= --ppid "$TD_PID"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$1" ] && echo "$p"
	done
	return 0
}
key_pid() { children_named tunneld-key; }

login() {
	lab_start_client c1 alice alice-pass
	lab_wait_client c1 20 || td_fail "$1: openconnect did not connect"
	lab_ping_ok c1 198.18.1.2 || td_fail "$1: no traffic"
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || td_fail "$1: client did not exit"
}

for kt in ecdsa rsa ed25519; do
	LAB_KEY_TYPE=$kt lab_make_cert
	grep -q "PRIVATE KEY" "$LAB_KEY" || td_fail "no $kt key made"
	TD_WORKERS=2 td_config
	td_start
	login "$kt"
	for w in $("$CTL" -s "$LAB_DIR/control.sock" --json status | jq -r '.workers[].pid') \
		$(children_named tunneld-hash) "$TD_PID"; do
		n=$(found_in "$w" "$kt")
		[ "$n" = 0 ] || td_fail "$kt: the private key is in the memory of pid $w ($n times)"
	done
	kp=$(key_pid)
	[ "$(wc -w <<<"$kp")" = 1 ] || td_fail "$kt: want one key process, got '$kp'"
	n=$(found_in "$kp" "$kt")
	[ "$n" -ge 1 ] || td_fail "$kt: the key was not found in the key process: the search is blind"
	td_pass "$kt: handshake signed by the key process; the key is in its memory ($n), in no worker's, hashing process's nor the master's"

	# A dead key process is replaced, with the key.
	kill -KILL "$kp"
	td_log_wait 'key process: key generation [0-9]+ loaded again' 10 ||
		td_fail "$kt: no new key process with the key"
	login "$kt after the key process died"
	td_pass "$kt: a new key process took over: logins go on"
	td_stop || td_fail "unclean stop"
	rm -f "$LAB_DIR/tunneld.conf"
done
