#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The TUN ACK filter end to end (common/offload.h, worker/tunio.c): a
# download of ACK_MB MB from the lan to the client, over TLS and over DTLS,
# sends the lan a stream of the client's pure ACKs; those followed in the
# worker's write batch by a later ACK of their flow are dropped.  The bytes
# must arrive intact, the workers' stop lines must count superseded ACKs
# and fewer TUN writes than without the filter, and TUNNELD_NO_ACK_FILTER=1
# must turn it off.  An upload (data and ACKs mixed) checks that nothing
# else is touched, a download under 1 % loss that SACK recovery still
# works.
#
#   client c1 (socat) ==TLS / DTLS tunnel== tunneld ---- lan 198.18.1.2 (socat)
set -euo pipefail
. "$(dirname "$0")/../e2e/lib/lib.sh"
. "$(dirname "$0")/../e2e/lib/td.sh"
lab_need socat sha256sum jq nft
lab_init ackf
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_LOG_LEVEL=info td_config
MB=${ACK_MB:-64}
head -c $((MB << 20)) /dev/urandom >"$LAB_DIR/data.bin"
want=$(sha256sum <"$LAB_DIR/data.bin" | cut -d' ' -f1)
port=5500
LOSS=0

# move NAME down|up: data.bin from the lan to the client, or back.
move() {
	local name=$1 dir=$2 pid
	port=$((port + 1))
	rm -f "$LAB_DIR/recv.bin"
	if [ "$dir" = down ]; then
		pid=$(lab_bg lan "$LAB_DIR/src.log" timeout 60 socat -u \
			OPEN:"$LAB_DIR/data.bin" "TCP-LISTEN:$port,reuseaddr")
		lab_wait_listen lan "$port" 10 || td_fail "$name: source not listening"
		lab_cli c1 timeout 60 socat -u "TCP:$LAB_LAN_IP:$port" \
			CREATE:"$LAB_DIR/recv.bin" || td_fail "$name: receive failed"
	else
		pid=$(lab_bg lan "$LAB_DIR/sink.log" timeout 60 socat -u \
			"TCP-LISTEN:$port,reuseaddr" CREATE:"$LAB_DIR/recv.bin")
		lab_wait_listen lan "$port" 10 || td_fail "$name: sink not listening"
		lab_cli c1 timeout 60 socat -u OPEN:"$LAB_DIR/data.bin" \
			"TCP:$LAB_LAN_IP:$port" || td_fail "$name: send failed"
	fi
	lab_wait_gone "$pid" 10
	td_check_sha "$name" "$LAB_DIR/recv.bin" "$want"
}

# "on|off superseded writes" over the workers' stop lines.
acks() {
	local state
	state=$(sed -n 's/.*TUN ACK filter \([a-z]*\):.*/\1/p' "$TD_LOG" | sort -u | paste -sd/)
	printf '%s ' "${state:-none}"
	sed -n 's/.*TUN ACK filter [a-z]*: \([0-9]*\) pure ACKs superseded.*/\1/p' "$TD_LOG" |
		awk '{ s += $1 } END { printf "%d ", s + 0 }'
	sed -n 's/.*TUN I\/O (offloads [a-z]*): .* \([0-9]*\) writes carried.*/\1/p' "$TD_LOG" |
		awk '{ w += $1 } END { print w + 0 }'
}

# run NAME down|up [--no-dtls]: one tunneld run, one transfer; sets state,
# sup(erseded) and writes.
run() {
	local name=$1 dir=$2
	shift 2
	td_start
	lab_start_client c1 alice alice-pass "$@"
	lab_wait_client c1 20 || td_fail "client did not connect"
	if [ $# = 0 ]; then
		td_wait_dtls 5 || td_fail "not on DTLS: $(td_session)"
	fi
	[ "$LOSS" = 1 ] && lab_srv nft -f - <<'NFT'
table inet loss {
	chain in { type filter hook input priority 0; udp dport 4443 numgen random mod 100 < 1 drop; }
	chain out { type filter hook output priority 0; udp sport 4443 numgen random mod 100 < 1 drop; }
}
NFT
	move "$name" "$dir"
	[ "$LOSS" = 1 ] && lab_srv nft delete table inet loss
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
	td_stop || td_fail "unclean stop"
	read -r state sup writes <<<"$(acks)"
	echo "$name: ACK filter $state, $sup ACKs superseded, $writes TUN writes"
}

unset TUNNELD_NO_ACK_FILTER
# A download of MB MB is ~MB * 750 segments, acknowledged every second
# (~100 of each MB's ACKs are superseded here).  Over DTLS the stock
# client's UDP receive buffer overflows at this rate, so most ACKs carry
# SACK blocks: they are superseded only by ACKs that repeat them.
for ch in TLS DTLS; do
	args=()
	[ $ch = TLS ] && args=(--no-dtls)
	run "$ch download, filter on" down "${args[@]}"
	[ "$state" = on ] || td_fail "$ch: the filter is $state"
	[ "$sup" -ge $((MB * 50)) ] || td_fail "$ch: only $sup ACKs superseded"
	[ "$writes" -lt $((MB * 400)) ] || td_fail "$ch: $writes TUN writes for $MB MB"
	td_pass "$ch download: $sup ACKs superseded, $writes TUN writes"
	eval "on_$ch=$writes"
done
run "TLS upload, filter on" up --no-dtls

# 1 % of the tunnel's datagrams lost at random both ways (nftables numgen;
# this kernel has no sch_netem): recovery runs on SACK and duplicate ACKs,
# which the filter must pass on.
LOSS=1
run "DTLS download under 1 % loss, filter on" down
[ "$sup" -gt 0 ] || td_fail "under loss: no ACKs superseded"
LOSS=0

export TUNNELD_NO_ACK_FILTER=1
run "TLS download, filter off" down --no-dtls
[ "$state" = off ] && [ "$sup" = 0 ] || td_fail "TUNNELD_NO_ACK_FILTER=1 ignored: $state, $sup"
[ "$writes" -gt $((on_TLS * 2)) ] ||
	td_fail "without the filter only $writes TUN writes (with it: $on_TLS)"
td_pass "filter off: $writes TUN writes (with it: $on_TLS)"
unset TUNNELD_NO_ACK_FILTER
rm -f "$LAB_DIR"/*.bin
