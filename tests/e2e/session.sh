#!/bin/bash
# Sessions belong to cookies, not to connections or machines:
#  - a second CONNECT with a live session's cookie takes the tunnel over,
#    with the same addresses (one live tunnel per session);
#  - a cookie whose session waited longer than session.reconnect-timeout
#    without a tunnel is refused with 401.
#
#   c1 (first holder, frozen) --+
#   c2 (takes over)          ---+-- tunneld (reconnect-timeout 10 s) --- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init sess
lab_make_cert
lab_add_client c1
lab_add_client c2
td_users alice:alice-pass
TD_RECONNECT_TIMEOUT=10 TD_WORKERS=2 td_config
td_start

cookie() { # log in without a tunnel; print the webvpn cookie
	lab_cli c1 timeout 20 openconnect --authenticate --non-inter --passwd-on-stdin -u alice \
		--servercert "$LAB_PIN" "$LAB_URL" <<<alice-pass 2>/dev/null |
		sed -n "s/^COOKIE='\{0,1\}\([^']*\)'\{0,1\}$/\1/p"
}
start_with_cookie() { # NAME COOKIE
	lab_bg "$1" "$LAB_DIR/$1.oc.log" bash -c "echo '$2' | exec env LAB_DIR='$LAB_DIR' \
		LAB_CLIENT='$1' openconnect --non-inter --cookie-on-stdin --servercert '$LAB_PIN' \
		--script '$LAB_SCRIPT' -i 'tun-$1' '$LAB_URL'" >"$LAB_DIR/$1.pid"
}

c=$(cookie)
[ -n "$c" ] || td_fail "no cookie from --authenticate"
start_with_cookie c1 "$c"
lab_wait_client c1 20 || td_fail "c1 did not connect with the cookie"
ip4=$(lab_client_state c1 ip4)
ip6=$(lab_client_state c1 ip6)
# Freeze c1's client: it must not fight back by reconnecting.
for p in $(ip netns pids "$(lab_ns c1)"); do kill -STOP "$p"; done

start_with_cookie c2 "$c"
lab_wait_client c2 20 || td_fail "c2 did not connect with the same cookie"
[ "$(lab_client_state c2 ip4)" = "$ip4" ] || td_fail "takeover changed the IPv4 address"
[ "$(lab_client_state c2 ip6)" = "$ip6" ] || td_fail "takeover changed the IPv6 address"
td_log_wait "session [0-9]+: replacing its tunnel on worker" 5 || td_fail "no takeover in the log"
lab_ping_ok c2 198.18.1.2 || td_fail "no traffic after the takeover"
lab_ping_ok lan "$ip4" || td_fail "lan cannot reach the new holder"
for p in $(ip netns pids "$(lab_ns c1)"); do kill -KILL "$p"; done
td_pass "second CONNECT with the cookie took over $ip4 / $ip6"

# A session that never gets a tunnel expires after reconnect-timeout.
old=$(cookie)
[ -n "$old" ] && [ "$old" != "$c" ] || td_fail "no fresh cookie"
sleep 12
td_log_wait 'session-end id=[0-9]+ user=[^ ]+ peer=[^ ]+ reason="reconnect timeout"' 5 || td_fail "the idle session did not expire"
lab_cli c1 bash -c "echo '$old' | timeout 20 openconnect --non-inter --cookie-on-stdin \
	--servercert '$LAB_PIN' --script /bin/true '$LAB_URL'" >"$LAB_DIR/expired.log" 2>&1 &&
	td_fail "expired cookie accepted"
td_log_wait "CONNECT from .* refused: unknown or expired cookie" 5 || td_fail "no log for the expired cookie"
td_pass "expired cookie refused with 401"
td_stop || td_fail "unclean stop"
