#!/bin/bash
# Slow-loris, timeouts: connections that never finish the TLS handshake
# (TCP only, or half a ClientHello) are closed after limits.handshake-timeout;
# connections that finish TLS and then trickle an HTTP request a byte at a
# time are closed after limits.auth-timeout, however busy they look.  Each
# close is logged, and a real client logs in meanwhile.
#
#   c1 198.18.0.100: 10 x TCP only, .101: 10 x half a ClientHello --+
#   c1 198.18.0.102-103: 10 x (TLS, then "POST / HT" ...)         --+-- tunneld (1 worker,
#   c2 openconnect (alice)                                        --+   timeouts 3 s, 4 s)
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init lorto
lab_add_client c1
lab_add_client c2
hl_addrs c1 198.18.0.100-103
hl_users alice:alice-pass
TD_WORKERS=1 hl_config limits.handshake-timeout=3 limits.auth-timeout=4
td_start

# The server checks deadlines on a 1 s tick with whole seconds, so a close
# comes between T and T + 2 s after the stall began.
hl_bg c1 "$LAB_DIR/tcp.log" -b 198.18.0.100 -t 8 loris tcp 10 --lifetime 2.5:5.5
tcp_pid=$LAB_BG_PID
hl_bg c1 "$LAB_DIR/hello.log" -b 198.18.0.101 -t 8 loris hello 10 --lifetime 2.5:5.5
hello_pid=$LAB_BG_PID
hl_bg c1 "$LAB_DIR/http.log" -b 198.18.0.102-103 -t 8 loris http 10 --interval 250 \
	--lifetime 3.5:6.5
http_pid=$LAB_BG_PID

# A real client logs in while they stall.
sleep 1
lab_start_client c2 alice alice-pass
lab_wait_client c2 15 || td_fail "openconnect did not connect during the slow-loris"
lab_ping_ok c2 198.18.1.2 3 || td_fail "openconnect client cannot reach the lan"
td_pass "openconnect logged in while 30 connections stalled"

for g in tcp hello http; do
	eval "pid=\$${g}_pid"
	rc=0
	wait "$pid" || rc=$?
	cat "$LAB_DIR/$g.log"
	[ $rc = 0 ] || td_fail "$g connections: not closed in time (see above)"
	[ "$(hl_value closed_by_server "$LAB_DIR/$g.log")" = 10 ] ||
		td_fail "$g: not all 10 connections were closed by the server"
done
n=$(td_log_count 'closed: TLS handshake timed out')
[ "$n" -ge 20 ] || td_fail "$n log lines 'TLS handshake timed out', want 20"
n=$(td_log_count 'closed: login timed out')
[ "$n" -ge 10 ] || td_fail "$n log lines 'login timed out', want 10"
td_pass "stalled handshakes closed after ~3 s, trickled requests after ~4 s, all logged"

lab_ping_ok c2 198.18.1.2 3 || td_fail "openconnect client lost its tunnel"
[ "$(lab_event_count c2 reconnect)" = 0 ] || td_fail "openconnect client reconnected"
td_stop || td_fail "unclean stop"
td_pass "client undisturbed, clean stop ($(hl_elapsed) s)"
