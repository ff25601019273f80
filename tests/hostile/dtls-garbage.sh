#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Datagrams to the DTLS port that no client sends, while the stock client
# pings over DTLS:
#  - garbage (hostile dtls garbage): random bytes, truncated and over-long
#    ClientHellos, hellos with noise after the id, DTLS-looking application
#    data, plaintext fatal alerts and CCS, alerts of epoch 1; from a live
#    session's own DTLS port and from a new port of its address.  The live
#    channel answers DPD over DTLS after each kind; nothing is answered.
#  - unknown sessions (hostile dtls unknown): a session logs out, then its
#    App-ID, its old port and records under its old keys come back; and
#    application data and ClientHellos from an address with no session at
#    all.  No answer; the other session's channel works.
# The stock client stays on DTLS and every one of its pings comes back but
# the last, which may still be on its way when ping is stopped (SIGINT
# counts it sent, not received); the kernel's own drops meanwhile are
# printed (a CPU's backlog, the sockets' buffers, the tun queue); the workers'
# counters account for the datagrams of no session; clean stop.
#
#   c1 hostile (198.18.0.10 with a session, 198.18.0.200 without) --+
#   c2 openconnect (alice, DTLS, pinging) ---------------------------+-- tunneld (2 workers)
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init dtlsga
lab_add_client c1
lab_add_client c2
hl_addrs c1 198.18.0.200-200
hl_users alice:alice-pass bob:bob-pass
TD_WORKERS=2 TD_LOG_LEVEL=info hl_config
td_start
lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "openconnect did not connect"
grep -q 'Established DTLS connection' "$LAB_DIR/c2.oc.log" || td_fail "openconnect is not on DTLS"
# The kernel's drops: every CPU's backlog; UDP receive buffers of the
# server and of alice's client; the tun device's queues.
kdrops() {
	local n=0 _ d
	while read -r _ d _; do n=$((n + 16#$d)); done </proc/net/softnet_stat
	for ns in "$LAB_NS_SRV" "$(lab_ns c2)"; do
		d=$(ip netns exec "$ns" awk '/^Udp:/ { if (seen) print $6; seen = 1 }' /proc/net/snmp)
		n=$((n + ${d:-0}))
	done
	for f in tx_dropped rx_dropped; do
		n=$((n + $(lab_srv cat /sys/class/net/vpns0/statistics/$f)))
	done
	echo $n
}
channel() { hl_ctl --json list | jq -r --arg u "$1" '.sessions[] | select(.user == $u) | .channel'; }

drops0=$(kdrops)
lab_bg c2 "$LAB_DIR/ping.log" ping -n -i 0.1 -w 60 198.18.1.2 >/dev/null
ping_pid=$LAB_BG_PID
hl c1 -u bob -p bob-pass dtls garbage --count 2000 | tee "$LAB_DIR/garbage.log" ||
	td_fail "garbage: see above"
td_pass "garbage: $(grep -c 'channel=up' "$LAB_DIR/garbage.log") kinds, the channel survived each"
hl c1 -u bob -p bob-pass -b 198.18.0.10,198.18.0.200 dtls unknown --count 1000 |
	tee "$LAB_DIR/unknown.log" || td_fail "unknown sessions: see above"
td_pass "unknown sessions: $(hl_value sent "$LAB_DIR/unknown.log") datagrams, no answer"
kill -INT "$ping_pid" 2>/dev/null || true
wait "$ping_pid" || true
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$LAB_DIR/ping.log")
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LAB_DIR/ping.log")
drops=$(($(kdrops) - drops0))
echo "alice meanwhile: $recv/$sent pings; the kernel dropped $drops packets meanwhile"
[ "${sent:-0}" -ge 20 ] || td_fail "alice sent only ${sent:-0} pings"
# Replies to pings 1 .. sent-1 (icmp_seq counts from 1).
early=$(awk -F'icmp_seq=' -v last="$sent" '/icmp_seq=/ { split($2, a, " ");
	if (a[1] + 0 < last && !seen[a[1] + 0]++) n++ } END { print n + 0 }' "$LAB_DIR/ping.log")
[ "$early" = $((sent - 1)) ] ||
	td_fail "alice's pings: $recv of $sent, $early of the first $((sent - 1)); the kernel counted $drops drops"
[ "$(channel alice)" = dtls ] || td_fail "alice is no longer on DTLS: $(channel alice)"
[ "$(lab_event_count c2 reconnect)" = 0 ] || td_fail "alice reconnected"

lab_client_signal c2 INT
lab_client_exited c2 10 >/dev/null || td_fail "openconnect did not exit"
td_stop || td_fail "unclean stop"
nowhere=$(sed -n 's/.*DTLS in: .*; \([0-9]*\) for no tunnel, \([0-9]*\) for other nodes.*/\1 \2/p' "$TD_LOG" |
	awk '{ s += $1 + $2 } END { print s + 0 }')
other=$(hl_value sent "$LAB_DIR/unknown.log")
echo "the workers counted $nowhere datagrams for no tunnel or other nodes"
# At least the datagrams of the dead session's App-ID and of the address
# without a session (the old keys' records may go to a trial decrypt).
[ "$nowhere" -ge 3000 ] || td_fail "only $nowhere datagrams counted for no session (sent $other)"
[ "$(td_log_count 'DTLS from a new address')" = 0 ] || td_fail "garbage moved a DTLS channel"
td_pass "clean stop; $nowhere datagrams counted for no session ($(hl_elapsed) s)"
