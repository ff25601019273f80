#!/bin/bash
# tests/e2e/selftest-ocserv.sh - validates lib.sh and oc-script.sh against
# Debian's ocserv, and gives reference figures to compare tunneld with.
#
# Steps: lab with one client "c1", ocserv (TLS only), openconnect as alice;
# ping the server's tun address, the lan host (IPv4 and IPv6) and back from
# the lan; iperf3 3 s each way between c1 and the lan host; SIGUSR2 (client
# drops TCP and reconnects with its cookie): same addresses, same tun, ping
# again; SIGINT: client exits 0.
# Exit 0 on success, 1 on failure, 77 when not root or a tool is missing.
# LAB_KEEP=1 keeps the work dir; IPERF_SECS (default 3) sets the test length.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=./lib/lib.sh
. "$here/lib/lib.sh"

lab_need ocserv ocpasswd openconnect iperf3 awk
lab_init selftest

secs=${IPERF_SECS:-3}
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
step() { echo "== $*"; }

step "lab $LAB_P in $LAB_DIR"
lab_add_client c1
lab_make_cert
# shellcheck disable=SC2119
lab_start_ocserv
step "ocserv listening on $LAB_SRV_IP:$LAB_PORT (pid $LAB_OCSERV_PID)"

t0=$(lab__now_ms)
lab_start_client c1 alice alice-pass
lab_wait_client c1 30 || fail "client did not connect"
ip4=$(lab_client_state c1 ip4)
ip6=$(lab_client_state c1 ip6)
tun=$(lab_client_state c1 tundev)
step "c1 connected in $(($(lab__now_ms) - t0)) ms: $tun ip4=$ip4 ip6=$ip6 mtu=$(lab_client_state c1 mtu)"

# The server's end of the point-to-point tun that carries c1.
srv_tun_ip=$(lab_srv ip -o -4 addr show | awk -v p="$ip4/32" '$0 ~ " peer " p { split($4, a, "/"); print a[1]; exit }')
[ -n "$srv_tun_ip" ] || srv_tun_ip=198.18.100.1
step "server tun address $srv_tun_ip"

check_pings() {
	local a
	for a in "$srv_tun_ip" "$LAB_LAN_IP" "$LAB_LAN_IP6"; do
		lab_ping_ok c1 "$a" 3 || fail "ping c1 -> $a ($1)"
		echo "   ping c1 -> $a ok"
	done
	lab_ping_ok lan "$ip4" 3 || fail "ping lan -> $ip4 ($1)"
	echo "   ping lan -> $ip4 ok"
	if [ -n "$ip6" ]; then
		lab_ping_ok lan "$ip6" 3 || fail "ping lan -> $ip6 ($1)"
		echo "   ping lan -> $ip6 ok"
	fi
}
step "ping"
check_pings "after connect"

# One iperf3 run; $1 = label, rest = extra client args.  Prints Mbit/s.
iperf_run() {
	local label=$1 port=5201 out spid mbps deadline
	shift
	spid=$(lab_bg lan "$LAB_DIR/iperf3-s-$label.log" timeout $((secs + 20)) iperf3 -s -1 -p $port)
	lab_wait_listen lan $port 5 || fail "iperf3 server did not start"
	out=$(lab_cli c1 timeout $((secs + 15)) iperf3 -c "$LAB_LAN_IP" -p $port -t "$secs" -f m "$@" 2>&1) ||
		{ echo "$out" >&2; fail "iperf3 $label"; }
	mbps=$(awk '/receiver$/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") v = $i } END { print v }' <<<"$out")
	[ -n "$mbps" ] || { echo "$out" >&2; fail "iperf3 $label: no result"; }
	echo "   iperf3 $label: $mbps Mbit/s"
	deadline=$((SECONDS + 5))
	while lab_alive "$spid" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
}
step "iperf3 ${secs}s each direction"
iperf_run "c1->lan"
iperf_run "lan->c1" -R

step "SIGUSR2: reconnect"
ifindex=$(lab_cli c1 cat "/sys/class/net/$tun/ifindex")
n=$(lab_event_count c1 reconnect)
t0=$(lab__now_ms)
lab_client_signal c1 USR2
lab_wait_event c1 reconnect $((n + 1)) 30 || fail "no reconnect event"
lab_wait_client c1 10 || fail "not connected after reconnect"
step "reconnected in $(($(lab__now_ms) - t0)) ms; script calls: $(awk '{ printf "%s ", $1 }' "$LAB_DIR/c1.events")"
[ "$(lab_client_state c1 ip4)" = "$ip4" ] || fail "ip4 changed: $(lab_client_state c1 ip4) != $ip4"
[ "$(lab_client_state c1 ip6)" = "$ip6" ] || fail "ip6 changed: $(lab_client_state c1 ip6) != $ip6"
if [ "$(lab_cli c1 cat "/sys/class/net/$tun/ifindex" 2>/dev/null)" = "$ifindex" ]; then
	echo "   same addresses, tun $tun kept (ifindex $ifindex)"
else
	echo "   same addresses, tun $tun was recreated"
fi
check_pings "after reconnect"

step "SIGINT: client exits"
lab_client_signal c1 INT
rc=$(lab_client_exited c1 10) || fail "client did not exit after SIGINT"
[ "$rc" = 0 ] || fail "client exit code $rc"
[ "$(lab_client_state c1 reason)" = disconnect ] || fail "no disconnect call to the script"
echo "   exit code $rc, last script reason: disconnect"
echo "PASS"
