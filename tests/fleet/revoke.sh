#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Cookies across nodes: one node's cookie opens on the other (the session
# is re-created there); one revoked on n0 (tunnelctl disconnect) is refused
# on n1 once n1 has read n0's list in fleet.state-dir; one past
# session.cookie-lifetime (20 s) is refused everywhere.  The DTLS App-ID of
# a node starts with its node id; keys rotate without a cookie lost that
# should not be.  Clients go to the nodes directly.
#
#   c1 --> n0 198.18.4.10:443 (logins)
#      --> n1 198.18.4.11:443 (the cookies of n0; bob's tunnel)
#   c2 --> n0 (alice's tunnel, then disconnected)
set -euo pipefail
. "$(dirname "$0")/fleet-lib.sh"
LIFETIME=20
fl_init revoke
FL_SESSION="cookie-lifetime = $LIFETIME;" fl_node 0
FL_SESSION="cookie-lifetime = $LIFETIME;" fl_node 1
fl_start 0 || td_fail "node 0 did not start"
fl_start 1 || td_fail "node 1 did not start"
lab_add_client c1
lab_add_client c2
for c in c1 c2; do lab_cli "$c" ip route add 198.18.4.0/24 via 198.18.0.1; done
N0="https://$(fl_node_ip 0)/"
N1="https://$(fl_node_ip 1)/"

cookie() { # USER URL: log in, print the cookie
	lab_cli c1 bash -c "echo $1-pass | timeout 20 openconnect --non-inter --passwd-on-stdin -u $1 \
		--servercert '$LAB_PIN' --authenticate '$2'" 2>/dev/null | sed -n "s/^COOKIE='\?\([^']*\)'\?$/\1/p"
}
with_cookie() { # NAME COOKIE URL NS: a client on the cookie (no login), in the background
	rm -f "$LAB_DIR/$1".{state,events,pid,rc,oc.log}
	(
		lab_cli "$4" env LAB_DIR="$LAB_DIR" LAB_CLIENT="$1" openconnect --non-inter \
			--cookie-on-stdin --servercert "$LAB_PIN" --script "$LAB_SCRIPT" -i "tun-$1" \
			--reconnect-timeout 20 -vv --dump-http-traffic "$3" <<<"$2" >"$LAB_DIR/$1.oc.log" 2>&1 &&
			rc=0 || rc=$?
		echo "$rc" >"$LAB_DIR/$1.rc"
	) &
}
up() { # NAME: its script said the tunnel is up (it runs in c1's namespace)
	local deadline=$(($(lab__now_ms) + 20000))
	until [ "$(lab_client_state "$1" status 2>/dev/null)" = ok ] &&
		[ "$(lab_client_state "$1" reason)" = connect ]; do
		[ "$(lab__now_ms)" -lt $deadline ] && [ ! -s "$LAB_DIR/$1.rc" ] || {
			tail -n 5 "$LAB_DIR/$1.oc.log" >&2
			return 1
		}
		sleep 0.1
	done
}
refused() { # NAME COOKIE URL: the cookie gets 401, the client gives up
	lab_cli c1 bash -c "echo '$2' | timeout 30 openconnect --non-inter --cookie-on-stdin \
		--servercert '$LAB_PIN' --script /bin/true '$3'" >"$LAB_DIR/$1.log" 2>&1 &&
		td_fail "$1: the cookie was accepted"
	grep -qi "cookie .*\(rejected\|no longer valid\)\|401" "$LAB_DIR/$1.log" ||
		td_fail "$1: not refused with a 401: $(tail -n 3 "$LAB_DIR/$1.log")"
}

ca=$(cookie alice "$N0")
cb=$(cookie bob "$N0")
cc=$(cookie carol "$N0")
t_login=$(lab__now_ms)
webvpn() { sed -n 's/.*webvpn=\([^;]*\).*/\1/p' <<<"$1"; }
for c in "$ca" "$cb" "$cc"; do
	[ "$(webvpn "$c" | tr -d '\n' | wc -c)" = 540 ] || td_fail "not a sealed cookie: '$c'"
done

# A cookie of n0 opens on n1: bob's session is re-created there, no login.
with_cookie bob "$cb" "$N1" c1
up bob || td_fail "bob's cookie of node 0 was refused on node 1"
# The lan's route to bob's address (of node 0's slice) follows him to node 1.
ip -n "$LAB_NS_LAN" route add "$(lab_client_state bob ip4)/32" via 198.18.3.11
ip -n "$LAB_NS_LAN" -6 route add "$(lab_client_state bob ip6)/128" via fd00:3::11
lab_ping_ok c1 "$FL_LAN" || td_fail "no traffic on bob's re-created session"
fl_wait_log 1 "session [0-9]+: re-created for user 'bob' .*a cookie of node 0" 5 || td_fail "no re-creation in n1's log"
[ "$(fl_count 1 "logged in")" = 0 ] || td_fail "node 1 saw a login"
grep -q "X-DTLS-App-ID: 01" "$LAB_DIR/bob.oc.log" || td_fail "node 1's App-ID does not start with its id"
td_pass "a cookie of node 0 opens on node 1 (session re-created, no login); node 1's App-ID starts with 01"

