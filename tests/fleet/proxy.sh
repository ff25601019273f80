#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The PROXY protocol on a listen-proxy address (one node, n0 of
# fleet-lib.sh): Debian's HAProxy in front with send-proxy-v2 and with
# send-proxy (v1), a header that arrives slowly but in time, one that
# stalls, none at all, malformed ones.  The real client's address is what
# the node sees: in tunnelctl, in the log, in its bans.
#
#   c1 198.18.0.10, c2 198.18.0.11
#     --> HAProxy 198.18.0.1:5001 (send-proxy-v2) --+
#     --> HAProxy 198.18.0.1:5000 (send-proxy)    --+--> n0 198.18.4.10:4443 (listen-proxy)
#     --> slow-proxy.py in c1 (1 byte / 50 ms) -----+
#     --> directly, no header or a bad one ---------+
set -euo pipefail
. "$(dirname "$0")/fleet-lib.sh"
fl_init proxy
lab_need python3
lab_add_client c1
lab_add_client c2
FL_LIMITS="handshake-timeout = 4;" FL_AUTH="ban-failures = 2;" fl_node 0
fl_start 0 || td_fail "node 0 did not start"
TD_LOG=$(fl_log 0)
N0=$(fl_node_ip 0)
for c in c1 c2; do lab_cli "$c" ip route add 198.18.4.0/24 via 198.18.0.1; done

cat >"$LAB_DIR/haproxy.cfg" <<CFG
defaults
    mode tcp
    timeout connect 2s
    timeout client 10m
    timeout server 10m
frontend v1
    bind 198.18.0.1:5000
    default_backend v1
frontend v2
    bind 198.18.0.1:5001
    default_backend v2
backend v1
    server n0 $N0:4443 send-proxy
backend v2
    server n0 $N0:4443 send-proxy-v2
CFG
lab_bg srv "$LAB_DIR/haproxy.log" haproxy -db -f "$LAB_DIR/haproxy.cfg" >/dev/null
lab_wait_listen srv 5001 10 || td_fail "HAProxy did not start: $(cat "$LAB_DIR/haproxy.log")"

peer_of() { # USER: the peer tunnelctl shows for the user's session
	fl_ctl 0 --json list | jq -r --arg u "$1" '[.sessions[] | select(.user == $u)][0].peer'
}

# v2 and v1 through HAProxy: the tunnel works, and the node names the client.
LAB_URL="https://198.18.0.1:5001/" lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "no tunnel through send-proxy-v2"
lab_ping_ok c1 "$FL_LAN" || td_fail "no IPv4 traffic through send-proxy-v2"
lab_ping_ok c1 "$FL_LAN6" || td_fail "no IPv6 traffic through send-proxy-v2"
case $(peer_of alice) in 198.18.0.10:*) ;; *) td_fail "alice's peer is $(peer_of alice), not 198.18.0.10" ;; esac
td_log_wait "user 'alice' logged in from 198\.18\.0\.10:" 5 || td_fail "the log names another peer"
td_pass "PROXY v2 (HAProxy send-proxy-v2): tunnel up, peer $(peer_of alice)"

LAB_URL="https://198.18.0.1:5000/" lab_start_client c2 bob bob-pass
lab_wait_client c2 20 || td_fail "no tunnel through send-proxy (v1)"
lab_ping_ok c2 "$FL_LAN" || td_fail "no traffic through send-proxy (v1)"
case $(peer_of bob) in 198.18.0.11:*) ;; *) td_fail "bob's peer is $(peer_of bob), not 198.18.0.11" ;; esac
td_pass "PROXY v1 (HAProxy send-proxy): tunnel up, peer $(peer_of bob)"
grep -q "X-DTLS" "$LAB_DIR/c1.oc.log" && td_fail "DTLS offered through a TCP proxy"

# No header: a TLS client straight to the listen-proxy port is closed.
lab_cli c1 timeout 20 openconnect --non-inter --passwd-on-stdin -u carol --servercert "$LAB_PIN" \
	--script /bin/true "https://$N0:4443/" <<<carol-pass >"$LAB_DIR/direct.log" 2>&1 &&
	td_fail "a connection without a PROXY header was served"
td_log_wait "connection from 198\.18\.0\.10:[0-9]+ on a listen-proxy address closed: no PROXY header" 5 ||
	td_fail "no log line for the missing header"
td_pass "no PROXY header: closed, logged"

