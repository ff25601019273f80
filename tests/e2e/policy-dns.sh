#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Transparent DNS: clients are given the in-tunnel address of
# network.dns-intercept as their DNS server; their queries to it, over UDP
# and TCP, IPv4 and IPv6, are answered by the resolver of their group in the
# lan (dnsmasq), which sees the client's own address, and the answers come
# back from the intercept address.  Over DTLS and over TLS.
#
#   c1 alice (DTLS)  --+                            lan: dnsmasq 198.18.1.2, fd00:1::2
#   c2 carol (TLS)   --+-- [server: tunneld] ---         (probe.test: 198.18.7.7, fd00:7::7)
#   c3 bob (eng: its own pool) -+                       dnsmasq 198.18.1.3, fd00:1::3
#                                                        (probe.test: 198.18.8.8, fd00:8::8)
# intercept: 198.18.100.1 (the server's tunnel address) and fd00:100::1
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
export LAB_SCRIPT_ENVDUMP=1
lab_init pdns
lab_need dnsmasq dig jq
lab_make_cert
lab_add_client c1
lab_add_client c2
lab_add_client c3
td_users alice:alice-pass carol:carol-pass bob:bob-pass
"$TD_PASSWD" -f "$LAB_DIR/passwd" -g eng bob >/dev/null
lab_lan ip addr add 198.18.1.3/24 dev eth0
lab_lan ip -6 addr add fd00:1::3/64 dev eth0 nodad

# One resolver per address pair, its own config only (-C /dev/null).
resolver() { # NAME V4 V6 ANSWER4 ANSWER6
	lab_bg lan "$LAB_DIR/dnsmasq-$1.log" dnsmasq -k -C /dev/null --log-facility=- --log-queries \
		--no-resolv --no-hosts --bind-interfaces --listen-address="$2" --listen-address="$3" \
		--pid-file="$LAB_DIR/dnsmasq-$1.pid" --user=root \
		--address="/probe.test/$4" --address="/probe.test/$5" >/dev/null
	lab_wait_listen lan 53 10 udp
}
resolver main 198.18.1.2 fd00:1::2 198.18.7.7 fd00:7::7
resolver eng 198.18.1.3 fd00:1::3 198.18.8.8 fd00:8::8
for a in 198.18.1.2 198.18.1.3; do
	lab_lan dig +short +time=2 +tries=3 "@$a" probe.test A | grep -q . || td_fail "resolver $a not answering"
done

# eng's pool's netmask does not reach the intercept address: the host
# routes clients get with split routes take their DNS into the tunnel.
TD_EXTRA='groups = ( { name = "eng"; dns = [ "198.18.1.3", "fd00:1::3" ];
  ipv4-pool = "198.18.100.128/26"; ipv6-pool = "fd00:100::80/122"; } );' td_config
sed -i 's|dns = \["198.18.100.1"\];|dns = [ "198.18.1.2", "fd00:1::2" ]; dns-intercept = [ "198.18.100.1", "fd00:100::1" ];|' \
	"$LAB_DIR/tunneld.conf"
grep -q dns-intercept "$LAB_DIR/tunneld.conf" || td_fail "config not written"
td_start

lab_start_client c1 alice alice-pass
lab_start_client c2 carol carol-pass --no-dtls
lab_start_client c3 bob bob-pass
for c in c1 c2 c3; do lab_wait_client "$c" 30 || td_fail "$c did not connect"; done
grep -q 'Established DTLS connection' "$LAB_DIR/c1.oc.log" || td_fail "alice is not on DTLS"

# Clients are told the intercept addresses, not the resolvers'.
envf=$(ls -t "$LAB_DIR"/c1.env.*.connect | head -n 1)
grep -q '^INTERNAL_IP4_DNS=198.18.100.1' "$envf" || td_fail "alice's DNS is not 198.18.100.1: $(grep DNS "$envf")"
grep -q 'fd00:100::1' "$envf" || td_fail "alice is not told fd00:100::1"
grep -q '198\.18\.1\.2\|fd00:1::2' "$envf" && td_fail "alice is told the resolver's own address"
envf=$(ls -t "$LAB_DIR"/c3.env.*.connect | head -n 1)
grep -q '^INTERNAL_IP4_NETMASK=255.255.255.192' "$envf" || td_fail "bob is not on eng's /26"
grep -q '^CISCO_SPLIT_INC_.*_ADDR=198.18.100.1$' "$envf" || td_fail "bob has no route to 198.18.100.1"
grep -q '^CISCO_IPV6_SPLIT_INC_.*_ADDR=fd00:100::1$' "$envf" || td_fail "bob has no route to fd00:100::1"
td_pass "clients are told 198.18.100.1 and fd00:100::1, with host routes to them"

# CLIENT NAME WANT4 WANT6: the four kinds of query through the intercept address.
ask() {
	local c=$1 fam server type want proto got
	for fam in 4 6; do
		if [ $fam = 4 ]; then server=198.18.100.1 type=A want=$3; else server=fd00:100::1 type=AAAA want=$4; fi
		for proto in +notcp +tcp; do
			got=$(lab_cli "$c" dig +short +time=3 +tries=2 "$proto" "@$server" probe.test "$type") || true
			[ "$got" = "$want" ] || td_fail "$2: $type over ${proto#+} to $server: '$got', want $want"
		done
	done
}
ask c1 alice 198.18.7.7 fd00:7::7
ask c2 carol 198.18.7.7 fd00:7::7
ask c3 bob 198.18.8.8 fd00:8::8
td_pass "UDP and TCP, IPv4 and IPv6: answered by the group's resolver, from the intercept address (DTLS and TLS)"

# The resolvers saw the clients' own addresses.
for c in c1 c2; do
	ip4=$(lab_client_state "$c" ip4)
	grep -q "query\[A\] probe.test from $ip4" "$LAB_DIR/dnsmasq-main.log" ||
		td_fail "the main resolver did not see $ip4 ($c)"
done
grep -q "query\[AAAA\] probe.test from $(lab_client_state c1 ip6)" "$LAB_DIR/dnsmasq-main.log" ||
	td_fail "the main resolver did not see alice's IPv6 address"
grep -q "query\[A\] probe.test from $(lab_client_state c3 ip4)" "$LAB_DIR/dnsmasq-eng.log" ||
	td_fail "eng's resolver did not see bob"
grep -q "from $(lab_client_state c3 ip4)" "$LAB_DIR/dnsmasq-main.log" &&
	td_fail "the main resolver got bob's query"
td_pass "the resolvers see the clients' addresses, eng's only bob's"

for c in c1 c2 c3; do
	lab_client_signal "$c" INT
	lab_client_exited "$c" 10 >/dev/null || td_fail "$c did not exit"
done
for u in alice carol bob; do
	td_log_wait "session-end id=[0-9]+ user=$u " 10 || td_fail "no end line for $u"
	n=$(td_end_field "$u" dns_intercepted)
	# 2 UDP queries and 2 TCP connections (a handshake, the query, the end).
	[ -n "$n" ] && [ "$n" -ge 8 ] || td_fail "$u: '$n' intercepted packets counted, sent at least 8"
done
td_pass "intercepted packets counted for each session"
td_stop || td_fail "unclean stop"
