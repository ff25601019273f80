#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A RADIUS session moves between the nodes of a fleet and keeps what RADIUS
# gave it: alice logs in through FreeRADIUS on node n0 (a route, Class, a
# Session-Timeout, interim updates every 2 s); n0 is killed (kill -9) and
# her client comes back on n1 from its cookie, without a new login.  n1
# has her grant from the cookie: the route again, the same groups, a Start
# under the same Acct-Session-Id with n1's NAS-Identifier, then its
# Interim-Updates.  A CoA-Request sent to n0 (restarted, not holding her)
# reaches n1 through fleet.state-dir: its Session-Timeout ends her session
# there, and n1's Stop counts Session-Time from the login.  All checked in
# FreeRADIUS's own accounting records.
#
#   c1 --> HAProxy 198.18.0.1:4443 (first) --> n0 (killed, restarted) / n1
#   lan 198.18.3.2: FreeRADIUS (auth, accounting), radclient --> n0:3799
set -euo pipefail
. "$(dirname "$0")/fleet-lib.sh"
# shellcheck source=../e2e/lib/radius.sh
. "$FL_DIR/../e2e/lib/radius.sh"
fl_init radfleet
RAD_NAS=198.18.3.0/24 rad_start 'alice Cleartext-Password := "alice-pass"
	Class = "OU=staff;",
	Framed-Route = "198.18.9.0/24 0.0.0.0 1",
	Session-Timeout = 3600,
	Acct-Interim-Interval = 2'
for k in 0 1; do
	FL_PASSWD='' FL_EXTRA=$(RAD_SERVER=$FL_LAN RAD_NAS_ID=tunneld-n$k \
		RAD_COA=198.18.3.$((10 + k)):3799 rad_td_extra) fl_node "$k"
done
fl_start 0 || td_fail "node 0 did not start"
fl_start 1 || td_fail "node 1 did not start"
fl_haproxy first || td_fail "HAProxy did not start"
now() { date +%s; }
# Records of session $sid of one type from one node.
from_node() {
	rad_records | grep -F "| Acct-Status-Type = $1 |" | grep -F "| Acct-Session-Id = \"$sid\" |" |
		grep -cF "| NAS-Identifier = \"tunneld-n$2\" |" || true
}

# 1. The login on n0.
lab_add_client c1
t_start=$(now) # before the login: Session-Time can be no longer than since then
LAB_OC_RECONNECT_TIMEOUT=300 lab_start_client c1 alice alice-pass
lab_wait_client c1 30 || td_fail "alice did not connect"
sid=$(rad_sid_of alice)
[[ $sid =~ ^[0-9a-f]{16}$ ]] || td_fail "no Acct-Session-Id in alice's Access-Request: '$sid'"
rad_wait_acct Start "$sid" 1 10 || td_fail "no Start from node 0"
[ "$(from_node Start 0)" = 1 ] || td_fail "the Start is not node 0's: $(rad_acct_attr Start "$sid" NAS-Identifier)"
lab_cli c1 ip route show 198.18.9.0/24 | grep -q tun-c1 || td_fail "no route for the Framed-Route on node 0"
ip4=$(lab_client_state c1 ip4)
ip6=$(lab_client_state c1 ip6)
td_pass "alice on node 0 through RADIUS: Start from tunneld-n0 as $sid, the Framed-Route, $ip4"

# 2. kill -9 of n0: back on n1 from the cookie, with the grant.  Some
# time on n0 first, which n1's Session-Time must count too.
sleep 4
t_kill=$(now)
fl_kill9 0
fl_route 1 0
lab_wait_event c1 reconnect 1 30 || td_fail "the client did not notice node 0's death"
lab_wait_client c1 60 || td_fail "alice did not come back"
fl_wait_log 1 "re-created for user 'alice'" 10 || td_fail "node 1 did not re-create the session"
[ "$(fl_count 1 "logged in")" = 0 ] || td_fail "alice logged in again on node 1"
[ "$(lab_client_state c1 ip4)" = "$ip4" ] && [ "$(lab_client_state c1 ip6)" = "$ip6" ] ||
	td_fail "alice's addresses changed: $(lab_client_state c1 ip4) $(lab_client_state c1 ip6)"
