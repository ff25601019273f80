#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Sessions outlive a restart.  RESTART_CLIENTS (20) stock openconnect
# clients, each with a ping to the lan; tunneld is stopped with SIGTERM
# (what systemctl restart and an upgrade send) and started again with the
# same configuration, which has no session.cookie-key-file: the first
# start made the key in fleet.state-dir.  Every client must be back within
# the window with the same IPv4 and IPv6 addresses, without a password
# check (tunnelctl status counts them: 0 after the restart), each session
# re-created from its cookie; prints the longest ping gap.  A session that
# ended for good before the restart (a client's logout, tunnelctl
# disconnect) does not come back: its cookie is refused after the restart.
#
#   c1..c20, cx --br0-- [server: tunneld, 2 workers] -- lan 198.18.1.2
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
N=${RESTART_CLIENTS:-20}
WINDOW=${RESTART_WINDOW:-60} # s from the stop for every client to be back
lab_init restart
lab_need jq
lab_make_cert
CTL=${TD_CTL:-$TD_TOP/tunnelctl}
ctl() { "$CTL" -s "$LAB_DIR/control.sock" "$@"; }
users=(gone:gone-pass kicked:kicked-pass)
for i in $(seq "$N"); do
	lab_add_client "c$i"
	users+=("u$i:u$i-pass")
done
lab_add_client cx
td_users "${users[@]}"
TD_WORKERS=2 TD_RECONNECT_TIMEOUT=120 TD_LOG_LEVEL=info td_config
td_start || td_fail "tunneld did not start"
key=$LAB_DIR/fleet/cookie-key
[ "$(stat -c '%a %u' "$key" 2>/dev/null)" = "600 0" ] || td_fail "no key file $key of mode 0600 owned by root"
grep -q "cookies: the key kept in $key" "$TD_LOG" || td_fail "the start does not name the key it keeps"
keysum=$(sha256sum <"$key")

cookie() { # USER: log in (no tunnel), print the cookie
	lab_cli cx bash -c "echo $1-pass | timeout 20 openconnect --non-inter --passwd-on-stdin -u $1 \
		--servercert '$LAB_PIN' --authenticate '$LAB_URL'" 2>/dev/null |
		sed -n "s/^COOKIE='\?\([^']*\)'\?$/\1/p"
}
on_cookie() { # NAME COOKIE: a client on the cookie (no login), in the background
	rm -f "$LAB_DIR/$1".{state,events,pid,rc,oc.log}
	(
		lab_cli cx env LAB_DIR="$LAB_DIR" LAB_CLIENT="$1" openconnect --non-inter \
			--cookie-on-stdin --servercert "$LAB_PIN" --script "$LAB_SCRIPT" -i "tun-$1" \
			--reconnect-timeout 20 "$LAB_URL" <<<"$2" >"$LAB_DIR/$1.oc.log" 2>&1 &&
			rc=0 || rc=$?
		echo "$rc" >"$LAB_DIR/$1.rc"
	) &
	lab__track "$!"
}
up() { # NAME: the script said the tunnel is up
	local deadline=$(($(lab__now_ms) + 20000))
	until [ "$(lab_client_state "$1" status 2>/dev/null)" = ok ]; do
		[ "$(lab__now_ms)" -lt $deadline ] && [ ! -s "$LAB_DIR/$1.rc" ] || return 1
		sleep 0.1
	done
}
quit() { # NAME: its client exited
	local deadline=$(($(lab__now_ms) + 15000))
	until [ -s "$LAB_DIR/$1.rc" ]; do
		[ "$(lab__now_ms)" -lt $deadline ] || return 1
		sleep 0.1
	done
}
refused() { # NAME COOKIE: the cookie gets a 401, the client gives up
	lab_cli cx bash -c "echo '$2' | timeout 30 openconnect --non-inter --cookie-on-stdin \
		--servercert '$LAB_PIN' --script /bin/true '$LAB_URL'" >"$LAB_DIR/$1.log" 2>&1 &&
		td_fail "$1: the cookie was accepted after the restart"
	grep -qi "cookie .*\(rejected\|no longer valid\)\|401" "$LAB_DIR/$1.log" ||
		td_fail "$1: not refused with a 401: $(tail -n 3 "$LAB_DIR/$1.log")"
}

# Two sessions end for good before the restart: gone logs out (openconnect
# sends its goodbye on SIGINT), kicked is disconnected by the administrator.
cg=$(cookie gone)
ck=$(cookie kicked)
[ -n "$cg" ] && [ -n "$ck" ] || td_fail "no cookies"
on_cookie gone "$cg"
on_cookie kicked "$ck"
up gone || td_fail "gone's tunnel did not come up"
up kicked || td_fail "kicked's tunnel did not come up"
kill -INT "$(pgrep -f -- "-i tun-gone" | head -n 1)" || td_fail "no client for gone"
quit gone || td_fail "gone's client did not log out"
ctl disconnect kicked >/dev/null || td_fail "tunnelctl disconnect kicked"
quit kicked || td_fail "kicked's client was not told to quit"
td_log_wait "session-end id=[0-9]+ user=gone " 5 || td_fail "gone's session did not end"
td_log_wait "session-end id=[0-9]+ user=kicked " 5 || td_fail "kicked's session did not end"
td_pass "two sessions ended for good: a logout, tunnelctl disconnect"

t0=$(lab__now_ms)
for i in $(seq "$N"); do
	LAB_OC_RECONNECT_TIMEOUT=300 lab_start_client "c$i" "u$i" "u$i-pass"
