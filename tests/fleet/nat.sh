#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Logins of one user from behind one NAT, all at once (the reproducer of
# ocserv gl#751, where a shared pool handed two of them one address): 24
# openconnect clients in one namespace (one source address), as alice,
# through HAProxy (roundrobin) to two nodes.  Every tunnel must get its own
# IPv4 and IPv6 address, across the nodes too: node K hands out addresses
# of its own slice of the pools only (fleet.nodes).
#
#   c1 198.18.0.10: 24 x openconnect (alice) --> HAProxy --> n0, n1
set -euo pipefail
. "$(dirname "$0")/fleet-lib.sh"
N=${FLEET_NAT_CLIENTS:-24}
fl_init nat
fl_node 0
fl_node 1
fl_start 0 || td_fail "node 0 did not start"
fl_start 1 || td_fail "node 1 did not start"
fl_haproxy roundrobin || td_fail "HAProxy did not start"
lab_add_client c1

: >"$LAB_DIR/addrs"
for i in $(seq "$N"); do
	lab_bg c1 "$LAB_DIR/oc$i.log" sh -c "echo alice-pass | exec openconnect --non-inter \
		--passwd-on-stdin -u alice --servercert '$LAB_PIN' -i tun$i --script \
		'sh -c \"case \\\$reason in connect) echo \\\$INTERNAL_IP4_ADDRESS \\\${INTERNAL_IP6_NETMASK%%/*} >>$LAB_DIR/addrs;; esac\"' \
		'$LAB_URL'" >/dev/null
done
deadline=$(($(lab__now_ms) + 60000))
while [ "$(wc -l <"$LAB_DIR/addrs")" -lt "$N" ]; do
	[ "$(lab__now_ms)" -lt $deadline ] ||
		td_fail "$(wc -l <"$LAB_DIR/addrs") of $N tunnels up after 60 s"
	sleep 0.2
done
on0=$(fl_ctl 0 --json list | jq -r '.sessions[] | select(.state == "connected") | .ipv4')
on1=$(fl_ctl 1 --json list | jq -r '.sessions[] | select(.state == "connected") | .ipv4')
n0=$(grep -c . <<<"$on0" || true)
n1=$(grep -c . <<<"$on1" || true)
u4=$(cut -d' ' -f1 "$LAB_DIR/addrs" | sort -u | grep -c .)
u6=$(cut -d' ' -f2 "$LAB_DIR/addrs" | sort -u | grep -c .)
echo "NAT: $N tunnels of alice from 198.18.0.10: node 0 holds $n0, node 1 $n1;" \
	"distinct IPv4 $u4, distinct IPv6 $u6"
[ "$u4" = "$N" ] && [ "$u6" = "$N" ] || td_fail "duplicate addresses: $(sort "$LAB_DIR/addrs" | uniq -d)"
[ $((n0 + n1)) = "$N" ] || td_fail "the nodes hold $n0 + $n1 tunnels, not $N"
[ "$n0" -gt 0 ] && [ "$n1" -gt 0 ] || td_fail "HAProxy used one node only ($n0, $n1)"
# Each node's addresses lie in its slice: .0/25 for node 0, .128/25 for node 1.
for a in $on0; do [ "${a##*.}" -lt 128 ] || td_fail "node 0 handed out $a, outside its slice"; done
for a in $on1; do [ "${a##*.}" -ge 128 ] || td_fail "node 1 handed out $a, outside its slice"; done
td_pass "$N concurrent logins of one user behind one NAT: $N distinct IPv4 and IPv6 addresses across both nodes"

for k in 0 1; do
	TD_LOG=$(fl_log "$k")
	TD_PID=$(eval "echo \$FL_PID_$k")
	td_stop || td_fail "node $k: unclean stop"
done
