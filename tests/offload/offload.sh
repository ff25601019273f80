#!/bin/bash
# TUN offloads end to end.  TCP over IPv4 and IPv6 both ways between the
# client and the lan (super-packets forwarded by the server), TCP from the
# server's own stack (super-packets with partial checksums) and UDP from it
# (a partial checksum without GSO); SHA-256 compared on both ends.  The
# workers' counters must then show many packets per TUN read and per write.
# A second run with TUNNELD_NO_OFFLOAD=1 moves data one packet per syscall.
#
#   client c1 (socat) ==tunnel== tunneld [server ns: socat] ---- lan 198.18.1.2 / fd00:1::2 (socat)
set -euo pipefail
. "$(dirname "$0")/../e2e/lib/lib.sh"
. "$(dirname "$0")/../e2e/lib/td.sh"
lab_need socat sha256sum
lab_init offl
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_LOG_LEVEL=info td_config
MB=${OFFLOAD_MB:-16}
head -c $((MB << 20)) /dev/urandom >"$LAB_DIR/data.bin"
want=$(sha256sum <"$LAB_DIR/data.bin" | cut -d' ' -f1)
port=5100

# xfer NAME FROM_NS TO_NS ADDR: send data.bin from FROM_NS to a socat
# listening on ADDR in TO_NS; compare the hashes.
xfer() {
	local name=$1 from=$2 to=$3 addr=$4 got pid
	port=$((port + 1))
	rm -f "$LAB_DIR/recv.bin"
	pid=$(lab_bg "$to" "$LAB_DIR/sink.log" timeout 60 socat -u \
		"TCP6-LISTEN:$port,reuseaddr,ipv6only=0" CREATE:"$LAB_DIR/recv.bin")
	lab_wait_listen "$to" "$port" 10 || td_fail "$name: sink not listening"
	case $addr in *:*) addr="[$addr]" ;; esac
	lab_cli "$from" timeout 60 socat -u OPEN:"$LAB_DIR/data.bin" \
		"TCP:$addr:$port" || td_fail "$name: send failed"
	lab_wait_gone "$pid" 10
	got=$(sha256sum <"$LAB_DIR/recv.bin" | cut -d' ' -f1)
	[ "$got" = "$want" ] || td_fail "$name: SHA-256 mismatch"
	td_pass "$name: $MB MB intact"
}

# Datagrams from the server's own stack: their checksums are left to the
# "device", so tunneld must finish them or the client's kernel drops them.
udp_from_server() {
	local ip4=$1 pid n
	pid=$(lab_bg c1 "$LAB_DIR/udp.recv" timeout 10 socat -u UDP-RECV:5099 -)
	lab_wait_listen c1 5099 10 udp || td_fail "UDP sink not listening"
	for i in $(seq 20); do
		printf 'datagram %02d %0900d\n' "$i" 0 | lab_srv socat -u - "UDP-SENDTO:$ip4:5099"
	done
	for _ in $(seq 50); do
		n=$(grep -c '^datagram' "$LAB_DIR/udp.recv" || true)
		[ "$n" -ge 20 ] && break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	[ "$n" -ge 18 ] || td_fail "only $n of 20 UDP datagrams from the server arrived"
	td_pass "$n/20 UDP datagrams from the server arrived"
}

# io_counters: "reads read_pkts writes write_pkts", summed over the workers.
io_counters() {
	sed -n 's/.*TUN I\/O (offloads [a-z]*): \([0-9]*\) reads carried \([0-9]*\) packets.*, \([0-9]*\) writes carried \([0-9]*\) packets.*/\1 \2 \3 \4/p' "$TD_LOG" |
		awk '{ r += $1; rp += $2; w += $3; wp += $4 } END { print r + 0, rp + 0, w + 0, wp + 0 }'
}

connect() {
	lab_start_client c1 alice alice-pass
	lab_wait_client c1 20 || td_fail "client did not connect"
	ip4=$(lab_client_state c1 ip4)
	ip6=$(lab_client_state c1 ip6)
}

disconnect() {
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
	td_stop || td_fail "unclean stop"
}

# --- offloads on (the default) ---
unset TUNNELD_NO_OFFLOAD
td_start
grep -q 'TUN vpns0: offloads on' "$TD_LOG" || td_fail "offloads are not on"
connect
xfer "IPv4 client -> lan" c1 lan "$LAB_LAN_IP"
xfer "IPv6 client -> lan" c1 lan "$LAB_LAN_IP6"
xfer "IPv4 lan -> client" lan c1 "$ip4"
xfer "IPv6 lan -> client" lan c1 "$ip6"
xfer "IPv4 server -> client" srv c1 "$ip4"
xfer "IPv6 server -> client" srv c1 "$ip6"
udp_from_server "$ip4"
lab_ping_ok c1 "$LAB_LAN_IP6" 3 || td_fail "ping after the transfers"
disconnect
read -r r rp w wp <<<"$(io_counters)"
echo "offloads on: $r reads carried $rp packets, $w writes carried $wp packets"
# Six transfers of $MB MB: at least 4 x $MB MB / 1400 packets each way.
[ "$rp" -ge $((MB * 4 * 700)) ] && [ "$wp" -ge $((MB * 2 * 700)) ] ||
	td_fail "too few packets counted"
# Without offloads both ratios are exactly 1: ACKs still go one by one, so
# demand a clear margin, not the bulk figure (~40 per read, ~5 per write).
[ $((rp * 10)) -ge $((r * 30)) ] || td_fail "only $rp packets in $r TUN reads"
[ $((wp * 10)) -ge $((w * 15)) ] || td_fail "only $wp packets in $w TUN writes"
td_pass "offloads on: $((rp * 10 / r / 10)).$((rp * 10 / r % 10)) packets per read," \
	"$((wp * 10 / w / 10)).$((wp * 10 / w % 10)) per write"

# --- offloads off ---
export TUNNELD_NO_OFFLOAD=1
td_start
grep -q 'TUN vpns0: offloads off' "$TD_LOG" || td_fail "TUNNELD_NO_OFFLOAD=1 ignored"
connect
xfer "no offload: IPv4 client -> lan" c1 lan "$LAB_LAN_IP"
xfer "no offload: IPv6 lan -> client" lan c1 "$ip6"
disconnect
read -r r rp w wp <<<"$(io_counters)"
[ "$r" = "$rp" ] && [ "$w" = "$wp" ] && [ "$rp" -ge $((MB * 700)) ] ||
	td_fail "offloads off: $r reads carried $rp packets, $w writes $wp"
td_pass "offloads off: one packet per syscall ($rp read, $wp written)"
rm -f "$LAB_DIR"/*.bin