done
for i in $(seq "$N"); do
	lab_wait_client "c$i" 90 || td_fail "c$i did not connect"
	echo "$(lab_client_state "c$i" ip4) $(lab_client_state "c$i" ip6)" >"$LAB_DIR/c$i.addr"
	lab_bg "c$i" "$LAB_DIR/c$i.ping" ping -D -n -i 0.2 "$LAB_LAN_IP" >/dev/null
done
for i in $(seq "$N"); do
	deadline=$(($(lab__now_ms) + 20000))
	until grep -q 'bytes from' "$LAB_DIR/c$i.ping"; do
		[ "$(lab__now_ms)" -lt $deadline ] || td_fail "c$i: no ping reply before the restart"
		sleep 0.1
	done
done
checks=$(ctl --json status | jq .password_checks)
[ "$checks" -ge $((N + 2)) ] || td_fail "tunnelctl status counts $checks password checks, not $((N + 2)) or more"
td_pass "$N clients up and pinging in $((($(lab__now_ms) - t0) / 1000)) s ($checks password checks)"

# The restart: SIGTERM, a clean exit, the same binary and configuration.
stop_ms=$(lab__now_ms)
td_stop || td_fail "unclean stop"
grep -q "stopping (SIGTERM): the tunnels end without a DISCONNECT" "$TD_LOG" || td_fail "the stop does not say the clients come back"
mv "$TD_LOG" "$LAB_DIR/tunneld.log.1"
td_start || td_fail "tunneld did not start again"
start_ms=$(lab__now_ms)
echo "restart: stopped and started in $(((start_ms - stop_ms) / 1000)).$(((start_ms - stop_ms) % 1000 / 100)) s"
[ "$(sha256sum <"$key")" = "$keysum" ] || td_fail "the key file changed"

back=0
deadline=$((stop_ms + WINDOW * 1000))
for i in $(seq "$N"); do
	left=$(((deadline - $(lab__now_ms)) / 1000))
	[ $left -gt 0 ] || left=1
	if lab_wait_event "c$i" reconnect 1 "$left" 2>/dev/null && lab_wait_client "c$i" "$left" 2>/dev/null &&
		[ "$(lab_client_state "c$i" ip4) $(lab_client_state "c$i" ip6)" = "$(cat "$LAB_DIR/c$i.addr")" ]; then
		back=$((back + 1))
	else
		echo "c$i: not back with its addresses $(cat "$LAB_DIR/c$i.addr"): $(tail -n 3 "$LAB_DIR/c$i.oc.log" | tr '\n' ' ')" >&2
	fi
done
back_s=$(((($(lab__now_ms) - stop_ms) + 999) / 1000))
told=$(grep -l "Server shutting down" "$LAB_DIR"/c*.oc.log | wc -l || true)

# The longest gap between two ping replies, per client (ping -D stamps),
# once each has replies again (3 s more for the stragglers).
sleep 3
: >"$LAB_DIR/gaps"
for i in $(seq "$N"); do
	sed -n 's/^\[\([0-9]*\)\.\([0-9][0-9][0-9]\).*bytes from.*/\1\2/p' "$LAB_DIR/c$i.ping" |
		awk -v s="$stop_ms" '$1 > s { a = 1 } { if (p && $1 - p > g) g = $1 - p; p = $1 }
			END { if (a) print g + 0 }' >>"$LAB_DIR/gaps"
done
pinging=$(wc -l <"$LAB_DIR/gaps")
gaps=$(sort -n "$LAB_DIR/gaps" | awk '{ v[NR] = $1 } END { if (NR) printf "median %d ms, max %d ms", v[int((NR + 1) / 2)], v[NR]; else printf "none" }')
checks=$(ctl --json status | jq .password_checks)
recreated=$(td_log_count "re-created for user 'u[0-9]+'")
logins=$(td_log_count "logged in")

echo "RESTART: $back of $N clients back within $back_s s of SIGTERM, same IPv4 and IPv6;" \
	"password checks after the restart: $checks, logins: $logins; sessions re-created from cookies: $recreated"
echo "RESTART: clients told to quit: $told; longest ping gap per client: $gaps ($pinging pinging again)"

[ "$told" = 0 ] || td_fail "$told clients got a DISCONNECT on SIGTERM"
[ "$back" = "$N" ] || td_fail "only $back of $N clients came back with their addresses within $WINDOW s"
[ "$checks" = 0 ] && [ "$logins" = 0 ] || td_fail "$checks password checks, $logins logins after the restart"
[ "$recreated" -ge "$N" ] || td_fail "$recreated sessions re-created for $N clients"
[ "$pinging" = "$N" ] || td_fail "only $pinging clients have ping replies after the restart"
held=$(ctl --json list | jq '[.sessions[] | select(.state == "connected")] | length')
[ "$held" = "$N" ] || td_fail "the server holds $held tunnels, not $N"
td_pass "restart: $back/$N back without a password check, same addresses, longest ping gap: $gaps"

# The sessions that ended for good stay ended.
refused gone "$cg"
refused kicked "$ck"
td_log_wait "CONNECT from .* refused: unknown or expired cookie: its session ended here" 5 ||
	td_fail "the refusal does not say why"
[ "$(td_log_count "re-created for user '(gone|kicked)'")" = 0 ] || td_fail "an ended session came back"
td_pass "a logged-out and a disconnected session do not come back after the restart"

for i in $(seq "$N"); do lab_client_signal "c$i" INT; done
td_stop || td_fail "unclean stop at the end"
