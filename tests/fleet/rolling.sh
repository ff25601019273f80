#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Rolling restart of both nodes while new clients keep connecting: drain n0
# (tunnelctl drain: listeners closed, HAProxy's check takes n0 out, its
# tunnels end after session.drain-wait and move to n1 with their cookies,
# n0 exits), start n0 again, then the same for n1 (SIGQUIT this time).  Two
# loops make new connects (login, CONNECT, tunnel up, goodbye) the whole
# time: not one may fail.  Four standing clients keep their addresses
# across both drains without logging in again.
#
#   l1, l2 (connect loops), s1..s4 (standing) --> HAProxy (roundrobin) --> n0, n1
#   the lan's routes follow the standing clients' addresses (fl_route)
set -euo pipefail
. "$(dirname "$0")/fleet-lib.sh"
fl_init rolling
FL_SESSION="drain-wait = 3; drain-timeout = 30;"
fl_node 0
fl_node 1
fl_start 0 || td_fail "node 0 did not start"
fl_start 1 || td_fail "node 1 did not start"
fl_haproxy roundrobin || td_fail "HAProxy did not start"

hap_up() { # K: wait until HAProxy counts node K up again (its log)
	local n deadline=$(($(lab__now_ms) + 20000))
	n=$(grep -c "Server nodes/n$1 is UP" "$LAB_DIR/haproxy.log") || true
	while [ "$(grep -c "Server nodes/n$1 is UP" "$LAB_DIR/haproxy.log" || true)" -le "${n:-0}" ]; do
		[ "$(lab__now_ms)" -lt $deadline ] || td_fail "HAProxy does not see node $1 up"
		sleep 0.1
	done
}
logins() { echo $(($(fl_count 0 "logged in") + $(fl_count 1 "logged in"))); }

for i in 1 2 3 4; do
	lab_add_client "s$i"
	lab_start_client "s$i" "u$i" "u$i-pass"
done
for i in 1 2 3 4; do
	lab_wait_client "s$i" 30 || td_fail "s$i did not connect"
	echo "$(lab_client_state "s$i" ip4) $(lab_client_state "s$i" ip6)" >"$LAB_DIR/s$i.addr"
done
standing_logins=$(logins)
td_pass "4 standing clients up: $(fl_count 0 'tunnel up') on node 0, $(fl_count 1 'tunnel up') on node 1"

mkdir -p "$LAB_DIR/loop"
for u in 1 2; do
	lab_add_client "l$u"
	lab_bg "l$u" "$LAB_DIR/loop/l$u.log" bash "$FL_DIR/connect-loop.sh" "$LAB_DIR/loop" "u$((10 + u))" \
		"$LAB_URL" "$LAB_PIN" >/dev/null
done
sleep 3

t0=$(lab__now_ms)
fl_ctl 0 drain >/dev/null || td_fail "tunnelctl drain refused"
fl_wait_log 0 "draining: ending [0-9]+ tunnel" 10 || td_fail "node 0 did not end its tunnels"
fl_route 1 0 # the lan follows node 0's addresses to node 1
fl_stopped 0 40 || td_fail "node 0 did not stop after its drain"
fl_wait_log 0 "stopping \(all tunnels ended\)" 1 || td_fail "node 0 stopped for another reason"
echo "node 0 drained and stopped in $((($(lab__now_ms) - t0) / 1000)) s"
fl_start 0 || td_fail "node 0 did not start again"
hap_up 0
sleep 2

t0=$(lab__now_ms)
kill -QUIT "$FL_PID_1"
fl_wait_log 1 "draining: ending [0-9]+ tunnel" 10 || td_fail "node 1 did not end its tunnels"
fl_route 0 0 # every address is on node 0 now
fl_route 0 1
fl_stopped 1 40 || td_fail "node 1 did not stop after its drain"
echo "node 1 drained (SIGQUIT) and stopped in $((($(lab__now_ms) - t0) / 1000)) s"
fl_start 1 || td_fail "node 1 did not start again"
hap_up 1
sleep 3
touch "$LAB_DIR/loop/stop"
for u in 1 2; do
	deadline=$(($(lab__now_ms) + 40000))
	while [ -n "$(ip netns pids "$(lab_ns "l$u")")" ]; do
		[ "$(lab__now_ms)" -lt $deadline ] || td_fail "loop l$u did not stop"
		sleep 0.1
	done
done

ok=$(cat "$LAB_DIR"/loop/*.results | grep -c '^ok' || true)
failed=$(cat "$LAB_DIR"/loop/*.results | grep -c '^fail' || true)
slowest=$(cat "$LAB_DIR"/loop/*.results | awk '{ if ($2 > m) m = $2 } END { print m + 0 }')
echo "ROLLING: $ok new connects succeeded, $failed failed (slowest $slowest ms) across two drains and restarts"
grep -h '^fail' "$LAB_DIR"/loop/*.results >&2 || true
[ "$failed" = 0 ] || td_fail "$failed new connects failed"
[ "$ok" -ge 10 ] || td_fail "only $ok new connects: the loops did not run"

for i in 1 2 3 4; do
	lab_wait_client "s$i" 20 || td_fail "s$i is not connected"
	[ "$(lab_client_state "s$i" ip4) $(lab_client_state "s$i" ip6)" = "$(cat "$LAB_DIR/s$i.addr")" ] ||
		td_fail "s$i changed its addresses"
	lab_ping_ok "s$i" "$FL_LAN" || td_fail "s$i has no traffic"
done
# The loops logged in once per connect; the standing clients never again.
[ $(($(logins) - standing_logins)) = "$ok" ] ||
	td_fail "$(($(logins) - standing_logins)) logins for $ok connects: a standing client logged in again"
td_pass "rolling restart: $ok new connects, none failed; the standing clients kept their addresses"

for k in 0 1; do
	TD_LOG=$(fl_log "$k")
	TD_PID=$(eval "echo \$FL_PID_$k")
	td_stop || td_fail "node $k: unclean stop"
done
