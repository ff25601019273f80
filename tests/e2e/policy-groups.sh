#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Groups with their own routes, DNS servers and pools: the client's
# vpnc-script environment shows them, tunnelctl names each session's group,
# the pools carve their leases out of the network pools (a client without a
# group gets none of them), and a reload applies to new tunnels.
#
#   c1 alice (staff)           --+
#   c2 bob   (eng,staff -> eng) --+-- [server: tunneld] --- lan 198.18.1.2, 198.18.1.130,
#   c3 carol (sales: undefined) --+                                fd00:1::2
# staff: routes 198.18.1.0/25, dns 198.18.1.53, pools 198.18.100.128/26 + fd00:100::80/122
# eng:   routes 198.18.1.128/25 + fd00:1::/64, dns 198.18.1.54 + fd00:1::54,
#        pools 198.18.100.0/26 + fd00:100::/122 (leases 0..63)
# top level (td.sh): routes 198.18.1.0/24 + fd00:1::/64, dns 198.18.100.1
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
export LAB_SCRIPT_ENVDUMP=1
lab_init pgrp
lab_need jq
lab_make_cert
lab_add_client c1
lab_add_client c2
lab_add_client c3
CTL=${TD_CTL:-$TD_TOP/tunnelctl}
td_users alice:alice-pass bob:bob-pass carol:carol-pass
"$TD_PASSWD" -f "$LAB_DIR/passwd" -g staff alice >/dev/null
"$TD_PASSWD" -f "$LAB_DIR/passwd" -g eng,staff bob >/dev/null
"$TD_PASSWD" -f "$LAB_DIR/passwd" -g sales carol >/dev/null
lab_lan ip addr add 198.18.1.130/24 dev eth0
TD_EXTRA='banner = "Welcome, everyone.";
groups = (
  { name = "staff"; routes = [ "198.18.1.0/25" ]; dns = [ "198.18.1.53" ];
    ipv4-pool = "198.18.100.128/26"; ipv6-pool = "fd00:100::80/122";
    banner = "Staff network: changes are logged."; },
  { name = "eng"; routes = [ "198.18.1.128/25", "fd00:1::/64" ];
    dns = [ "198.18.1.54", "fd00:1::54" ];
    ipv4-pool = "198.18.100.0/26"; ipv6-pool = "fd00:100::/122"; } );' td_config
td_start

# The environment of the client's last connect (oc-script.sh's dump).
env_of() { # CLIENT VAR
	local f
	f=$(ls -t "$LAB_DIR/$1".env.*.connect | head -n 1)
	sed -n "s/^$2=//p" "$f"
}
last_octet() { echo "${1##*.}"; }

lab_start_client c1 alice alice-pass
lab_wait_client c1 30 || td_fail "alice did not connect"
lab_start_client c2 bob bob-pass
lab_wait_client c2 30 || td_fail "bob did not connect"
lab_start_client c3 carol carol-pass
lab_wait_client c3 30 || td_fail "carol did not connect"

# staff
a=$(last_octet "$(env_of c1 INTERNAL_IP4_ADDRESS)")
[ "$a" -ge 129 ] && [ "$a" -le 190 ] || td_fail "alice got .$a, not a client address of staff's 198.18.100.128/26"
[ "$(env_of c1 INTERNAL_IP4_NETMASK)" = 255.255.255.192 ] ||
	td_fail "alice: netmask $(env_of c1 INTERNAL_IP4_NETMASK), want staff's /26"
case $(env_of c1 INTERNAL_IP6_NETMASK) in fd00:100::[89ab][0-9a-f]/122) ;;
*) td_fail "alice: IPv6 $(env_of c1 INTERNAL_IP6_NETMASK), want an address of fd00:100::80/122" ;;
esac
[ "$(env_of c1 INTERNAL_IP4_DNS)" = 198.18.1.53 ] || td_fail "alice: DNS '$(env_of c1 INTERNAL_IP4_DNS)'"
[ "$(env_of c1 CISCO_SPLIT_INC)" = 1 ] && [ "$(env_of c1 CISCO_SPLIT_INC_0_ADDR)" = 198.18.1.0 ] &&
	[ "$(env_of c1 CISCO_SPLIT_INC_0_MASKLEN)" = 25 ] || td_fail "alice: routes are not staff's"
[ -z "$(env_of c1 CISCO_IPV6_SPLIT_INC)" ] || [ "$(env_of c1 CISCO_IPV6_SPLIT_INC)" = 0 ] ||
	td_fail "alice: IPv6 routes, staff has none"
lab_ping_ok c1 198.18.1.2 3 || td_fail "alice cannot reach 198.18.1.2 (her route)"
lab_ping_ok c1 198.18.1.130 2 && td_fail "alice reached 198.18.1.130 (not her route)"
[ "$(env_of c1 CISCO_BANNER)" = "Staff network: changes are logged." ] ||
	td_fail "alice: banner '$(env_of c1 CISCO_BANNER)', want staff's"
td_pass "staff: alice .$a/26, DNS 198.18.1.53, route 198.18.1.0/25, staff's banner"

