#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# limits.max-sessions-per-user holds by default (finding #8): one account
# cannot take the whole address pool by logging in, CONNECTing and dropping
# the line again and again, although each such session keeps its address
# for a reconnect.  The default (4) counts those waiting sessions too.
#
#   c1 hostile: bob 5 x (login, CONNECT, drop the TCP) --+-- tunneld: pool /29 (5 addresses),
#   c2 openconnect (alice, afterwards) ------------------+   max-sessions-per-user not set
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init scap
lab_add_client c1
lab_add_client c2
hl_users alice:alice-pass bob:bob-pass
TD_WORKERS=1 TD_POOL4=198.18.100.0/29 TD_LOG_LEVEL=info td_config
! grep -q max-sessions-per-user "$LAB_DIR/tunneld.conf" || td_fail "the test config sets the limit"
td_start

got=""
for i in 1 2 3 4 5; do
	out=$(hl c1 -u bob -p bob-pass -t 0 hold 1 --drop) || td_fail "hold $i failed: $out"
	got+="${got:+,}$(sed -n 's/^hold: results=//p' <<<"$out")"
done
echo "bob, 5 x (login, CONNECT, drop): $got"
[ "$got" = "connect=200,connect=200,connect=200,connect=200,login=refused" ] ||
	td_fail "bob got $got"
td_log_wait "login for user 'bob' from 198\.18\.0\.10:[0-9]+ refused: 4 sessions held \(limits\.max-sessions-per-user = 4\)" 3 ||
	td_fail "no log line naming the limit"
js=$(hl_ctl --json list)
[ "$(jq '[.sessions[] | select(.user == "bob" and .state == "waiting")] | length' <<<"$js")" = 4 ] ||
	td_fail "bob should hold 4 sessions waiting for a reconnect: $js"
td_pass "bob holds 4 waiting sessions; his 5th login is refused, naming the limit"

lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "alice got no address"
lab_ping_ok c2 198.18.1.2 3 || td_fail "alice cannot reach the lan"
td_stop || td_fail "unclean stop"
td_pass "alice still gets the pool's last address ($(hl_elapsed) s)"
