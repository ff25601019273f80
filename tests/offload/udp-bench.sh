#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A/B benchmark of TUN UDP segmentation offload (USO): iperf3 -u at a fixed
# offered rate through the tunnel (the client's default DTLS channel), one
# direction per tunneld run, USO on and off (TUNNELD_NO_USO=1: TSO and
# checksum offloads stay on).  Prints Gbit/s received, datagrams lost,
# server CPU-seconds per GB received, TUN packets per read and per write and
# how many datagrams went in UDP super-packets.
#
#   tests/offload/udp-bench.sh [--seconds N] [--rounds N] [--rate R] [--len L]
#                              [--streams "1 4"] [--v6]
#
# --rate is the total offered rate (iperf3 -b, split over the streams).
# "down+gro" is the download with UDP GRO forwarding on the server's lan
# interface (ethtool -K lan0 gro on rx-udp-gro-forwarding on, and threaded
# NAPI so that a poll sees more than the one datagram the sender just
# queued, as a NIC's interrupt coalescing gives), so that the kernel hands
# tunneld forwarded datagrams as super-packets; without it the lab's
# forwarded UDP reaches the TUN device one datagram at a time whatever
# tunneld offers (iperf3 3.12 does not send with UDP_SEGMENT).
#
#   client c1 (iperf3 -c) ==DTLS tunnel== tunneld (server ns) ---- lan 198.18.1.2 / fd00:1::2 (iperf3 -s)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export top_builddir=${top_builddir:-$(cd "$HERE/../.." && pwd)}
. "$HERE/../e2e/lib/lib.sh"
. "$HERE/../e2e/lib/td.sh"

SECS=10
ROUNDS=1
RATE=2000 # Mbit/s
LEN=1300
STREAMS="1 4"
DST=198.18.1.2
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECS=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--rate) RATE=${2%M}; shift 2 ;;
	--len) LEN=$2; shift 2 ;;
	--streams) STREAMS=$2; shift 2 ;;
	--v6) DST=fd00:1::2; shift ;;
	*) echo "usage: $0 [--seconds N] [--rounds N] [--rate MBIT] [--len BYTES] [--streams \"1 4\"] [--v6]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "udp-bench.sh: run as root" >&2; exit 1; }
lab_need iperf3 openconnect jq ethtool
lab_init ubench
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_LOG_LEVEL=info td_config
CTL=${TD_CTL:-$TD_TOP/tunnelctl}

# Sum the workers' "TUN I/O" and "TUN super-packets" lines:
# reads read_pkts writes write_pkts udp_cut udp_cut_dgrams udp_written udp_written_dgrams.
tun_io() {
	{
		sed -n 's/.*TUN I\/O (offloads [a-z]*): \([0-9]*\) reads carried \([0-9]*\) packets.*, \([0-9]*\) writes carried \([0-9]*\) packets.*/io \1 \2 \3 \4/p' "$TD_LOG"
		sed -n 's/.*TUN super-packets: .* and \([0-9]*\) UDP into \([0-9]*\) datagrams; .* and \([0-9]*\) UDP of \([0-9]*\) datagrams.*/sp \1 \2 \3 \4/p' "$TD_LOG"
	} | awk '$1 == "io" { r += $2; rp += $3; w += $4; wp += $5 }
		$1 == "sp" { c += $2; cp += $3; u += $4; up += $5 }
		END { print r + 0, rp + 0, w + 0, wp + 0, c + 0, cp + 0, u + 0, up + 0 }'
}

channel() { "$CTL" -s "$LAB_DIR/control.sock" --json list | jq -r '.sessions[0].channel'; }

# run MODE DIR STREAMS: one tunneld run, one iperf3 -u direction (up: client -> lan).
run() {
	local mode=$1 dir=$2 p=$3 flag="" json gbps bytes lost cpu0 cpu1 io ch gro=off
	case $dir in down*) flag=-R ;; esac
	[ "$dir" = down+gro ] && gro=on
	lab_srv ethtool -K lan0 gro $gro rx-udp-gro-forwarding $gro >/dev/null
	# (GRO off takes the device's NAPI away, threaded or not.)
	[ $gro = off ] || lab_srv sh -c 'echo 1 >/sys/class/net/lan0/threaded'
	if [ "$mode" = off ]; then export TUNNELD_NO_USO=1; else unset TUNNELD_NO_USO; fi
	td_start
	lab_start_client c1 alice alice-pass
	lab_wait_client c1 20 || td_fail "client did not connect"
	for _ in $(seq 50); do [ "$(channel)" = dtls ] && break; sleep 0.1; done
	ch=$(channel)
	cpu0=$(lab_srv_cpu)
	json=$(lab_cli c1 timeout $((SECS + 30)) iperf3 -c "$DST" -p 5201 -u -l "$LEN" \
		-b "$((RATE / p))M" -P "$p" -t "$SECS" $flag -J || true)
	cpu1=$(lab_srv_cpu)
	gbps=$(jq -r '.end.sum_received.bits_per_second // 0' <<<"$json")
	bytes=$(jq -r '.end.sum_received.bytes // 0' <<<"$json")
	lost=$(jq -r '.end.sum_received.lost_percent // 0' <<<"$json")
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || true
	td_stop || td_fail "unclean stop"
	cp "$TD_LOG" "$LAB_DIR/tunneld-$mode-$dir-$p.log"
	io=$(tun_io)
	awk -v m="$mode" -v d="$dir" -v p="$p" -v ch="$ch" -v g="$gbps" -v b="$bytes" -v l="$lost" \
		-v c0="$cpu0" -v c1="$cpu1" -v io="$io" '
		BEGIN { split(io, x, " "); gb = b / 1e9
			printf "USO %-3s %-8s P%-2s %-4s %6.3f Gbit/s lost %5.1f%%  server %6.2f CPU-s = %5.2f CPU-s/GB  TUN %5.1f pkts/read %5.1f pkts/write  UDP super: %7d dgrams read in %6d, %7d written in %6d\n",
			m, d, p, ch, g / 1e9, l, c1 - c0, (gb > 0 ? (c1 - c0) / gb : 0),
			(x[1] ? x[2] / x[1] : 0), (x[3] ? x[4] / x[3] : 0), x[6], x[5], x[8], x[7] }' |
		tee -a "$LAB_DIR/summary"
}

lab_bg lan "$LAB_DIR/iperf-s.log" iperf3 -s -p 5201 >/dev/null
lab_wait_listen lan 5201 10
for _ in $(seq "$ROUNDS"); do
	for p in $STREAMS; do
		for dir in up down down+gro; do
			for mode in on off; do
				run "$mode" "$dir" "$p"
			done
		done
	done
done
echo
echo "== TUN USO A/B ($(nproc) CPUs, MTU 1400, UDP $LEN-byte datagrams at ${RATE} Mbit/s offered, $DST, ${SECS}s per run, data over the channel shown) =="
sort -s -k3,3 -k4,4 -k2,2r "$LAB_DIR/summary"
