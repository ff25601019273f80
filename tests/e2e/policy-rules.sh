#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Traffic rules: each allows and drops what it says, and every drop is
# counted for its session by reason (the line logged at the session's end).
#
#   c1 alice (no group: top-level rules)  --+
#   c2 bob   (group "open")                --+-- [server: tunneld] --- lan 198.18.1.2
#   c3 carol (group "open")                --+       UDP 9000 and 9999, TCP 5201 and 8080,
#                                                    IP protocol 47: listeners counting
# top level: client-to-client off (the default), protocols tcp, udp, icmp,
#   tcp-ports 5201, udp-ports 9000-9001;
# "open": client-to-client on, global-only on, protocols "all".
# IPv4 only (--disable-ipv6), so that no ICMPv6 of the clients' own counts.
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init prul
lab_need socat jq
lab_make_cert
lab_add_client c1
lab_add_client c2
lab_add_client c3
CTL=${TD_CTL:-$TD_TOP/tunnelctl}
LAN=198.18.1.2
td_users alice:alice-pass bob:bob-pass carol:carol-pass
"$TD_PASSWD" -f "$LAB_DIR/passwd" -g open bob >/dev/null
"$TD_PASSWD" -f "$LAB_DIR/passwd" -g sales,open carol >/dev/null
RULES='rules = { protocols = [ "tcp", "udp", "icmp" ]; tcp-ports = [ "5201" ];
  udp-ports = [ "9000-9001" ]; };'
GRPS='groups = ( { name = "open";
  rules = { client-to-client = true; global-only = true; protocols = "all"; }; } );'
TD_EXTRA="$RULES
$GRPS" td_config
td_start

# What reaches the lan: one line per datagram or packet.
for p in 9000 9999; do
	lab_bg lan "$LAB_DIR/udp$p.log" socat -u "UDP4-RECV:$p" "OPEN:$LAB_DIR/udp$p.got,creat,append" >/dev/null
	lab_wait_listen lan "$p" 10 udp
done
lab_bg lan "$LAB_DIR/gre.log" socat -u "IP4-RECV:47" "OPEN:$LAB_DIR/gre.got,creat,append" >/dev/null
for p in 5201 8080; do
	lab_bg lan "$LAB_DIR/tcp$p.log" socat "TCP4-LISTEN:$p,fork,reuseaddr" SYSTEM:"echo open$p" >/dev/null
	lab_wait_listen lan "$p" 10
done
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

lab_start_client c1 alice alice-pass --disable-ipv6
lab_start_client c2 bob bob-pass --disable-ipv6
lab_start_client c3 carol carol-pass --disable-ipv6
for c in c1 c2 c3; do lab_wait_client "$c" 30 || td_fail "$c did not connect"; done
A=$(lab_client_state c1 ip4) B=$(lab_client_state c2 ip4) C=$(lab_client_state c3 ip4)

# The session's group in tunnelctl: the first of the user's groups defined.
group_of() { "$CTL" -s "$LAB_DIR/control.sock" --json list |
	jq -r --arg u "$1" '.sessions[] | select(.user == $u) | .group'; }
[ "$(group_of alice)" = "" ] || td_fail "alice has group '$(group_of alice)', want none"
[ "$(group_of bob)" = open ] || td_fail "bob has group '$(group_of bob)', want open"
[ "$(group_of carol)" = open ] || td_fail "carol has group '$(group_of carol)' (sales is not defined)"
td_pass "groups: alice none, bob open, carol open (sales undefined)"

# client-to-client: off for alice both ways, on between bob and carol.
lab_cli c1 ping -n -q -c 5 -i 0.2 -W 1 "$B" >/dev/null 2>&1 && td_fail "alice reached bob"
lab_cli c2 ping -n -q -c 3 -i 0.2 -W 1 "$A" >/dev/null 2>&1 && td_fail "bob reached alice"
lab_ping_ok c2 "$C" 4 || td_fail "bob cannot ping carol (client-to-client on for open)"
lab_ping_ok c3 "$B" 2 || td_fail "carol cannot ping bob"
td_pass "client-to-client: alice <-> bob dropped, bob <-> carol through"

# protocols: alice's ICMP passes, IP protocol 47 does not.
lab_ping_ok c1 "$LAN" 3 || td_fail "alice cannot ping the lan (icmp allowed)"
for _ in 1 2 3 4; do echo gre | lab_cli c1 socat -u - "IP4-SENDTO:$LAN:47"; done
# ports: UDP 9000 in the range, 9999 not; TCP 5201 listed, 8080 not.
for _ in $(seq 6); do echo ok | lab_cli c1 socat -u - "UDP4-SENDTO:$LAN:9000"; done
for _ in $(seq 7); do echo no | lab_cli c1 socat -u - "UDP4-SENDTO:$LAN:9999"; done
got=$(lab_cli c1 timeout 10 socat -T 3 - "TCP4:$LAN:5201,connect-timeout=5" </dev/null) ||
	td_fail "alice: TCP to 5201 failed"