# eng: the first of bob's groups that is defined
b=$(last_octet "$(env_of c2 INTERNAL_IP4_ADDRESS)")
[ "$b" -ge 2 ] && [ "$b" -le 62 ] || td_fail "bob got .$b, not in eng's 198.18.100.0/26"
[ "$(env_of c2 INTERNAL_IP4_NETMASK)" = 255.255.255.192 ] || td_fail "bob: netmask not eng's /26"
case $(env_of c2 INTERNAL_IP4_DNS) in *198.18.1.54*) ;; *) td_fail "bob: DNS lacks 198.18.1.54" ;; esac
grep -q 'fd00:1::54' "$(ls -t "$LAB_DIR"/c2.env.*.connect | head -n 1)" || td_fail "bob: no fd00:1::54 DNS"
[ "$(env_of c2 CISCO_SPLIT_INC_0_ADDR)/$(env_of c2 CISCO_SPLIT_INC_0_MASKLEN)" = 198.18.1.128/25 ] ||
	td_fail "bob: IPv4 route is not eng's"
[ "$(env_of c2 CISCO_IPV6_SPLIT_INC_0_ADDR)" = fd00:1:: ] || td_fail "bob: IPv6 route is not eng's"
lab_ping_ok c2 198.18.1.130 3 || td_fail "bob cannot reach 198.18.1.130 (his route)"
lab_ping_ok c2 fd00:1::2 3 || td_fail "bob cannot reach fd00:1::2 (his route)"
[ "$(env_of c2 CISCO_BANNER)" = "Welcome, everyone." ] ||
	td_fail "bob: banner '$(env_of c2 CISCO_BANNER)', want the top level's (eng has none)"
td_pass "eng: bob .$b/26, DNS 198.18.1.54 and fd00:1::54, routes 198.18.1.128/25 and fd00:1::/64"

# no group: the top level's, and a lease outside both groups' pools
c=$(last_octet "$(env_of c3 INTERNAL_IP4_ADDRESS)")
[ "$c" -ge 64 ] && { [ "$c" -le 127 ] || [ "$c" -ge 192 ]; } ||
	td_fail "carol got .$c, inside a group's pool"
[ "$(env_of c3 INTERNAL_IP4_NETMASK)" = 255.255.255.0 ] || td_fail "carol: netmask not the pool's /24"
[ "$(env_of c3 INTERNAL_IP4_DNS)" = 198.18.100.1 ] || td_fail "carol: DNS not the top level's"
[ "$(env_of c3 CISCO_SPLIT_INC_0_ADDR)/$(env_of c3 CISCO_SPLIT_INC_0_MASKLEN)" = 198.18.1.0/24 ] ||
	td_fail "carol: routes not the top level's"
lab_ping_ok c3 198.18.1.130 2 || td_fail "carol cannot reach the lan"
td_pass "no group: carol .$c/24 outside the groups' pools, top-level DNS and routes"

ls=$("$CTL" -s "$LAB_DIR/control.sock" --json list) || td_fail "tunnelctl list failed"
for ug in alice:staff bob:eng carol:; do
	got=$(jq -r --arg u "${ug%%:*}" '.sessions[] | select(.user == $u) | .group' <<<"$ls")
	[ "$got" = "${ug#*:}" ] || td_fail "tunnelctl: ${ug%%:*} in group '$got', want '${ug#*:}'"
done
[ "$(jq -r '.sessions[] | select(.user == "bob") | .groups' <<<"$ls")" = eng,staff ] ||
	td_fail "tunnelctl: bob's groups"
id=$(jq -r '.sessions[] | select(.user == "alice") | .id' <<<"$ls")
"$CTL" -s "$LAB_DIR/control.sock" show "$id" | grep -q '^group: staff$' || td_fail "tunnelctl show lacks 'group: staff'"
"$CTL" -s "$LAB_DIR/control.sock" list | grep -q 'bob  *eng ' || td_fail "tunnelctl list lacks bob's group"
td_pass "tunnelctl: alice staff, bob eng (of eng,staff), carol none"

# A reload: staff's DNS changes for alice's next tunnel, bob's runs on.
sed -i 's/dns = \[ "198.18.1.53" \]/dns = [ "198.18.1.63" ]/' "$LAB_DIR/tunneld.conf"
kill -HUP "$TD_PID"
td_log_wait "reload: groups changed" 10 || td_fail "the reload did not see the groups change"
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "alice did not exit"
lab_start_client c1 alice alice-pass
lab_wait_client c1 30 || td_fail "alice did not connect after the reload"
[ "$(env_of c1 INTERNAL_IP4_DNS)" = 198.18.1.63 ] || td_fail "alice: DNS after reload '$(env_of c1 INTERNAL_IP4_DNS)'"
lab_ping_ok c2 198.18.1.130 2 || td_fail "bob's tunnel broke on reload"
td_pass "reload: alice's new tunnel gets staff's new DNS; bob's tunnel runs on"
td_stop || td_fail "unclean stop"
