#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TUN UDP segmentation offload (USO) end to end, over the client's default
# DTLS channel.  Streams of datagrams (at most 1300 bytes each) both ways,
# IPv4 and IPv6; the bytes that arrive must be the bytes sent (SHA-256):
#  - to the client from senders that use UDP_SEGMENT (socat setsockopt), in
#    the lan (forwarded) and on the server itself: the kernel hands tunneld
#    UDP super-packets (GSO_UDP_L4) to cut into datagrams, each with its own
#    lengths, IPv4 id and checksums;
#  - from the client: its datagrams arrive over DTLS in batches and go to
#    the TUN device merged into USO super-packets.
# The workers' stop lines must show both paths used, the session's summary
# that DTLS carried the datagrams.  With two workers and no steering, UDP
# super-packets read by the wrong worker are handed whole to the client's.
# A last run with TUNNELD_NO_USO=1 keeps TSO, moves UDP one datagram per
# syscall and must deliver the same bytes.
#
#   client c1 (socat) ==DTLS tunnel== tunneld [server ns: socat] ---- lan 198.18.1.2 / fd00:1::2 (socat)
set -euo pipefail
. "$(dirname "$0")/../e2e/lib/lib.sh"
. "$(dirname "$0")/../e2e/lib/td.sh"
lab_need socat sha256sum split jq
lab_init uso
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_LOG_LEVEL=info td_config
MB=${USO_MB:-4}
BURST=$((48 * 1300)) # one UDP_SEGMENT write: 48 datagrams
head -c $((MB << 20)) /dev/urandom >"$LAB_DIR/data.bin"
want=$(sha256sum <"$LAB_DIR/data.bin" | cut -d' ' -f1)
mkdir "$LAB_DIR/chunks"
split -b $BURST -d -a 4 "$LAB_DIR/data.bin" "$LAB_DIR/chunks/c"
port=5300
# Root may give the sink a receive buffer past rmem_max (SO_RCVBUFFORCE,
# before bind: a host-order int as socat's hex bytes, little-endian here):
# it holds the whole stream, so a busy machine does not drop datagrams.
rcvbuf=$((4 * (MB << 20)))
SINK_BUF=$(printf 'setsockopt-listen=1:33:x%02x%02x%02x%02x' $((rcvbuf & 255)) \
	$((rcvbuf >> 8 & 255)) $((rcvbuf >> 16 & 255)) $((rcvbuf >> 24 & 255)))
GSO="setsockopt-int=17:103:1300" # SOL_UDP, UDP_SEGMENT

# send FROM_NS ADDR:PORT gso|plain|flows: data.bin in bursts of 48
# datagrams, 10 ms apart, from one socket (flows: a socket, so a flow, per
# burst); gso and flows write each burst at once with UDP_SEGMENT.
send() {
	local from=$1 to=$2 mode=$3 f
	if [ "$mode" = flows ]; then
		for f in "$LAB_DIR"/chunks/c*; do
			lab_cli "$from" timeout 10 socat -u -b $BURST OPEN:"$f" "UDP-SENDTO:$to,$GSO" ||
				return 1
			sleep 0.01
		done
		return 0
	fi
	for f in "$LAB_DIR"/chunks/c*; do
		cat "$f"
		sleep 0.01
	done | if [ "$mode" = gso ]; then
		lab_cli "$from" timeout 60 socat -u -b $BURST - "UDP-SENDTO:$to,$GSO"
	else
		# Without UDP_SEGMENT each read of the pipe is one datagram.
		lab_cli "$from" timeout 60 socat -u -b 1300 - "UDP-SENDTO:$to"
	fi
}

# xfer NAME FROM_NS TO_NS ADDR MODE: send data.bin (see send) to a socat on
# ADDR in TO_NS; compare the hashes.
xfer() {
	local name=$1 from=$2 to=$3 addr=$4 mode=$5 got pid size
	port=$((port + 1))
	rm -f "$LAB_DIR/recv.bin"
	pid=$(lab_bg "$to" "$LAB_DIR/sink.log" timeout 60 socat -u -b 65536 \
		"UDP6-RECV:$port,ipv6only=0,$SINK_BUF" CREATE:"$LAB_DIR/recv.bin")
	lab_wait_listen "$to" "$port" 10 udp || td_fail "$name: sink not listening"
	case $addr in *:*) addr="[$addr]" ;; esac
	send "$from" "$addr:$port" "$mode" || td_fail "$name: send failed"
	for _ in $(seq 50); do
		size=$(stat -c %s "$LAB_DIR/recv.bin" 2>/dev/null || echo 0)
		[ "$size" -ge $((MB << 20)) ] && break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	got=$(sha256sum <"$LAB_DIR/recv.bin" | cut -d' ' -f1)
	[ "$got" = "$want" ] ||
		td_fail "$name: SHA-256 mismatch ($size of $((MB << 20)) bytes arrived)"
	td_pass "$name: $MB MB of datagrams intact"
}

# super: "tcp_cut tcp_segs udp_cut udp_dgrams tcp_wr tcp_segs udp_wr udp_dgrams",
# summed over the workers' stop lines.
super() {
	sed -n 's/.*TUN super-packets: cut \([0-9]*\) TCP into \([0-9]*\) segments and \([0-9]*\) UDP into \([0-9]*\) datagrams; wrote \([0-9]*\) TCP of \([0-9]*\) segments and \([0-9]*\) UDP of \([0-9]*\) datagrams.*/\1 \2 \3 \4 \5 \6 \7 \8/p' "$TD_LOG" |
		awk '{ for (i = 1; i <= 8; i++) s[i] += $i }
			END { print s[1]+0, s[2]+0, s[3]+0, s[4]+0, s[5]+0, s[6]+0, s[7]+0, s[8]+0 }'
}