lab_cli c1 ip route show 198.18.9.0/24 | grep -q tun-c1 || td_fail "no Framed-Route on node 1"
lab_ping_ok c1 "$FL_LAN" || td_fail "no traffic through node 1"
rad_wait_acct Start "$sid" 2 15 || td_fail "no Start from node 1"
[ "$(from_node Start 1)" = 1 ] || td_fail "the second Start is not node 1's"
[ "$(rad_acct_attr Start "$sid" Class | tail -n 1)" = 0x4f553d73746166663b ] ||
	td_fail "node 1's Start does not echo Class: $(rad_acct_attr Start "$sid" Class)"
groups=$(fl_ctl 1 --json list | jq -r '.sessions[0].groups')
[ "$groups" = staff ] || td_fail "node 1 gives alice groups '$groups', not staff (Class)"
deadline=$(($(lab__now_ms) + 15000))
until [ "$(from_node Interim-Update 1)" -ge 2 ]; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "no Interim-Updates from node 1"
	sleep 0.2
done
td_pass "node 0 killed: alice back on node 1 without a login, same addresses and route," \
	"Start and Interim-Updates from tunneld-n1 under $sid, groups staff"

# 3. A CoA-Request to n0 (restarted; it does not hold her) ends her
# session on n1 after its Session-Timeout.
fl_start 0 || td_fail "node 0 did not start again"
RAD_COA=198.18.3.10:3799
t_coa=$(now)
out=$(rad_client coa "Acct-Session-Id = \"$sid\"
Session-Timeout = 4") || td_fail "CoA: $out"
grep -q "Received CoA-ACK" <<<"$out" || td_fail "CoA to node 0: $out"
fl_wait_log 0 "CoA-Request from .* another node holds: passed on" 5 || td_fail "node 0 did not pass it on"
fl_wait_log 1 "a CoA-Request that node 0 got" 10 || td_fail "node 1 did not apply node 0's CoA"
lab_client_exited c1 20 >/dev/null || td_fail "alice still connected after the CoA's Session-Timeout"
took=$(($(now) - t_coa))
[ "$took" -ge 3 ] && [ "$took" -le 10 ] || td_fail "the session ended ${took}s after a CoA of 4 s"
rad_wait_acct Stop "$sid" 1 15 || td_fail "no Stop"
[ "$(from_node Stop 1)" = 1 ] || td_fail "the Stop is not node 1's"
[ "$(rad_acct_attr Stop "$sid" Acct-Terminate-Cause)" = Session-Timeout ] ||
	td_fail "Acct-Terminate-Cause $(rad_acct_attr Stop "$sid" Acct-Terminate-Cause)"
st=$(rad_acct_attr Stop "$sid" Acct-Session-Time)
t_end=$(rad_acct_attr Stop "$sid" Timestamp) # when FreeRADIUS got the Stop
[[ $t_end =~ ^[0-9]+$ ]] || td_fail "the Stop has no Timestamp: '$t_end'"
# No longer than since before the login; longer than on n1 alone by the
# 4 s or more spent on n0 (a second of rounding, a second of delivery).
[ "$st" -le $((t_end - t_start + 1)) ] && [ "$st" -ge $((t_end - t_kill + 2)) ] ||
	td_fail "Stop: Session-Time $st s; $((t_end - t_start)) s since the login started," \
		"$((t_end - t_kill)) s since node 0 was killed"
[ "$(rad_acct_count Start "$sid")" = 2 ] && [ "$(rad_acct_count Stop "$sid")" = 1 ] ||
	td_fail "$(rad_acct_count Start "$sid") Starts, $(rad_acct_count Stop "$sid") Stops"
td_pass "CoA to node 0 applied on node 1: ended after ${took}s, Stop from tunneld-n1," \
	"Session-Time $st s ($((t_end - t_start)) s since the login, $((t_end - t_kill)) s since the kill)"
