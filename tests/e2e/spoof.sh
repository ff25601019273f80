#!/bin/bash
# Packets whose source is not the client's leased address are dropped by
# the server and counted in the session's summary.
#
#   c1: tun carries its lease plus 198.18.200.5 and fd00:200::5 (not leased);
#   pings from those go into the tunnel and must die at tunneld.
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init spoof
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
td_start
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
tun=$(lab_client_state c1 tundev)
lab_cli c1 ip addr add 198.18.200.5/32 dev "$tun"
lab_cli c1 ip -6 addr add fd00:200::5/128 dev "$tun" nodad
# Another client's address is spoofing too.
lab_cli c1 ip addr add 198.18.100.77/32 dev "$tun"

# The lan host counts what reaches it from the spoofed sources.
lab_lan ip route add 198.18.200.0/24 via 198.18.1.1
lab_lan ip -6 route add fd00:200::/64 via fd00:1::1

lab_cli c1 ping -n -q -c 10 -i 0.05 -W 1 -I 198.18.200.5 198.18.1.2 >/dev/null 2>&1 &&
	td_fail "spoofed IPv4 ping got answers"
lab_cli c1 ping -n -q -c 10 -i 0.05 -W 1 -I 198.18.100.77 198.18.1.2 >/dev/null 2>&1 &&
	td_fail "ping from another pool address got answers"
lab_cli c1 ping -6 -n -q -c 10 -i 0.05 -W 1 -I fd00:200::5 fd00:1::2 >/dev/null 2>&1 &&
	td_fail "spoofed IPv6 ping got answers"
# Genuine traffic still flows.
lab_ping_ok c1 198.18.1.2 5 || td_fail "genuine IPv4 ping"
lab_ping_ok c1 fd00:1::2 5 || td_fail "genuine IPv6 ping"
td_pass "spoofed pings unanswered, genuine ones answered"

lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
td_log_wait "session-end id=[0-9]+ user=alice " 5 || td_fail "no session summary"
spoofed=$(td_end_field alice drop_spoofed)
[ -n "$spoofed" ] && [ "$spoofed" -ge 30 ] || td_fail "only '$spoofed' spoofed packets counted (sent 30)"
td_pass "$spoofed spoofed packets dropped and counted"
td_stop || td_fail "unclean stop"