connect() {
	lab_start_client c1 alice alice-pass
	lab_wait_client c1 20 || td_fail "client did not connect"
	ip4=$(lab_client_state c1 ip4)
	ip6=$(lab_client_state c1 ip6)
	td_wait_dtls 5 || td_fail "not on DTLS: $(td_session)"
}

# Packets from and to the client over DTLS, from the session's summary.
disconnect() {
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
	td_log_wait "session-end id=[0-9]+ user=alice " 5 || td_fail "no session summary"
	dtls_in=$(td_end_field alice dtls_rx_pkts)
	dtls_out=$(td_end_field alice dtls_tx_pkts)
	td_stop || td_fail "unclean stop"
}
dgrams=$((MB * 1048576 / 1300))

# --- USO on (the default on this kernel) ---
unset TUNNELD_NO_USO TUNNELD_NO_OFFLOAD
td_start
grep -q 'TUN vpns0: offloads on (checksums, TSO4, TSO6, USO4, USO6' "$TD_LOG" ||
	td_fail "USO is not on: $(grep 'TUN vpns0' "$TD_LOG")"
connect
xfer "IPv4 lan -> client (UDP_SEGMENT)" lan c1 "$ip4" gso
xfer "IPv6 lan -> client (UDP_SEGMENT)" lan c1 "$ip6" gso
xfer "IPv4 server -> client (UDP_SEGMENT)" srv c1 "$ip4" gso
xfer "IPv4 client -> lan" c1 lan "$LAB_LAN_IP" plain
xfer "IPv6 client -> lan" c1 lan "$LAB_LAN_IP6" plain
lab_ping_ok c1 "$LAB_LAN_IP" 3 || td_fail "ping after the transfers"
disconnect
[ "${dtls_in:-0}" -ge $((2 * dgrams)) ] && [ "${dtls_out:-0}" -ge $((3 * dgrams)) ] ||
	td_fail "not carried by DTLS: ${dtls_in:-0} pkts from the client, ${dtls_out:-0} to it"
read -r _ _ uc ud _ _ uw uwd <<<"$(super)"
echo "USO on: cut $uc UDP super-packets into $ud datagrams, wrote $uw of $uwd datagrams"
# Three streams to the client of $MB MB in datagrams of 1300 bytes: most
# of them must have come as super-packets, many datagrams each.
[ "$ud" -ge $((3 * dgrams / 2)) ] || td_fail "only $ud datagrams came in UDP super-packets"
[ "$ud" -ge $((4 * uc)) ] || td_fail "$uc UDP super-packets carried only $ud datagrams"
# From the client they come as the client sends them: demand merged writes
# for a tenth of the two streams.
[ "$uwd" -ge $((2 * dgrams / 10)) ] || td_fail "only $uwd datagrams went in UDP super-packets"
td_pass "USO on: UDP super-packets read ($ud datagrams in $uc) and written ($uwd in $uw)"

# --- two workers, no steering: the wrong worker hands super-packets on ---
mv "$TD_LOG" "$TD_LOG.1"
TD_WORKERS=2 TD_LOG_LEVEL=info td_config
export TUNNELD_NO_STEERING=1
td_start
connect
# One flow per burst: each lands on a queue by its own hash.
xfer "two workers: IPv4 lan -> client, a flow per burst" lan c1 "$ip4" flows
disconnect
unset TUNNELD_NO_STEERING
read -r _ _ uc ud _ _ _ _ <<<"$(super)"
handoffs=$(sed -n 's/.*handed off \([0-9]*\) packets.*/\1/p' "$TD_LOG" | awk '{s += $1} END {print s + 0}')
took=$(sed -n 's/.*packets to other workers, took \([0-9]*\),.*/\1/p' "$TD_LOG" | awk '{s += $1} END {print s + 0}')
# $((dgrams / 48 + 1)) flows on two queues by hash: all on one has odds of 2^-68.
[ "$handoffs" -ge 48 ] && [ "$took" = "$handoffs" ] ||
	td_fail "super-packets not handed over: $handoffs packets handed off, $took taken"
[ "$ud" -ge "$dgrams" ] && [ "$ud" -ge $((4 * uc)) ] ||
	td_fail "two workers: $uc UDP super-packets carried only $ud datagrams"
td_pass "two workers: $handoffs datagrams handed over in super-packets, all cut by the client's worker"
TD_WORKERS=1 TD_LOG_LEVEL=info td_config

# --- USO off, TSO kept ---
mv "$TD_LOG" "$TD_LOG.2"
export TUNNELD_NO_USO=1
td_start
grep -q 'TUN vpns0: offloads on (checksums, TSO4, TSO6: .*USO off, TUNNELD_NO_USO is set' \
	"$TD_LOG" || td_fail "TUNNELD_NO_USO=1 ignored: $(grep 'TUN vpns0' "$TD_LOG")"
connect
xfer "no USO: IPv4 lan -> client (UDP_SEGMENT)" lan c1 "$ip4" gso
xfer "no USO: IPv6 client -> lan" c1 lan "$LAB_LAN_IP6" plain
disconnect
read -r _ _ uc ud _ _ uw uwd <<<"$(super)"
[ "$uc" = 0 ] && [ "$uw" = 0 ] || td_fail "no USO, yet $uc UDP super-packets read, $uw written"
td_pass "no USO: UDP one datagram per TUN read and write"
unset TUNNELD_NO_USO
rm -rf "$LAB_DIR"/*.bin "$LAB_DIR/chunks"
