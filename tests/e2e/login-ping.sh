#!/bin/bash
# Log in with the stock client, then ping the server's tunnel address and a
# host behind the server over IPv4 and IPv6; a clean stop at the end.
#
#   client c1 --br0-- [server: tunneld, vpns0 198.18.100.1 fd00:100::1] --- lan 198.18.1.2 fd00:1::2
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init login
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
td_start

lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
ip4=$(lab_client_state c1 ip4)
ip6=$(lab_client_state c1 ip6)
case $ip4 in 198.18.100.*) ;; *) td_fail "IPv4 address '$ip4' not from the pool" ;; esac
case $ip4 in 198.18.100.0 | 198.18.100.1 | 198.18.100.255) td_fail "reserved address $ip4 leased" ;; esac
case $ip6 in fd00:100::*) ;; *) td_fail "IPv6 address '$ip6' not from the pool" ;; esac
td_pass "logged in: $ip4 $ip6"

lab_ping_ok c1 198.18.100.1 || td_fail "ping server tunnel address (IPv4)"
lab_ping_ok c1 fd00:100::1 || td_fail "ping server tunnel address (IPv6)"
lab_ping_ok c1 198.18.1.2 || td_fail "ping lan host (IPv4)"
lab_ping_ok c1 fd00:1::2 || td_fail "ping lan host (IPv6)"
lab_ping_ok lan "$ip4" || td_fail "ping client from the lan (IPv4)"
lab_ping_ok lan "$ip6" || td_fail "ping client from the lan (IPv6)"
td_pass "ping both ways, both families"

# The client quits with a BYE (0xb0): the session ends with its counters.
lab_client_signal c1 INT
rc=$(lab_client_exited c1 10) || td_fail "client did not exit"
td_log_wait 'session-end id=[0-9]+ user=alice peer=[^ ]+ reason="client logged out" .* rx_pkts=[1-9][0-9]* ' 5 ||
	td_fail "no session summary"
td_stop || td_fail "unclean stop"
td_pass "client exit $rc, clean stop"
