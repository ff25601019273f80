#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# NAT egress (network.nat.interface): the lan host has no route back to the
# pools, yet the client's pings get answers (IPv4 and IPv6) while tunneld
# masquerades out of lan0; a reload without NAT deletes the table (the
# pings go unanswered), a reload with it puts it back; after a stop
# `nft list tables` has no tunneld table, and after kill -9 a restart
# replaces the stale table (one table, not two).  tunneld -t names
# FILE:LINE for an unknown interface and a bad metrics.listen.
#
#   client c1 --br0-- [server: tunneld, nat out of lan0 198.18.1.1] --- lan 198.18.1.2
#                                                          (no route to 198.18.100.0/24)
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init nat
lab_need nft
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_LOG_LEVEL=info
td_config
conf=$LAB_DIR/tunneld.conf
nat_on() {
	sed -i '/^  nat = /d' "$conf"
	sed -i "s|^  routes = \\[.*\\];$|&\\n  nat = { interface = \"${1:-lan0}\"; };|" "$conf"
	grep -q "^  nat = { interface = \"${1:-lan0}\"; };" "$conf" || td_fail "could not set network.nat"
}
nat_off() { sed -i '/^  nat = /d' "$conf"; }
# tables: how many "table inet tunneld" the server's namespace has.
tables() { lab_srv nft list tables | grep -c '^table inet tunneld$' || true; }
replies() { # COUNT ADDR: pings answered
	{ lab_cli c1 ping -c "$1" -i 0.1 -W 1 "$2" 2>/dev/null || true; } |
		sed -n 's/.* \([0-9]*\) received.*/\1/p'
}

# --- bad values are refused with FILE:LINE ----------------------------------
nat_on nosuch0
rc=0
"$TD_BIN" -t -c "$conf" >"$LAB_DIR/t.out" 2>&1 || rc=$?
[ $rc = 1 ] || td_fail "tunneld -t with an unknown interface: exit $rc"
grep -qE "$conf:[0-9]+: network.nat.interface: no interface \"nosuch0\"" "$LAB_DIR/t.out" ||
	td_fail "no FILE:LINE error: $(cat "$LAB_DIR/t.out")"
nat_on
echo 'metrics = { listen = "127.0.0.1"; };' >>"$conf"
rc=0
"$TD_BIN" -t -c "$conf" >"$LAB_DIR/t.out" 2>&1 || rc=$?
[ $rc = 1 ] || td_fail "tunneld -t with a bad metrics.listen: exit $rc"
grep -qE "$conf:[0-9]+: metrics.listen: \"127.0.0.1\": missing \":PORT\"" "$LAB_DIR/t.out" ||
	td_fail "no FILE:LINE error: $(cat "$LAB_DIR/t.out")"
sed -i '/^metrics = /d' "$conf"
td_pass "tunneld -t: unknown interface and bad metrics.listen named with FILE:LINE"

# The lan knows no way back to the pools: only NAT makes replies possible.
lab_lan ip route del 198.18.100.0/24
lab_lan ip -6 route del fd00:100::/64
[ "$(tables)" = 0 ] || td_fail "a tunneld table before the start"

# --- start with NAT ---------------------------------------------------------
td_start
td_log_wait 'network.nat: masquerading the pools out of lan0' 5 || td_fail "no NAT line at start"
[ "$(tables)" = 1 ] || td_fail "$(tables) tunneld tables after the start"
lab_srv nft list table inet tunneld >"$LAB_DIR/rules" || td_fail "nft list table"
grep -q 'oifname "lan0" ip saddr 198.18.100.0/24 masquerade' "$LAB_DIR/rules" ||
	td_fail "no IPv4 rule: $(cat "$LAB_DIR/rules")"
grep -q 'oifname "lan0" ip6 saddr fd00:100::/64 masquerade' "$LAB_DIR/rules" ||
	td_fail "no IPv6 rule: $(cat "$LAB_DIR/rules")"
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
lab_ping_ok c1 "$LAB_LAN_IP" 5 || td_fail "IPv4 ping through NAT unanswered"
lab_ping_ok c1 "$LAB_LAN_IP6" 5 || td_fail "IPv6 ping through NAT unanswered"
td_pass "NAT: a lan host with no route back answers over IPv4 and IPv6"

# --- reload without NAT, then with it again ----------------------------------
nat_off
kill -HUP "$TD_PID"
td_log_wait 'network.nat: table inet tunneld removed' 10 || td_fail "reload did not remove the table"
[ "$(tables)" = 0 ] || td_fail "the table is still there after the reload without NAT"
got=$(replies 5 "$LAB_LAN_IP")
[ "${got:-0}" = 0 ] || td_fail "$got pings answered without NAT: the test proves nothing"
nat_on
kill -HUP "$TD_PID"
deadline=$(($(lab__now_ms) + 10000))
until [ "$(tables)" = 1 ]; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "the reload did not put the table back"
	sleep 0.1
done
lab_ping_ok c1 "$LAB_LAN_IP" 5 || td_fail "no answers after the reload with NAT"
td_pass "reload: without NAT the table goes (pings unanswered), with it the table is back"

# --- stop: clean ------------------------------------------------------------------
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
td_stop || td_fail "unclean stop"
[ "$(tables)" = 0 ] || td_fail "the table outlived the stop: $(lab_srv nft list tables)"
td_pass "stop: nft list tables has no tunneld table"

# --- kill -9, restart: the stale table is replaced, not doubled -------------------
td_start
[ "$(tables)" = 1 ] || td_fail "no table after the second start"
children=$(ps -o pid= --ppid "$TD_PID" | tr -d ' ')
kill -9 "$TD_PID"
deadline=$(($(lab__now_ms) + 5000))
for p in $children; do
	while lab_alive "$p"; do
		[ "$(lab__now_ms)" -lt $deadline ] || td_fail "process $p outlived the master"
		sleep 0.05
	done
done
TD_PID=""
[ "$(tables)" = 1 ] || td_fail "kill -9: the table is expected to stay behind"
lab_srv nft add rule inet tunneld postrouting counter comment '"stale"'
mv "$LAB_DIR/tunneld.log" "$LAB_DIR/tunneld.log.1"
td_start
[ "$(tables)" = 1 ] || td_fail "$(tables) tunneld tables after the restart"
lab_srv nft list table inet tunneld >"$LAB_DIR/rules"
! grep -q stale "$LAB_DIR/rules" || td_fail "the stale table was kept: $(cat "$LAB_DIR/rules")"
[ "$(grep -c masquerade "$LAB_DIR/rules")" = 2 ] || td_fail "rules doubled: $(cat "$LAB_DIR/rules")"
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect after the restart"
lab_ping_ok c1 "$LAB_LAN_IP" 5 || td_fail "no answers after the restart"
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
td_stop || td_fail "unclean stop"
[ "$(tables)" = 0 ] || td_fail "the table outlived the last stop"
td_pass "kill -9 + restart: the stale table replaced (one table, two rules); clean at the end"
