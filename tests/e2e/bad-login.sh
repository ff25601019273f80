#!/bin/bash
# A wrong password and an unknown user are refused: the client exits
# non-zero, the server logs why, and a connected client is undisturbed.
#
#   c1 (alice, connected, pinging) ---+
#   c2 (alice, wrong password)  ------+-- tunneld --- lan
#   c3 (mallory, unknown user)  ------+
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init badlogin
lab_make_cert
lab_add_client c1
lab_add_client c2
lab_add_client c3
td_users alice:alice-pass bob:bob-pass
td_start

lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "good client did not connect"
ip4=$(lab_client_state c1 ip4)
# Keep traffic flowing on c1 throughout the bad logins: a count, not a
# deadline (-w), which would end ping with its last probe unanswered and
# count it lost (CI run 28: 1 of 144).
ping_pid=$(lab_bg c1 "$LAB_DIR/ping.log" ping -n -i 0.05 -c 160 -W 1 198.18.1.2)

lab_start_client c2 alice wrong-password
rc=$(lab_client_exited c2 15) || td_fail "client with a wrong password did not exit"
[ "$rc" != 0 ] || td_fail "wrong password: client exit status 0"
td_log_wait "login failed for user 'alice' from 198\.18\.0\.[0-9]+:[0-9]+: bad password" 5 ||
	td_fail "no log line for the wrong password"
td_pass "wrong password refused (client exit $rc)"

lab_start_client c3 mallory whatever
rc=$(lab_client_exited c3 15) || td_fail "unknown user's client did not exit"
[ "$rc" != 0 ] || td_fail "unknown user: client exit status 0"
td_log_wait "login failed for user 'mallory' from .*: unknown user" 5 ||
	td_fail "no log line for the unknown user"
td_pass "unknown user refused (client exit $rc)"

# The good client kept its tunnel and lost nothing.
lab_wait_gone "$ping_pid" 20
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LAB_DIR/ping.log")
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$LAB_DIR/ping.log")
[ -n "$received" ] && [ "$received" -ge 100 ] || td_fail "c1 ping: only '$received' replies"
[ "$loss" = 0 ] || td_fail "c1 lost ${loss}% of pings during bad logins"
[ "$(lab_event_count c1 reconnect)" = 0 ] || td_fail "c1 reconnected"
lab_ping_ok c1 fd00:1::2 || td_fail "c1 IPv6 after bad logins"
[ "$(lab_client_state c1 ip4)" = "$ip4" ] || td_fail "c1 address changed"
td_pass "connected client undisturbed ($received pings, 0% loss)"

# A second user still logs in afterwards.
lab_add_client c4
lab_start_client c4 bob bob-pass
lab_wait_client c4 20 || td_fail "bob did not connect"
td_stop || td_fail "unclean stop"
