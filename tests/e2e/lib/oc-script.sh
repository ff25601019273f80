#!/bin/bash
# tests/e2e/lib/oc-script.sh - the --script that lab_start_client (lib.sh) gives to
# openconnect.  It runs as root inside the client's network namespace, once per
# event, with the tunnel parameters in its environment (see PROTOCOL.md §8),
# and it only uses iproute2.
#
# Needs LAB_DIR and LAB_CLIENT in the environment (lab_start_client passes them
# to openconnect, which hands its environment down to the script).
#
# Per call it appends "reason ip4 ip6" ("-" for empty) to
# $LAB_DIR/$LAB_CLIENT.events and atomically rewrites $LAB_DIR/$LAB_CLIENT.state
# (key=value: reason, status, tundev, ip4, ip6, mtu, gateway).  status=ok means
# every ip(8) command for connect/reconnect succeeded.  Failures go to
# $LAB_DIR/$LAB_CLIENT.script.log and make the script exit 1.
# With LAB_SCRIPT_ENVDUMP=1 the whole environment of each call is saved in
# $LAB_DIR/$LAB_CLIENT.env.<n>.<reason>.
#
# reasons: pre-init, attempt-reconnect: nothing to do.
#   connect: MTU, link up, IPv4 /32 (+ route to the assigned network), IPv6
#     address (nodad), one route per split include (v4 and v6).  A family
#     without split includes gets a default route into the tunnel, after a host
#     route to VPNGATEWAY through the underlay.
#   reconnect: openconnect keeps the tun device across a reconnect; everything
#     is applied again with replace semantics, so it is idempotent.
#   disconnect: only the state file.

LAB_DIR=${LAB_DIR:?LAB_DIR not set}
name=${LAB_CLIENT:?LAB_CLIENT not set}
reason=${reason:-unknown}
base="$LAB_DIR/$name"
failed=0

logmsg() { printf '%s %s: %s\n' "$(date +%T.%N)" "$reason" "$*" >>"$base.script.log"; }

# Run one ip(8) command, log it if it fails.
run() {
	local out
	if ! out=$("$@" 2>&1); then
		logmsg "FAILED: $* -> $out"
		failed=1
	fi
}

mask_to_len() { # dotted mask -> prefix length
	local IFS=. n=0 o
	for o in $1; do
		case $o in
		255) n=$((n + 8)) ;; 254) n=$((n + 7)) ;; 252) n=$((n + 6)) ;;
		248) n=$((n + 5)) ;; 240) n=$((n + 4)) ;; 224) n=$((n + 3)) ;;
		192) n=$((n + 2)) ;; 128) n=$((n + 1)) ;; *) ;;
		esac
	done
	echo "$n"
}

ip4_network() { # address len -> network address
	local a b c d v
	IFS=. read -r a b c d <<<"$1"
	v=$(((a << 24) | (b << 16) | (c << 8) | d))
	if [ "$2" -eq 0 ]; then v=0; else v=$((v & ~((1 << (32 - $2)) - 1) & 0xffffffff)); fi
	echo "$(((v >> 24) & 255)).$(((v >> 16) & 255)).$(((v >> 8) & 255)).$((v & 255))"
}

# Pin the VPN gateway to the route it uses now (unless that is the tun), so
# the TLS connection does not follow a default route into the tunnel.
pin_gateway() {
	local gw=$VPNGATEWAY fam=-4 len=32 route via dev
	[ -n "$gw" ] || return 0
	case $gw in *:*) fam=-6 len=128 ;; esac
	route=$(ip "$fam" route get "$gw" 2>/dev/null | head -1)
	via=$(sed -n 's/.* via \([^ ]*\).*/\1/p' <<<"$route")
	dev=$(sed -n 's/.* dev \([^ ]*\).*/\1/p' <<<"$route")
	if [ -z "$dev" ] || [ "$dev" = "$TUNDEV" ]; then
		# Already routed into the tunnel: keep an existing host route if any.
		ip "$fam" route show "$gw/$len" | grep -q . ||
			{ logmsg "no underlay route to $gw"; failed=1; }
		return 0
	fi
	if [ -n "$via" ]; then
		run ip "$fam" route replace "$gw/$len" via "$via" dev "$dev"
	else
		run ip "$fam" route replace "$gw/$len" dev "$dev"
	fi
}

