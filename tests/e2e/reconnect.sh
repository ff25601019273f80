#!/bin/bash
# SIGUSR2 makes openconnect drop its TCP connection and reconnect with its
# cookie on a fresh TLS connection (on either worker): it must come back
# with the same addresses, and traffic resumes.
#
#   client c1 ==tunnel (dropped, re-made 3 times)== tunneld (2 workers) --- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init reconn
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_WORKERS=2 td_config
td_start
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
ip4=$(lab_client_state c1 ip4)
ip6=$(lab_client_state c1 ip6)
lab_ping_ok c1 198.18.1.2 || td_fail "ping before reconnect"

for round in 1 2 3; do
	lab_client_signal c1 USR2
	lab_wait_event c1 reconnect "$round" 30 || td_fail "no reconnect in round $round"
	lab_wait_client c1 20 || td_fail "not up after reconnect $round"
	[ "$(lab_client_state c1 ip4)" = "$ip4" ] || td_fail "IPv4 changed on reconnect $round"
	[ "$(lab_client_state c1 ip6)" = "$ip6" ] || td_fail "IPv6 changed on reconnect $round"
	lab_ping_ok c1 198.18.1.2 || td_fail "IPv4 traffic after reconnect $round"
	lab_ping_ok c1 fd00:1::2 || td_fail "IPv6 traffic after reconnect $round"
	lab_ping_ok lan "$ip4" || td_fail "lan -> client after reconnect $round"
	td_pass "reconnect $round: same $ip4 $ip6, traffic flows"
done
[ "$(td_log_count "user 'alice' logged in")" = 1 ] || td_fail "the client logged in again"

# An unknown cookie gets 401 and a forged one too (the client gives up):
# the forged one is not even a sealed cookie's length, the unknown one is
# (540 characters, common/ticket.h) but opens with no key.
lab_add_client c2
lab_cli c2 bash -c "echo webvpn-forged | timeout 20 openconnect --non-inter --cookie-on-stdin \
	--servercert '$LAB_PIN' --script /bin/true '$LAB_URL'" >"$LAB_DIR/c2.log" 2>&1 &&
	td_fail "forged cookie accepted"
td_log_wait "CONNECT from .* refused: malformed cookie" 5 || td_fail "no log for the forged cookie"
unknown=$(printf 'A%.0s' $(seq 540))
lab_cli c2 bash -c "echo $unknown | timeout 20 openconnect \
	--non-inter --cookie-on-stdin --servercert '$LAB_PIN' --script /bin/true '$LAB_URL'" \
	>"$LAB_DIR/c2.log" 2>&1 && td_fail "unknown cookie accepted"
td_log_wait "CONNECT from .* refused: unknown or expired cookie" 5 || td_fail "no log for the unknown cookie"
td_pass "forged and unknown cookies refused"

lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
td_log_wait "session [0-9]+ user alice ended \(client logged out\).* 3 reconnects" 5 ||
	td_fail "session summary does not show 3 reconnects"
td_stop || td_fail "unclean stop"
