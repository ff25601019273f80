#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A flood of well-formed DTLS ClientHellos at the DTLS port, 30,000 a second
# for 8 s (hostile dtls flood: random session ids, ids of this node, ids
# naming a live session's slot with the wrong random part, and the live
# App-ID itself, from the live session's own address) while the stock
# client pings over DTLS.  The client's pings keep coming back (no gap over
# 1 s) and it stays on DTLS; the flooder's own DTLS channel keeps
# answering; no ClientHello of no session gets an answer; the server's
# counters account for every one of them (for no tunnel or another node,
# or dropped by a full socket buffer); the server's memory grows by a
# bounded amount and it stops cleanly.  DTLS_FLOOD_SECS sets the length.
#
#   c1 hostile dtls flood --+
#   c2 openconnect (alice, DTLS, pinging the lan) --+-- tunneld (2 workers)
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
lab_need nft
hl_init dtlsfl
lab_add_client c1
lab_add_client c2
hl_users alice:alice-pass bob:bob-pass
TD_WORKERS=2 TD_LOG_LEVEL=info hl_config
td_start
SECS=${DTLS_FLOOD_SECS:-8}

lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "openconnect did not connect"
grep -q 'Established DTLS connection' "$LAB_DIR/c2.oc.log" || td_fail "openconnect is not on DTLS"
channel() { hl_ctl --json list | jq -r --arg u "$1" '.sessions[] | select(.user == $u) | .channel'; }
[ "$(channel alice)" = dtls ] || td_fail "alice's channel is $(channel alice), not dtls"

# UDP datagrams the server namespace's kernel dropped (full socket buffers).
rcvbuf_errors() {
	lab_srv awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 }
		else print $c }' /proc/net/snmp
}
sleep 1
rss0=$(hl_rss)
drops0=$(rcvbuf_errors)
lab_bg c2 "$LAB_DIR/ping.log" ping -n -i 0.05 -w $((SECS + 4)) 198.18.1.2 >/dev/null
ping_pid=$LAB_BG_PID
sleep 1
hl c1 -u bob -p bob-pass -t $SECS dtls flood --pps 30000 | tee "$LAB_DIR/flood.log" ||
	td_fail "the flood failed (see above)"
rss1=$(hl_rss)
drops1=$(rcvbuf_errors)
wait "$ping_pid" || true
gap=$(awk -F'icmp_seq=' '/icmp_seq=/ { split($2, a, " "); s = a[1] + 0;
	if (p && s - p > g) g = s - p; p = s } END { print (g ? g : 0) * 50 }' "$LAB_DIR/ping.log")
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$LAB_DIR/ping.log")
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LAB_DIR/ping.log")
echo "alice during the flood: $recv/$sent pings, longest gap $gap ms; server RSS $rss0 -> $rss1 kB;" \
	"kernel UDP receive-buffer drops $((drops1 - drops0))"
[ "${sent:-0}" -ge $((SECS * 20)) ] || td_fail "ping did not run"
[ "$gap" -le 1000 ] || td_fail "alice's pings stopped for $gap ms during the flood"
[ "$recv" -ge $((sent * 95 / 100)) ] || td_fail "alice lost pings: $recv of $sent"
[ "$(channel alice)" = dtls ] || td_fail "alice is no longer on DTLS: $(channel alice)"
[ "$(lab_event_count c2 reconnect)" = 0 ] || td_fail "alice reconnected"
if hl_sanitized; then
	echo "sanitizer build: RSS bound not checked (ASan quarantine)"
else
	[ $((rss1 - rss0)) -le 8192 ] || td_fail "the server's RSS grew by $((rss1 - rss0)) kB"
fi
td_pass "alice pinged $recv/$sent through the flood (longest gap $gap ms), on DTLS; RSS +$((rss1 - rss0)) kB"

# Let the server settle, then its counters, logged by each worker as it
# stops: every ClientHello of no session went nowhere.
lab_client_signal c2 INT
lab_client_exited c2 10 >/dev/null || td_fail "openconnect did not exit"
td_stop || td_fail "unclean stop"
unknown=$(hl_value sent_unknown "$LAB_DIR/flood.log")
nowhere=$(sed -n 's/.*DTLS in: .*; \([0-9]*\) for no tunnel, \([0-9]*\) for other nodes.*/\1 \2/p' "$TD_LOG" |
	awk '{ s += $1 + $2 } END { print s + 0 }')
echo "ClientHellos of no session sent: $unknown; the workers counted $nowhere for no tunnel" \
	"or other nodes; the kernel dropped $((drops1 - drops0)) datagrams"
[ "$unknown" -gt 1000 ] || td_fail "the flood sent only $unknown ClientHellos of no session"
[ $((nowhere + drops1 - drops0)) -ge "$unknown" ] ||
	td_fail "$unknown ClientHellos of no session, only $nowhere counted (+ $((drops1 - drops0)) kernel drops)"
[ "$(td_log_count 'DTLS up')" -le 3 ] || td_fail "the flood brought DTLS channels up: $(td_log_count 'DTLS up')"
td_pass "the server counted $nowhere datagrams for no session ($unknown sent); clean stop ($(hl_elapsed) s)"
