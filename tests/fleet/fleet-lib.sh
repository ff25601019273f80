# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/fleet/fleet-lib.sh - a fleet of tunneld nodes behind Debian's
# HAProxy, in the lab of tests/e2e/lib/lib.sh.  Source it from a bash test
# after "set -euo pipefail", then call fl_init.
#
#   clients c* 198.18.0.10+k        "srv" ns of lib.sh: the balancer
#   ---br0--- 198.18.0.1:4443 HAProxy (TCP, send-proxy-v2) ---br1 198.18.4.1/24
#                                          |                     |
#                              node n0 198.18.4.10      node n1 198.18.4.11
#                              tunneld: listen-proxy :4443, listen :443 (direct)
#                              lan0 198.18.3.10         lan0 198.18.3.11
#                                          |                     |
#                              lan ns: bridge brl 198.18.3.2/24, fd00:3::2/64
#
# Every node has the same pools (198.18.100.0/24, fd00:100::/64), fleet.nodes
# = 2, the same cookie key file and the same fleet.state-dir.  The lan routes
# each node's slice of the pools (fleet.nodes) to that node: 198.18.100.0/25
# and fd00:100::/121 to n0, the upper halves to n1; fl_route moves a slice,
# as the routing daemon of a real fleet does when the node holding the
# addresses changes.  Clients reach a node directly (its listen address)
# through the balancer's namespace, which routes.
#
#   fl_init NAME            lab_init, certificate, users alice, bob, carol
#                           (cheap SHA-512 hashes) and u1..u60, the key file
#                           (mode 600), the lan's bridge; haproxy needed.
#   fl_node K               node K's namespace, links, routes and config
#                           (FL_SESSION, FL_LIMITS, FL_AUTH: settings added to
#                           those groups; FL_PASSWD set, even empty, replaces
#                           the password-file setting; FL_EXTRA: lines added
#                           at the end).
#   fl_start K              start tunneld on node K; wait for "ready".
#   fl_kill9 K              kill -9 every process of node K's tunneld.
#   fl_stopped K [T]        wait (T s) for node K's tunneld to exit; status.
#   fl_ctl K ARGS...        tunnelctl on node K's control socket.
#   fl_log K                node K's log file.
#   fl_count K REGEX        matching lines in node K's log.
#   fl_wait_log K REGEX [T] wait until node K's log matches.
#   fl_haproxy BALANCE      start HAProxy (balance BALANCE: roundrobin, first)
#                           on 198.18.0.1:4443 in front of the nodes' PROXY
#                           ports; health checks every 0.5 s, down after 2
#                           failures, up after 2 passes; a refused connect is
#                           retried on another node (redispatch).
#   fl_hap_up K [T]         wait until HAProxy counts node K up (its log).
#   fl_route K SLICE_OF     route node SLICE_OF's slice in the lan to node K.
#   fl_node_ip K            198.18.4.(10+K).

FL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../e2e/lib/lib.sh
. "$FL_DIR/../e2e/lib/lib.sh"
# shellcheck source=../e2e/lib/td.sh
. "$FL_DIR/../e2e/lib/td.sh"

FL_CTL=${FL_CTL:-$TD_TOP/tunnelctl}
FL_LAN=198.18.3.2
FL_LAN6=fd00:3::2

fl_node_ip() { echo "198.18.4.$((10 + $1))"; }

