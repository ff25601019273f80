#!/bin/bash
# A/B benchmark of the TUN offloads: iperf3 through the tunnel, one
# direction per tunneld run, with offloads on and off (TUNNELD_NO_OFFLOAD=1),
# so the packets-per-syscall counters of each run belong to one direction.
#
#   tests/offload/bench.sh [--seconds N] [--rounds N] [--v6] [--rxcoal | --ack-filter]
#                          [--tls] [--dir up|down]
#
# --rxcoal: A/B of receive coalescing instead (TUNNELD_NO_RXCOAL=1 for
# "off"; worker/rxcoal.c); --ack-filter: of the TUN ACK filter
# (TUNNELD_NO_ACK_FILTER=1; worker/tunio.c), which matters for downloads;
# --tls: the client without DTLS (--no-dtls), so its packets arrive on the
# TLS connection, where coalescing applies; --dir: one direction only.
# BENCH_MODES=on runs only the "on" half (to compare two builds).
#
#   client c1 ==tunnel== tunneld (server ns) ---- lan 198.18.1.2 / fd00:1::2 (iperf3 -s)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export top_builddir=${top_builddir:-$(cd "$HERE/../.." && pwd)}
. "$HERE/../e2e/lib/lib.sh"
. "$HERE/../e2e/lib/td.sh"

SECS=10
ROUNDS=1
DST=198.18.1.2
KNOB=TUNNELD_NO_OFFLOAD
WHAT=offloads
OC_ARGS=()
DIRS="up down"
USAGE="usage: $0 [--seconds N] [--rounds N] [--v6] [--rxcoal | --ack-filter] [--tls] [--dir up|down]"
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--v6) DST=fd00:1::2; shift ;;
	--rxcoal) KNOB=TUNNELD_NO_RXCOAL WHAT=rxcoal; shift ;;
	--ack-filter) KNOB=TUNNELD_NO_ACK_FILTER WHAT=ack-filter; shift ;;
	--tls) OC_ARGS=(--no-dtls); shift ;;
	--dir) DIRS=$2; shift 2 ;;
	*) echo "$USAGE" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "bench.sh: run as root" >&2; exit 1; }
lab_need iperf3 openconnect
lab_init obench
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_LOG_LEVEL=info td_config

# Sum the workers' "TUN I/O" lines: reads read_pkts writes write_pkts.
tun_io() {
	sed -n 's/.*TUN I\/O (offloads [a-z]*): \([0-9]*\) reads carried \([0-9]*\) packets.*, \([0-9]*\) writes carried \([0-9]*\) packets.*/\1 \2 \3 \4/p' "$TD_LOG" |
		awk '{ r += $1; rp += $2; w += $3; wp += $4 } END { print r + 0, rp + 0, w + 0, wp + 0 }'
}

# run MODE DIR: one tunneld run, one iperf3 direction (up: client -> lan).
run() {
	local mode=$1 dir=$2 flag="" gbps cpu0 cpu1 io
	[ "$dir" = down ] && flag=-R
	unset TUNNELD_NO_OFFLOAD TUNNELD_NO_RXCOAL TUNNELD_NO_ACK_FILTER
	[ "$mode" = off ] && export "$KNOB=1"
	td_start
	lab_start_client c1 alice alice-pass "${OC_ARGS[@]}"
	lab_wait_client c1 20 || td_fail "client did not connect"
	cpu0=$(lab_srv_cpu)
	gbps=$(lab_cli c1 timeout $((SECS + 30)) iperf3 -c "$DST" -p 5201 -t "$SECS" $flag -J |
		awk -F'[:,]' '/"sum_received"/ {f=1} f && /"bits_per_second"/ {printf "%.3f", $2/1e9; exit}')
	cpu1=$(lab_srv_cpu)
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || true
	td_stop || td_fail "unclean stop"
	cp "$TD_LOG" "$LAB_DIR/tunneld-$mode-$dir.log"
	io=$(tun_io)
	# recv() calls on clients' TLS connections and their bytes.
	io="$io $(sed -n 's/.*client reads: \([0-9]*\) recv() carried \([0-9]*\) bytes.*/\1 \2/p' "$TD_LOG" |
		awk '{ r += $1; b += $2 } END { print r + 0, b + 0 }')"
	awk -v w="$WHAT" -v m="$mode" -v d="$dir" -v g="${gbps:-0}" -v a="$cpu0" -v b="$cpu1" -v s="$SECS" -v io="$io" '
		BEGIN { split(io, x, " "); gb = g * s / 8
			printf "%s %-3s %-4s %6.3f Gbit/s  server %5.2f CPU-s = %5.2f CPU-s/GB  TUN: %7d reads %8d pkts (%5.1f/read)  %7d writes %8d pkts (%5.1f/write)  TLS: %7d recv (%6.0f B/recv)\n",
			w, m, d, g, b - a, (gb > 0 ? (b - a) / gb : 0), x[1], x[2], (x[1] ? x[2] / x[1] : 0),
			x[3], x[4], (x[3] ? x[4] / x[3] : 0), x[5], (x[5] ? x[6] / x[5] : 0) }' | tee -a "$LAB_DIR/summary"
}

lab_bg lan "$LAB_DIR/iperf-s.log" iperf3 -s -p 5201 >/dev/null
lab_wait_listen lan 5201 10
for _ in $(seq "$ROUNDS"); do
	for mode in ${BENCH_MODES:-on off}; do
		for dir in $DIRS; do
			run "$mode" "$dir"
		done
	done
done
echo
echo "== $WHAT A/B ($(nproc) CPUs, MTU 1400, $DST, ${SECS}s per run) =="
sort -s -k2,2 -k3,3 "$LAB_DIR/summary"
