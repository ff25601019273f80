#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Failover: FLEET_CLIENTS (50) stock openconnect clients, each with a ping
# and a TCP flow to the lan, all on node n0 (HAProxy "balance first"); kill
# -9 of n0's tunneld.  Every client must come back on n1 within its
# reconnect window, without a new login (n1 re-creates each session from
# its cookie), with the same IPv4 and IPv6 addresses, and its TCP flow
# must go on.  Prints the share back and the time to traffic.
#
#   c1..c50 --> HAProxy 198.18.0.1:4443 (first, send-proxy-v2) --> n0 (killed) / n1
#   lan 198.18.3.2: ping target, TCP echo on :7000; its routes to n0's slice
#   move to n1 at the kill (fl_route, as a routing daemon would)
set -euo pipefail
. "$(dirname "$0")/fleet-lib.sh"
N=${FLEET_CLIENTS:-50}
WINDOW=${FLEET_WINDOW:-60} # seconds allowed for every client to be back
fl_init failover
lab_need socat
fl_node 0
fl_node 1
fl_start 0 || td_fail "node 0 did not start"
fl_start 1 || td_fail "node 1 did not start"
fl_haproxy first || td_fail "HAProxy did not start"
lab_bg lan "$LAB_DIR/echo.log" socat TCP-LISTEN:7000,reuseaddr,fork EXEC:cat >/dev/null
lab_wait_listen lan 7000 10 || td_fail "no echo server"

t0=$(lab__now_ms)
for i in $(seq "$N"); do
	lab_add_client "c$i"
	LAB_OC_RECONNECT_TIMEOUT=300 lab_start_client "c$i" "u$i" "u$i-pass"
done
for i in $(seq "$N"); do
	lab_wait_client "c$i" 60 || td_fail "c$i did not connect"
	echo "$(lab_client_state "c$i" ip4) $(lab_client_state "c$i" ip6)" >"$LAB_DIR/c$i.addr"
done
held=$(fl_ctl 0 --json list | jq '[.sessions[] | select(.state == "connected")] | length')
[ "$held" = "$N" ] || td_fail "node 0 holds $held tunnels, not $N"
td_pass "$N clients up on node 0 in $((($(lab__now_ms) - t0) / 1000)) s"

for i in $(seq "$N"); do
	lab_bg "c$i" "$LAB_DIR/c$i.ping" ping -D -n -i 0.2 "$FL_LAN" >/dev/null
	lab_bg "c$i" "$LAB_DIR/c$i.tcp" bash "$FL_DIR/tcp-flow.sh" "$FL_LAN" 7000 >/dev/null
done
for i in $(seq "$N"); do
	deadline=$(($(lab__now_ms) + 20000))
	until grep -q 'bytes from' "$LAB_DIR/c$i.ping" && grep -q '^[0-9]* 2$' "$LAB_DIR/c$i.tcp"; do
		[ "$(lab__now_ms)" -lt $deadline ] || td_fail "c$i: no ping or TCP echo before the kill"
		sleep 0.1
	done
done
logins1=$(fl_count 1 "logged in")
td_pass "pings and TCP flows of all $N clients run"

# The kill.  The lan's routes to n0's addresses follow them to n1.
kill_ms=$(lab__now_ms)
fl_kill9 0
fl_route 1 0
echo "kill -9 of node 0 at $(date +%T.%N)"

back=0
deadline=$((kill_ms + WINDOW * 1000))
for i in $(seq "$N"); do
	left=$(((deadline - $(lab__now_ms)) / 1000))
	[ $left -gt 0 ] || left=1
	if lab_wait_event "c$i" reconnect 1 "$left" 2>/dev/null && lab_wait_client "c$i" "$left" 2>/dev/null &&
		[ "$(lab_client_state "c$i" ip4) $(lab_client_state "c$i" ip6)" = "$(cat "$LAB_DIR/c$i.addr")" ]; then
		back=$((back + 1))
	else
		echo "c$i: not back with its addresses: $(tail -n 3 "$LAB_DIR/c$i.oc.log" | tr '\n' ' ')" >&2
	fi
done
back_s=$(((($(lab__now_ms) - kill_ms) + 999) / 1000))

# Time to traffic, per client (ms after the kill): the first ping reply
# after the outage (a gap of more than 2 intervals between replies), and
# the first TCP echo after the flow's gap; the stragglers get 3 s more.
sleep 3
: >"$LAB_DIR/ttt"
: >"$LAB_DIR/tcp-ttt"
first_after_gap() { # KILL_MS GAP_MS: "MS" lines in; no gap: the first after the kill
	awk -v k="$1" -v g="$2" '$1 > k && !a { a = $1 }
		$1 > k && p && $1 - p > g { print $1 - k; f = 1; exit }
		{ p = $1 } END { if (!f && a) print a - k }'
}
for i in $(seq "$N"); do
	sed -n 's/^\[\([0-9]*\)\.\([0-9][0-9][0-9]\).*bytes from.*/\1\2/p' "$LAB_DIR/c$i.ping" |
		first_after_gap "$kill_ms" 400 >>"$LAB_DIR/ttt"
	grep '^[0-9]* [0-9]*$' "$LAB_DIR/c$i.tcp" | first_after_gap "$kill_ms" 900 >>"$LAB_DIR/tcp-ttt"
	grep -h '^broken' "$LAB_DIR/c$i.tcp" >&2 && echo "c$i: TCP flow broken" >&2
done
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR) printf "n=%d median %d ms, p95 %d ms, max %d ms", NR, v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.999)], v[NR]; else printf "n=0" }'; }
pings=$(wc -l <"$LAB_DIR/ttt")
flows=$(wc -l <"$LAB_DIR/tcp-ttt")
broken=$(cat "$LAB_DIR"/c*.tcp | grep -c '^broken' || true)
recreated=$(fl_count 1 "re-created for user")
logins=$(($(fl_count 1 "logged in") - logins1))

echo "FAILOVER: $back of $N clients back on node 1 ($((back * 100 / N)) %) within $back_s s of kill -9," \
	"same IPv4 and IPv6; new logins on node 1: $logins; sessions re-created from cookies: $recreated"
echo "FAILOVER: time to traffic (first ping reply after the kill): $(stats "$LAB_DIR/ttt")"
echo "FAILOVER: TCP flows resumed: $flows of $N, broken: $broken; first echo after the kill: $(stats "$LAB_DIR/tcp-ttt")"

[ $((back * 100)) -ge $((N * 99)) ] || td_fail "only $back of $N clients came back (99 % needed)"
[ "$logins" = 0 ] || td_fail "$logins new logins on node 1: the cookies were not taken"
[ "$recreated" -ge "$back" ] || td_fail "$recreated re-created sessions for $back clients"
[ "$pings" = "$N" ] || td_fail "only $pings clients have traffic again"
[ "$flows" = "$N" ] && [ "$broken" = 0 ] || td_fail "TCP flows: $flows resumed, $broken broken"
held=$(fl_ctl 1 --json list | jq '[.sessions[] | select(.state == "connected")] | length')
[ "$held" = "$N" ] || td_fail "node 1 holds $held tunnels, not $N"
td_pass "failover: $back/$N back without a login, same addresses, flows resumed"

TD_LOG=$(fl_log 1)
TD_PID=$FL_PID_1
td_stop || td_fail "node 1: unclean stop"
