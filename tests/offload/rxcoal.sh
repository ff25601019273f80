#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Receive coalescing end to end: over TLS (worker/rxcoal.c; the client
# with --no-dtls, so its packets arrive on the TCP socket) and over DTLS
# (worker/udpio.c: the worker's UDP socket read on a deadline).  An upload of
# RXC_MB MB to the lan with pings beside it: the bytes arrive intact, 90 %
# of the pings are answered; right after it, pings alone must be answered at once
# (a client that stopped sending leaves coalescing at its next deadline, so
# small packets never wait for a mark they cannot reach).  The workers'
# stop lines must show coalescing entered and left, and recv() bringing
# many kilobytes each (~3 KiB without), or recvmmsg() many datagrams (~3
# without).  Runs with TUNNELD_NO_RXCOAL=1 must move the same bytes
# without it.
#
#   client c1 (socat, ping) ==TLS / DTLS tunnel== tunneld ---- lan 198.18.1.2 (socat)
set -euo pipefail
. "$(dirname "$0")/../e2e/lib/lib.sh"
. "$(dirname "$0")/../e2e/lib/td.sh"
lab_need socat sha256sum ping jq
lab_init rxc
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_LOG_LEVEL=info td_config
MB=${RXC_MB:-64}
head -c $((MB << 20)) /dev/urandom >"$LAB_DIR/data.bin"
want=$(sha256sum <"$LAB_DIR/data.bin" | cut -d' ' -f1)
port=5400

# upload NAME: data.bin from the client to the lan, pings beside it.
upload() {
	local name=$1 pid ping n
	port=$((port + 1))
	rm -f "$LAB_DIR/recv.bin"
	pid=$(lab_bg lan "$LAB_DIR/sink.log" timeout 60 socat -u \
		"TCP-LISTEN:$port,reuseaddr" CREATE:"$LAB_DIR/recv.bin")
	lab_wait_listen lan "$port" 10 || td_fail "$name: sink not listening"
	ping=$(lab_bg c1 "$LAB_DIR/ping-during.log" ping -c 200 -i 0.01 -W 2 "$LAB_LAN_IP")
	lab_cli c1 timeout 60 socat -u OPEN:"$LAB_DIR/data.bin" \
		"TCP:$LAB_LAN_IP:$port" || td_fail "$name: send failed"
	lab_wait_gone "$pid" 10
	td_check_sha "$name" "$LAB_DIR/recv.bin" "$want"
	lab_wait_gone "$ping" 10
	# A saturating upload may cost a ping or two, as on any link.
	n=$(sed -n 's/.* transmitted, \([0-9]*\) received.*/\1/p' "$LAB_DIR/ping-during.log")
	[ "${n:-0}" -ge 180 ] ||
		td_fail "$name: pings beside the upload: $(grep loss "$LAB_DIR/ping-during.log")"
	# Right after: each of 20 pings answered within a second.
	lab_cli c1 ping -c 20 -i 0.05 -W 1 "$LAB_LAN_IP" >"$LAB_DIR/ping-after.log" 2>&1 ||
		td_fail "$name: pings after the upload: $(grep loss "$LAB_DIR/ping-after.log")"
	td_pass "$name: pings beside and after the upload answered" \
		"($(sed -n 's/^rtt .* = \([^ ]*\) ms/\1/p' "$LAB_DIR/ping-after.log") ms after)"
}

# "reads bytes entered left", summed over the workers' stop lines.
reads() {
	sed -n 's/.*client reads: \([0-9]*\) recv() carried \([0-9]*\) bytes .*entered \([0-9]*\) times, left \([0-9]*\),.*/\1 \2 \3 \4/p' "$TD_LOG" |
		awk '{ r += $1; b += $2; e += $3; l += $4 } END { print r + 0, b + 0, e + 0, l + 0 }'
}

# "datagrams calls entered left" of the DTLS sockets, over the workers.
dgrams() {
	sed -n 's/.*DTLS in: \([0-9]*\) datagrams in \([0-9]*\) recvmmsg.*/\1 \2/p' "$TD_LOG" |
		awk '{ d += $1; c += $2 } END { printf "%d %d ", d + 0, c + 0 }'
	sed -n 's/.*DTLS in, coalescing: entered \([0-9]*\) times, left \([0-9]*\),.*/\1 \2/p' "$TD_LOG" |
		awk '{ e += $1; l += $2 } END { print e + 0, l + 0 }'
}

# run NAME [--no-dtls]
run() {
	local name=$1
	shift
	td_start
	lab_start_client c1 alice alice-pass "$@"
	lab_wait_client c1 20 || td_fail "client did not connect"
	if [ $# = 0 ]; then
		td_wait_dtls 5 || td_fail "not on DTLS: $(td_session)"
	fi
	upload "$name"
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
	td_stop || td_fail "unclean stop"
	read -r r b e l <<<"$(reads)"
	[ "$r" -gt 0 ] || td_fail "$name: no client reads counted"
	read -r dg dc de dl <<<"$(dgrams)"
}

unset TUNNELD_NO_RXCOAL
run coalescing --no-dtls
echo "coalescing: $r reads carried $b bytes ($((b / r)) per read), entered $e, left $l"
[ "$b" -ge $((MB << 20)) ] || td_fail "only $b bytes read for $MB MB"
[ "$e" -ge 1 ] || td_fail "coalescing never entered"
[ "$l" -ge 1 ] || td_fail "coalescing never left after the upload"
[ $((b / r)) -ge 12288 ] || td_fail "only $((b / r)) bytes per recv() with coalescing"
td_pass "coalescing: $((b / r)) bytes per recv(), entered $e times, left $l"
on=$((b / r))

run "DTLS coalescing"
echo "DTLS coalescing: $dg datagrams in $dc recvmmsg calls, entered $de, left $dl"
[ "$dg" -ge $((MB * 1048576 / 1400)) ] || td_fail "only $dg datagrams for $MB MB"
[ "$de" -ge 1 ] || td_fail "DTLS coalescing never entered"
[ "$dl" -ge 1 ] || td_fail "DTLS coalescing never left after the upload"
[ "$dg" -ge $((dc * 8)) ] || td_fail "only $((dg / dc)) datagrams per recvmmsg() with coalescing"
td_pass "DTLS coalescing: $((dg / dc)) datagrams per recvmmsg(), entered $de times, left $dl"
don=$((dg / dc))

export TUNNELD_NO_RXCOAL=1
run "no coalescing" --no-dtls
echo "no coalescing: $r reads carried $b bytes ($((b / r)) per read), entered $e"
[ "$e" = 0 ] || td_fail "TUNNELD_NO_RXCOAL=1 ignored"
td_pass "no coalescing: $((b / r)) bytes per recv() (with: $on)"
run "no DTLS coalescing"
echo "no DTLS coalescing: $dg datagrams in $dc recvmmsg calls, entered $de"
[ "$de" = 0 ] || td_fail "TUNNELD_NO_RXCOAL=1 ignored for DTLS"
td_pass "no DTLS coalescing: $((dg / dc)) datagrams per recvmmsg() (with: $don)"
rm -f "$LAB_DIR"/*.bin