# Revoked on n0: alice's tunnel is on n0, tunnelctl disconnect ends it; n1
# refuses her cookie once it has read node-0.revoked.
with_cookie alice "$ca" "$N0" c2
up alice || td_fail "alice's tunnel on node 0"
grep -q "X-DTLS-App-ID: 00" "$LAB_DIR/alice.oc.log" || td_fail "node 0's App-ID does not start with its id"
fl_ctl 0 disconnect alice >/dev/null || td_fail "tunnelctl disconnect alice"
deadline=$(($(lab__now_ms) + 10000))
until [ -s "$LAB_DIR/alice.rc" ]; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "alice's client did not quit"
	sleep 0.1
done
deadline=$(($(lab__now_ms) + 5000))
until grep -q '^[0-9a-f]\{16\} [0-9]*$' "$LAB_DIR/fleet/node-0.revoked" 2>/dev/null; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "node 0 wrote no node-0.revoked"
	sleep 0.1
done
sleep 1.5 # node 1 reads the others' files once a second
refused alice-n1 "$ca" "$N1"
fl_wait_log 1 "CONNECT from .* refused: unknown or expired cookie: its session was ended on node 0" 5 ||
	td_fail "node 1 does not say why"
refused alice-n0 "$ca" "$N0"
td_pass "a cookie revoked on node 0 (tunnelctl disconnect) is refused on node 1 and on node 0"

# Expired: carol's cookie, $LIFETIME s after the login, on either node.
left=$((t_login + LIFETIME * 1000 + 1000 - $(lab__now_ms)))
[ $left -le 0 ] || sleep "$((left / 1000)).$((left % 1000 / 100))"
refused carol-n1 "$cc" "$N1"
fl_wait_log 1 "refused: unknown or expired cookie: the cookie expired" 5 || td_fail "node 1 does not say it expired"
refused carol-n0 "$cc" "$N0"
td_pass "a cookie past session.cookie-lifetime ($LIFETIME s) is refused on node 1 and on node 0"

lab_ping_ok c1 "$FL_LAN" || td_fail "bob's tunnel, still in its cookie's life, lost traffic"

# Key rotation, on both nodes: key 2 first (it opens), then last (it seals),
# then key 1 gone (its cookies are refused).  A cookie's first two bytes
# are its version (1) and key id.
reload_both() {
	local k n
	for k in 0 1; do
		n=$(fl_count "$k" "master: info: reloaded")
		kill -HUP "$(eval "echo \$FL_PID_$k")"
		deadline=$(($(lab__now_ms) + 10000))
		until [ "$(fl_count "$k" "master: info: reloaded")" -gt "$n" ]; do
			[ "$(lab__now_ms)" -lt $deadline ] || td_fail "node $k did not reload"
			sleep 0.1
		done
	done
}
key_id() { # COOKIE: the key id in its second byte
	webvpn "$1" | cut -c1-4 | tr '_-' '/+' | base64 -d | od -An -tu1 | awk '{ print $1 "." $2 }'
}
k1=$(grep '^1 ' "$LAB_DIR/cookie-keys")
k2="2 $(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
printf '%s\n%s\n' "$k2" "$k1" >"$LAB_DIR/cookie-keys"
reload_both
d1=$(cookie u1 "$N0")
[ "$(key_id "$d1")" = 1.1 ] || td_fail "key 1 no longer seals: version.key $(key_id "$d1")"
printf '%s\n%s\n' "$k1" "$k2" >"$LAB_DIR/cookie-keys"
reload_both
d2=$(cookie u2 "$N0")
[ "$(key_id "$d2")" = 1.2 ] || td_fail "key 2 does not seal: version.key $(key_id "$d2")"
printf '%s\n' "$k2" >"$LAB_DIR/cookie-keys"
reload_both
refused u1-n1 "$d1" "$N1"
with_cookie u2 "$d2" "$N1" c2
up u2 || td_fail "a cookie of key 2 was refused after the rotation"
td_pass "key rotation: key 2 added (opens), made the sealing key, key 1 removed (its cookie refused)"

# tunneld -t refuses a key file others can read.
chmod 644 "$LAB_DIR/cookie-keys"
"$TD_BIN" -t -c "$LAB_DIR/n0/tunneld.conf" >"$LAB_DIR/t.out" 2>&1 && td_fail "tunneld -t took a 0644 key file"
grep -q "cookie-keys: mode 0644 lets other users at the keys" "$LAB_DIR/t.out" ||
	td_fail "tunneld -t: $(cat "$LAB_DIR/t.out")"
chmod 600 "$LAB_DIR/cookie-keys"
td_pass "tunneld -t refuses a key file of mode 0644"
for k in 0 1; do
	TD_LOG=$(fl_log "$k")
	TD_PID=$(eval "echo \$FL_PID_$k")
	td_stop || td_fail "node $k: unclean stop"
done