configure() {
	local dev=$TUNDEV mtu=${INTERNAL_IP4_MTU:-} i n addr len
	[ -n "$dev" ] || { logmsg "no TUNDEV"; failed=1; return; }
	[ -n "$mtu" ] || mtu=1300
	run ip link set dev "$dev" mtu "$mtu" up

	if [ -n "${INTERNAL_IP4_ADDRESS:-}" ]; then
		run ip -4 addr replace "$INTERNAL_IP4_ADDRESS/32" dev "$dev"
		len=${INTERNAL_IP4_NETMASKLEN:-}
		[ -n "$len" ] || [ -z "${INTERNAL_IP4_NETMASK:-}" ] ||
			len=$(mask_to_len "$INTERNAL_IP4_NETMASK")
		if [ -n "$len" ] && [ "$len" -gt 0 ] && [ "$len" -lt 32 ]; then
			run ip -4 route replace "$(ip4_network "$INTERNAL_IP4_ADDRESS" "$len")/$len" dev "$dev"
		fi
	fi
	if [ -n "$ip6" ]; then
		run ip -6 addr replace "$ip6/$ip6len" dev "$dev" nodad
	fi

	local v4split=0 v6split=0
	n=${CISCO_SPLIT_INC:-0}
	for ((i = 0; i < n; i++)); do
		eval "addr=\${CISCO_SPLIT_INC_${i}_ADDR:-}; len=\${CISCO_SPLIT_INC_${i}_MASKLEN:-}"
		[ -n "$addr" ] || continue
		[ -n "$len" ] || eval "len=\$(mask_to_len \"\${CISCO_SPLIT_INC_${i}_MASK:-}\")"
		if [ "$len" = 0 ]; then continue; fi # "0.0.0.0/0" means everything
		run ip -4 route replace "$(ip4_network "$addr" "$len")/$len" dev "$dev"
		v4split=1
	done
	n=${CISCO_IPV6_SPLIT_INC:-0}
	for ((i = 0; i < n; i++)); do
		eval "addr=\${CISCO_IPV6_SPLIT_INC_${i}_ADDR:-}; len=\${CISCO_IPV6_SPLIT_INC_${i}_MASKLEN:-}"
		[ -n "$addr" ] || continue
		[ -n "$len" ] || len=128
		if [ "$len" = 0 ]; then continue; fi
		run ip -6 route replace "$addr/$len" dev "$dev"
		v6split=1
	done

	if [ -n "${INTERNAL_IP4_ADDRESS:-}" ] && [ $v4split = 0 ]; then
		case ${VPNGATEWAY:-} in *:*) ;; *) pin_gateway ;; esac
		run ip -4 route replace default dev "$dev"
	fi
	if [ -n "$ip6" ] && [ $v6split = 0 ]; then
		case ${VPNGATEWAY:-} in *:*) pin_gateway ;; esac
		run ip -6 route replace default dev "$dev"
	fi
}

# IPv6: INTERNAL_IP6_NETMASK is "addr/len"; INTERNAL_IP6_ADDRESS the address.
ip6=${INTERNAL_IP6_ADDRESS:-}
ip6len=128
case ${INTERNAL_IP6_NETMASK:-} in
*/*)
	ip6len=${INTERNAL_IP6_NETMASK##*/}
	[ -n "$ip6" ] || ip6=${INTERNAL_IP6_NETMASK%/*}
	;;
esac

if [ "${LAB_SCRIPT_ENVDUMP:-0}" = 1 ]; then
	seq=1
	[ -f "$base.events" ] && seq=$(($(wc -l <"$base.events") + 1))
	env | sort >"$base.env.$seq.$reason"
fi

case $reason in
connect | reconnect) configure ;;
pre-init | attempt-reconnect | disconnect) ;;
*) logmsg "unknown reason" ;;
esac

echo "$reason ${INTERNAL_IP4_ADDRESS:--} ${ip6:--}" >>"$base.events"
status=ok
[ $failed = 0 ] || status=error
{
	echo "reason=$reason"
	echo "status=$status"
	echo "tundev=${TUNDEV:-}"
	echo "ip4=${INTERNAL_IP4_ADDRESS:-}"
	echo "ip6=$ip6"
	echo "mtu=${INTERNAL_IP4_MTU:-}"
	echo "gateway=${VPNGATEWAY:-}"
} >"$base.state.tmp.$$"
mv -f "$base.state.tmp.$$" "$base.state"
exit $failed