[ "$got" = open5201 ] || td_fail "alice: TCP 5201 answered '$got'"
lab_cli c1 timeout 10 socat -T 2 - "TCP4:$LAN:8080,connect-timeout=2" </dev/null >/dev/null 2>&1 &&
	td_fail "alice: TCP to 8080 got through"
# global-only: bob's pings to the (benchmarking range) lan are dropped.
lab_cli c2 ping -n -q -c 5 -i 0.2 -W 1 "$LAN" >/dev/null 2>&1 && td_fail "bob reached the lan"
deadline=$(($(lab__now_ms) + 5000))
while [ "$(lines "$LAB_DIR/udp9000.got")" -lt 6 ] && [ "$(lab__now_ms)" -lt $deadline ]; do sleep 0.1; done
[ "$(lines "$LAB_DIR/udp9000.got")" = 6 ] || td_fail "lan got $(lines "$LAB_DIR/udp9000.got") of 6 datagrams to 9000"
[ "$(lines "$LAB_DIR/udp9999.got")" = 0 ] || td_fail "lan got datagrams to 9999"
[ "$(lines "$LAB_DIR/gre.got")" = 0 ] || td_fail "lan got IP protocol 47 packets"
td_pass "protocols and ports: icmp, UDP 9000, TCP 5201 through; proto 47, UDP 9999, TCP 8080 dropped; bob's non-global dropped"

# tunnelctl shows the counters as the tunnels report them (every 10 s).
shown() { "$CTL" -s "$LAB_DIR/control.sock" --json list |
	jq -r --arg u "$1" --arg k "$2" '.sessions[] | select(.user == $u) | .[$k]'; }
deadline=$(($(lab__now_ms) + 25000))
until [ "$(shown alice drop_client_to_client)" = 8 ] && [ "$(shown alice drop_protocol)" = 4 ] &&
	[ "$(shown bob drop_non_global)" = 5 ]; do
	[ "$(lab__now_ms)" -lt $deadline ] ||
		td_fail "tunnelctl: alice $(shown alice drop_client_to_client) client-to-client, $(shown alice drop_protocol) protocol; bob $(shown bob drop_non_global) non-global"
	sleep 0.5
done
[ "$(shown alice drop_port)" -ge 8 ] || td_fail "tunnelctl: alice $(shown alice drop_port) port drops"
td_pass "tunnelctl shows the drops by reason"

# The counters, from the line each session's end logs.
counter() { # USER WHAT
	td_end_field "$1" "drop_$(case $2 in c2c) echo client_to_client ;; nonglobal) echo non_global ;; *) echo "$2" ;; esac)"
}
for c in c1 c2 c3; do
	lab_client_signal "$c" INT
	lab_client_exited "$c" 10 >/dev/null || td_fail "$c did not exit"
done
for u in alice bob carol; do
	td_log_wait "session-end id=[0-9]+ user=$u " 10 || td_fail "no end line for $u"
done
# alice: her 5 pings to bob and bob's 3 to her (dropped where she gets them).
[ "$(counter alice c2c)" = 8 ] || td_fail "alice: $(counter alice c2c) client-to-client drops, sent 8"
[ "$(counter alice protocol)" = 4 ] || td_fail "alice: $(counter alice protocol) protocol drops, sent 4"
p=$(counter alice port)
[ "$p" -ge 8 ] && [ "$p" -le 13 ] ||
	td_fail "alice: $p port drops, sent 7 datagrams and 1-6 SYNs"
[ "$(counter alice nonglobal)" = 0 ] || td_fail "alice: non-global drops without global-only"
[ "$(counter bob nonglobal)" = 5 ] || td_fail "bob: $(counter bob nonglobal) non-global drops, sent 5"
[ "$(counter bob c2c)$(counter bob protocol)$(counter bob port)" = 000 ] ||
	td_fail "bob: other drops counted"
[ "$(counter carol c2c)$(counter carol nonglobal)$(counter carol protocol)$(counter carol port)" = 0000 ] ||
	td_fail "carol: drops counted"
td_pass "drops by reason: alice 8 client-to-client 4 protocol $p port; bob 5 non-global; carol none"

# A reload turns client-to-client on at the top level: alice's new tunnel
# reaches bob's, a client of a group that allows it.
sed -i 's/^rules = { /rules = { client-to-client = true; /' "$LAB_DIR/tunneld.conf"
kill -HUP "$TD_PID"
td_log_wait "reloaded .*tunneld.conf" 10 || td_fail "no reload"
td_log_wait "reload: rules.client-to-client changed" 5 || td_fail "reload did not see the rule"
lab_start_client c1 alice alice-pass --disable-ipv6
lab_start_client c2 bob bob-pass --disable-ipv6
lab_wait_client c1 30 || td_fail "alice did not reconnect"
lab_wait_client c2 30 || td_fail "bob did not reconnect"
lab_ping_ok c1 "$(lab_client_state c2 ip4)" 3 || td_fail "alice cannot reach bob after the reload"
td_pass "reload: client-to-client on, alice reaches bob"
td_stop || td_fail "unclean stop"
