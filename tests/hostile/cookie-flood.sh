#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A cookie flood (finding #17): 10,000 CONNECTs with random well-formed
# cookies from one address.  Each is refused (401), they count towards the
# address's ban like failed logins (it gets banned), and the master writes
# a handful of lines about them, not 10,000 (a few a second, then a
# summary; none for a banned address).  A cookie the address really got
# still works (a session is proof of a login), and a connected client is
# undisturbed.
#
#   c1 hostile: login (keeps the cookie), then 10,000 forged CONNECTs --+-- tunneld
#   c2 openconnect (alice, connected throughout) -----------------------+
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init ckfl
lab_add_client c1
lab_add_client c2
hl_users alice:alice-pass bob:bob-pass
TD_WORKERS=1 TD_LOG_LEVEL=info td_config
td_start
lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "alice did not connect"
A=198.18.0.10
hl c1 -u bob -p bob-pass login --expect ok --cookie-out "$LAB_DIR/cookie" || td_fail "bob's login"

hl c1 -w 10000 -t 120 burst cookie --count 10000 --concurrency 32 --min 10000 ||
	td_fail "the flood did not send its 10,000 CONNECTs"
grep -q 'answers ok=0 form=0 status_401=10000 ' "$LAB_DIR/hostile.log" ||
	td_fail "not every forged CONNECT got 401: $(grep '^burst: answers' "$LAB_DIR/hostile.log")"
# The last summary line is written by a later tick of the master's 1 s
# timer: wait for the count to add up (or 10 s).
counted() {
	n=$(sed -n 's/.* \([0-9]*\) more CONNECT(s) with an unknown or expired cookie refused.*/\1/p' \
		"$TD_LOG" | awk '{ s += $1 } END { print s + 0 }')
	full=$(td_log_count "CONNECT from $A:[0-9]+ refused: unknown or expired cookie")
	[ $((n + full)) -ge 10000 ]
}
deadline=$(($(lab__now_ms) + 10000))
until counted || [ "$(lab__now_ms)" -ge $deadline ]; do sleep 0.2; done
lines=$(td_log_count 'master: .*(unknown or expired cookie)')
echo "master lines about the 10,000 cookies: $lines"
[ "$lines" -le 200 ] || td_fail "$lines master lines for 10,000 bad cookies"
[ $((n + full)) = 10000 ] || td_fail "the lines account for $full + $n CONNECTs, not 10,000"
td_pass "10,000 forged cookies: $lines master lines ($full in full, the other $n counted in summaries)"

td_log_wait "$A banned for" 3 || td_fail "no ban for the address"
[ "$(hl_ctl --json bans | jq -r '.bans[0].address')" = "$A" ] || td_fail "tunnelctl bans: $(hl_ctl bans)"
hl c1 -u bob -p bob-pass login --expect refused --text banned || td_fail "the banned address could log in"
hl c1 connect --cookie-file "$LAB_DIR/cookie" --expect 200 || td_fail "bob's real cookie was refused"
td_pass "the address is banned: logins refused, its real cookie still works"

lab_ping_ok c2 198.18.1.2 3 || td_fail "alice lost her tunnel"
[ "$(lab_event_count c2 reconnect)" = 0 ] || td_fail "alice reconnected"
td_stop || td_fail "unclean stop"
td_pass "alice undisturbed, clean stop ($(hl_elapsed) s)"