fl_init() {
	local u users=()
	lab_init "$1"
	lab_need haproxy jq
	lab_make_cert
	[ -x "$FL_CTL" ] || { echo "fl_init: $FL_CTL not built" >&2; exit 1; }
	# Cheap hashes: a failover must not wait for yescrypt.
	rm -f "$LAB_DIR/passwd"
	for u in alice bob carol $(seq -f 'u%g' 1 60); do users+=("$u"); done
	for u in "${users[@]}"; do
		printf '%s-pass\n' "$u" | "$TD_PASSWD" -m sha512 -f "$LAB_DIR/passwd" "$u" >/dev/null
	done
	(umask 077 && printf '# fleet keys\n1 %s\n' \
		"$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >"$LAB_DIR/cookie-keys")
	mkdir -p "$LAB_DIR/fleet"
	# The balancer's namespace routes between clients and nodes.
	# Bridges with addresses of their own (see lab_init).
	ip -n "$LAB_NS_SRV" link add br1 address 02:74:64:00:00:02 type bridge
	ip -n "$LAB_NS_SRV" addr add 198.18.4.1/24 dev br1
	ip -n "$LAB_NS_SRV" link set br1 up
	# The lan reaches the nodes on a bridge of its own; the pools' routes
	# of lib.sh (through the balancer's namespace) go.
	ip -n "$LAB_NS_LAN" route del 198.18.100.0/24 2>/dev/null || true
	ip -n "$LAB_NS_LAN" -6 route del fd00:100::/64 2>/dev/null || true
	ip -n "$LAB_NS_LAN" link add brl address 02:74:64:00:00:03 type bridge
	ip -n "$LAB_NS_LAN" addr add "$FL_LAN/24" dev brl
	ip -n "$LAB_NS_LAN" -6 addr add "$FL_LAN6/64" dev brl nodad
	ip -n "$LAB_NS_LAN" link set brl up
}

fl_node() {
	local k=$1 ns="${LAB_P}n$1" ip
	ip=$(fl_node_ip "$k")
	lab__netns_add "$ns"
	ip -n "$LAB_NS_SRV" link add "vn$k" type veth peer name eth0 netns "$ns"
	ip -n "$LAB_NS_SRV" link set "vn$k" master br1 up
	ip -n "$ns" addr add "$ip/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add 198.18.0.0/24 via 198.18.4.1
	ip -n "$LAB_NS_LAN" link add "vl$k" type veth peer name lan0 netns "$ns"
	ip -n "$LAB_NS_LAN" link set "vl$k" master brl up
	ip -n "$ns" addr add "198.18.3.$((10 + k))/24" dev lan0
	ip -n "$ns" -6 addr add "fd00:3::$((10 + k))/64" dev lan0 nodad
	ip -n "$ns" link set lan0 up
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		>/dev/null
	fl_route "$k" "$k"
	mkdir -p "$LAB_DIR/n$k"
	cat >"$LAB_DIR/n$k/tunneld.conf" <<-CONF
		# written by tests/fleet/fleet-lib.sh: node $k
		listen = ["$ip:443"];
		listen-proxy = ["$ip:4443"];
		workers = 1;
		user = "nobody";
		group = "nogroup";
		tls = { certificate = "$LAB_CERT"; key = "$LAB_KEY"; };
		auth = { ${FL_PASSWD-password-file = \"$LAB_DIR/passwd\";} ${FL_AUTH:-} };
		network = {
		  tun = "vpns0";
		  mtu = 1400;
		  ipv4-pool = "198.18.100.0/24";
		  ipv6-pool = "fd00:100::/64";
		  routes = ["198.18.3.0/24", "fd00:3::/64"];
		};
		session = {
		  reconnect-timeout = 300; dpd = 30; keepalive = 20;
		  node-id = $k;
		  cookie-key-file = "$LAB_DIR/cookie-keys";
		  ${FL_SESSION:-}
		};
		fleet = { nodes = 2; state-dir = "$LAB_DIR/fleet"; };
		limits = { max-sessions-per-user = 0; ${FL_LIMITS:-} };
		log = { level = "${FL_LOG_LEVEL:-info}"; };
		control = { socket = "$LAB_DIR/n$k/control.sock"; };
		${FL_EXTRA:-}
	CONF
}

fl_log() { echo "$LAB_DIR/n$1/tunneld.log"; }

fl_count() { grep -cE "$2" "$(fl_log "$1")" 2>/dev/null || true; }

fl_wait_log() {
	local k=$1 re=$2 t=${3:-10} deadline
	deadline=$(($(lab__now_ms) + t * 1000))
	while [ "$(lab__now_ms)" -lt $deadline ]; do
		grep -qE "$re" "$(fl_log "$k")" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "fl_wait_log: node $k: no line matching '$re' after ${t}s" >&2
	return 1
}

fl__ready() { # LOG: the "ready" lines in it
	local n
	n=$(grep -c 'master: info: ready:' "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

fl_start() {
	local k=$1 log deadline before
	log=$(fl_log "$k")
	before=$(fl__ready "$log")
	lab_bg "${LAB_P}n$k" "$LAB_DIR/n$k/stderr.log" \
		sh -c 'exec "$0" -f -c "$1" 2>>"$2"' "$TD_BIN" "$LAB_DIR/n$k/tunneld.conf" "$log" \
		>/dev/null
	eval "FL_PID_$k=$LAB_BG_PID"
	disown "$LAB_BG_PID" # no "Killed" from bash when a test kills it
	deadline=$(($(lab__now_ms) + 15000))
	while [ "$(lab__now_ms)" -lt $deadline ]; do
		[ "$(fl__ready "$log")" -gt "$before" ] && return 0
		sleep 0.05
	done
	echo "fl_start: node $k not ready" >&2
	tail -n 30 "$log" >&2
	return 1
}

fl_kill9() {
	local k=$1 p
	for p in $(ip netns pids "${LAB_P}n$k"); do
		case $(cat "/proc/$p/comm" 2>/dev/null) in tunneld*) kill -KILL "$p" 2>/dev/null ;; esac
	done
}

fl_stopped() {
	local k=$1 t=${2:-15} pid deadline
	pid=$(eval "echo \${FL_PID_$k:-}")
	[ -n "$pid" ] || return 0
	deadline=$(($(lab__now_ms) + t * 1000))
	while lab_alive "$pid"; do
		[ "$(lab__now_ms)" -lt $deadline ] || return 1
		sleep 0.05
	done
}

fl_ctl() {
	local k=$1
	shift
	"$FL_CTL" -s "$LAB_DIR/n$k/control.sock" "$@"
}

fl_route() {
	local via=$1 of=$2
	ip -n "$LAB_NS_LAN" route replace "198.18.100.$((of * 128))/25" via "198.18.3.$((10 + via))"
	ip -n "$LAB_NS_LAN" -6 route replace "fd00:100::$(printf '%x' $((of * 128)))/121" \
		via "fd00:3::$((10 + via))"
}

fl_haproxy() {
	cat >"$LAB_DIR/haproxy.cfg" <<-CFG
		global
		    maxconn 4000
		    log stderr format raw local0 info
		defaults
		    mode tcp
		    log global
		    timeout connect 2s
		    timeout client 10m
		    timeout server 10m
		    timeout check 1s
		    retries 3
		    option redispatch 1
		frontend vpn
		    bind 198.18.0.1:4443
		    default_backend nodes
		backend nodes
		    balance $1
		    default-server check inter 500ms fall 2 rise 2 send-proxy-v2 check-send-proxy maxconn 1000
		    server n0 $(fl_node_ip 0):4443
		    server n1 $(fl_node_ip 1):4443
	CFG
	haproxy -c -f "$LAB_DIR/haproxy.cfg" >/dev/null || {
		haproxy -c -f "$LAB_DIR/haproxy.cfg" >&2
		return 1
	}
	lab_bg srv "$LAB_DIR/haproxy.log" haproxy -db -f "$LAB_DIR/haproxy.cfg" >/dev/null
	FL_HAPROXY_PID=$LAB_BG_PID
	lab_wait_listen srv 4443 10
}
