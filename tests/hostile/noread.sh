#!/bin/bash
# A client that never reads: after CONNECT it floods ICMP echo requests to
# a lan host that answers, and never reads its socket.  The answers that do
# not fit limits.queue-bytes are dropped and counted (drop_queue in
# tunnelctl), the server's queue for it stays within the limit, the
# worker's RSS stays put, and a real client pinging the same host is not
# hurt: every answer is read from the TUN queue, none dropped there, where
# alice's would be dropped too.  The pings are small, so one 64 KiB read
# from the flooder writes ~480 to the TUN, about the kernel's queue of 500:
# the worker must read answers while it writes (worker/tunio.c).
#
#   c1 hostile flood ping --no-read --+                       +-- lan 198.18.1.2 (answers)
#   c2 openconnect (alice, pinging) --+-- tunneld (1 worker) -+
#                                         limits.queue-bytes = 65536
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init noread
lab_add_client c1
lab_add_client c2
hl_users alice:alice-pass bob:bob-pass
QUEUE=65536
TD_WORKERS=1 hl_config limits.queue-bytes=$QUEUE
td_start
lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "openconnect did not connect"

lab_bg c2 "$LAB_DIR/ping.log" ping -n -i 0.1 -c 60 -W 2 198.18.1.2 >/dev/null
ping_pid=$LAB_BG_PID

# While the flooder holds still, its session's counters must show the
# dropped answers (workers report counters every 10 s).
drops_seen() {
	local deadline=$(($(lab__now_ms) + 15000)) d
	while :; do
		d=$(hl_ctl --json list | jq '[.sessions[] | select(.user == "bob") | .drop_queue] | add // 0')
		[ "$d" -gt 0 ] && break
		[ "$(lab__now_ms)" -lt $deadline ] || td_fail "bob's drop_queue is still 0"
		sleep 0.5
	done
	DROPS=$d
	hl_ctl --json list | jq -c '.sessions[] | select(.user == "bob")'
}
# Packets the kernel dropped at the TUN device (its queue full).
tun_drops() {
	ip -n "$LAB_NS_SRV" -j -s link show vpns0 | jq '.[0].stats64 | .rx.dropped + .tx.dropped'
}
tun_drops0=$(tun_drops)
HL_QC_WHILE_PAUSED=drops_seen
hl_queue_check c1 $QUEUE ping --size 100 --dest 198.18.1.2
sent=$(hl_value sent "$HL_QC_LOG")
tun_lost=$(($(tun_drops) - tun_drops0))
[ "$tun_lost" -le 10 ] || td_fail "$tun_lost packets dropped at the TUN device's full queue during the flood"
td_pass "never-read flood of $sent pings: $HL_QC_SUMMARY; $DROPS answers dropped (drop_queue), $tun_lost at the TUN queue"
td_log_wait 'session-end id=[0-9]+ user=bob .*reason="client logged out" .* drop_queue=[1-9][0-9]*' 5 ||
	td_fail "bob's session summary does not count the queue-full drops"

wait "$ping_pid" || true
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LAB_DIR/ping.log")
[ "$received" = 60 ] || td_fail "alice's pings meanwhile: '$received' of 60 answered"
[ "$(lab_event_count c2 reconnect)" = 0 ] || td_fail "alice reconnected"
td_stop || td_fail "unclean stop"
td_pass "alice undisturbed (60/60 pings), clean stop ($(hl_elapsed) s)"