# Malformed headers: closed at once, each with its reason.
bad() { # BYTES (printf format) REGEX
	local before
	before=$(td_log_count "on a listen-proxy address closed")
	sleep 1.1 # the log line is rate-limited to one a second
	lab_cli c1 timeout 10 bash -c "exec 3<>/dev/tcp/$N0/4443; printf '$1' >&3; cat <&3 >/dev/null" 2>/dev/null ||
		true
	td_log_wait "on a listen-proxy address closed: $2" 5 || td_fail "no log line for '$1'"
	[ "$(td_log_count "on a listen-proxy address closed")" -gt "$before" ] || td_fail "not closed: '$1'"
}
bad 'PROXY TCP4 198.18.0.99 198.18.4.10 4x000 4443\r\n' 'PROXY v1: a port is not a number'
bad 'PROXY TCP6 198.18.0.99 198.18.4.10 40000 4443\r\n' 'PROXY v1: an address is not one of'
bad 'PROXY TCP4 198.18.0.99 198.18.4.10 40000 4443\n' 'PROXY v1: a control or non-ASCII byte'
bad '\r\n\r\n\0\r\nQUIT\n\x31\x11\0\x0c' 'PROXY v2: version is not 2'
bad '\r\n\r\n\0\r\nQUIT\n\x21\x12\0\x0c012345678901' 'PROXY v2: a datagram header'
bad 'GET / HTTP/1.0\r\n\r\n' 'no PROXY header'
td_pass "malformed PROXY headers (v1 and v2) and a plain request: closed, each logged"

# A header that stalls: closed at limits.handshake-timeout (4 s).
t0=$(lab__now_ms)
sleep 1.1
lab_cli c1 timeout 20 bash -c "exec 3<>/dev/tcp/$N0/4443; printf 'PROXY TCP4 198.18' >&3; cat <&3 >/dev/null" 2>/dev/null ||
	true
took=$(($(lab__now_ms) - t0))
td_log_wait "no PROXY header within limits.handshake-timeout" 5 || td_fail "no log line for the stalled header"
[ "$took" -ge 3500 ] && [ "$took" -lt 12000 ] || td_fail "the stalled header was closed after $took ms"
td_pass "a stalled header: closed after $took ms (limits.handshake-timeout = 4 s)"

# A slow header (one byte every 50 ms, 2.4 s in all) that ends in time:
# the TLS bytes after it are the handshake's, the login works, and the
# client is the one the header names.
lab_bg c1 "$LAB_DIR/slow.log" python3 "$FL_DIR/slow-proxy.py" 127.0.0.1:6000 "$N0:4443" \
	'PROXY TCP4 198.18.0.99 198.18.4.10 40000 4443\r\n' 0.05 >/dev/null
lab_wait_listen c1 6000 10 || td_fail "slow-proxy.py did not start: $(cat "$LAB_DIR/slow.log")"
lab_cli c1 bash -c "echo carol-pass | timeout 30 openconnect --non-inter --passwd-on-stdin -u carol \
	--servercert '$LAB_PIN' --authenticate https://127.0.0.1:6000/" >"$LAB_DIR/slow-auth.log" 2>&1 ||
	td_fail "login through the slow header failed: $(tail -n 5 "$LAB_DIR/slow-auth.log")"
grep -q '^COOKIE=' "$LAB_DIR/slow-auth.log" || td_fail "no cookie through the slow header"
td_log_wait "user 'carol' logged in from 198\.18\.0\.99:40000" 5 || td_fail "the slow header's client is not the peer"
td_pass "a slow PROXY header (2.4 s, one byte at a time): login works, peer 198.18.0.99:40000"

# Bans go to the real client: bob fails twice from c2 (ban-failures = 2)
# through the same HAProxy that carries c1; c2 is banned, c1 is not.
for i in 1 2; do
	lab_cli c2 bash -c "echo wrong | timeout 20 openconnect --non-inter --passwd-on-stdin -u bob \
		--servercert '$LAB_PIN' --authenticate https://198.18.0.1:5001/" >/dev/null 2>&1 &&
		td_fail "a wrong password was accepted"
done
td_log_wait "198\.18\.0\.11 banned for" 5 || td_fail "the real client was not banned"
bans=$(fl_ctl 0 --json bans)
[ "$(jq -r '[.bans[].address] | join(",")' <<<"$bans")" = 198.18.0.11 ] || td_fail "bans: $bans"
lab_cli c1 bash -c "echo carol-pass | timeout 20 openconnect --non-inter --passwd-on-stdin -u carol \
	--servercert '$LAB_PIN' --authenticate https://198.18.0.1:5001/" >/dev/null 2>&1 ||
	td_fail "c1 was refused after c2's failures through the same balancer"
td_pass "bans by the real address: 198.18.0.11 banned, 198.18.0.10 through the same HAProxy logs in"

lab_ping_ok c1 "$FL_LAN" || td_fail "alice lost her tunnel"
TD_PID=$FL_PID_0
td_stop || td_fail "unclean stop"
td_pass "clean stop"
