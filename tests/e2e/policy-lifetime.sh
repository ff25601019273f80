#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Session lifetimes: session.idle-timeout (no data from the client) and
# session.max-lifetime (from the login) end sessions on time, a reconnect
# extends neither, the end is logged with the session's counters, and the
# cookie of an expired session is refused.
#
#   c1 alice: one ping, a reconnect 8 s later, then quiet: ends 15 s after the ping
#   c2 bob:   pings every second, a reconnect 10 s in: ends 30 s after the login
#   c3 carol: logs in only (--authenticate): her waiting session idles out,
#             then her cookie gets 401
# idle-timeout 15, max-lifetime 30; IPv4 only (no ICMPv6 of the clients' own).
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
export LAB_SCRIPT_ENVDUMP=1
lab_init plif
lab_make_cert
lab_add_client c1
lab_add_client c2
lab_add_client c3
td_users alice:alice-pass bob:bob-pass carol:carol-pass
td_config
sed -i 's/^session = { /session = { idle-timeout = 15; max-lifetime = 30; /' "$LAB_DIR/tunneld.conf"
grep -q 'idle-timeout = 15' "$LAB_DIR/tunneld.conf" || td_fail "config not written"
td_start
now() { date +%s; }

# carol: a session without a tunnel, and its cookie.
out=$(lab_cli c3 timeout 20 openconnect --authenticate --non-inter --passwd-on-stdin -u carol \
	--servercert "$LAB_PIN" "$LAB_URL" <<<carol-pass 2>"$LAB_DIR/c3.auth.log") ||
	td_fail "carol could not log in: $(tail -n 3 "$LAB_DIR/c3.auth.log")"
cookie=$(sed -n "s/^COOKIE='\(.*\)'$/\1/p" <<<"$out")
[ -n "$cookie" ] || td_fail "no cookie for carol: $out"
t_carol=$(now)

t_bob0=$(now)
lab_start_client c2 bob bob-pass --disable-ipv6
lab_start_client c1 alice alice-pass --disable-ipv6
lab_wait_client c2 30 || td_fail "bob did not connect"
t_bob1=$(now)
lab_wait_client c1 30 || td_fail "alice did not connect"
[ "$(sed -n 's/^IDLE_TIMEOUT=//p' "$(ls -t "$LAB_DIR"/c1.env.*.connect | head -n 1)")" = 15 ] ||
	td_fail "alice is not told IDLE_TIMEOUT=15"
lab_bg c2 "$LAB_DIR/bob-ping.log" ping -n -i 1 -w 60 198.18.1.2 >/dev/null

lab_ping_ok c1 198.18.1.2 1 || td_fail "alice's ping"
t_ping=$(now)
sleep 8
lab_client_signal c1 USR2 # drop the connection, reconnect at once with the cookie
lab_wait_event c1 reconnect 1 20 || td_fail "alice did not reconnect"
t_rec=$(now)
sleep $((10 - ($(now) - t_bob1) > 0 ? 10 - ($(now) - t_bob1) : 0))
lab_client_signal c2 USR2
lab_wait_event c2 reconnect 1 20 || td_fail "bob did not reconnect"
td_pass "alice reconnected $((t_rec - t_ping)) s after her last data, bob $(($(now) - t_bob1)) s after his login"

# alice: the idle end comes 15 s after her ping, not 15 s after the reconnect.
rc=$(lab_client_exited c1 40) || td_fail "alice's session did not end"
t_end=$(now)
grep -q 'Idle timeout (session.idle-timeout)' "$LAB_DIR/c1.oc.log" ||
	td_fail "alice was not told of the idle timeout: $(tail -n 3 "$LAB_DIR/c1.oc.log")"
[ $((t_end - t_ping)) -ge 14 ] && [ $((t_end - t_ping)) -le 20 ] ||
	td_fail "alice's session ended $((t_end - t_ping)) s after her last data, want 15 (reconnect at $((t_rec - t_ping)) s)"
td_log_wait "session-end id=[0-9]+ user=alice .*reason=\"Idle timeout \(session.idle-timeout\)\" .* rx_pkts=[0-9]+ " 5 ||
	td_fail "no end line with counters for alice"
td_pass "idle: alice ended $((t_end - t_ping)) s after her last data (client exit $rc), logged with counters"

# bob: the lifetime counts from the login, across the reconnect.
lab_client_exited c2 40 >/dev/null || td_fail "bob's session did not end"
t_end=$(now)
grep -q 'Session expired (session.max-lifetime)' "$LAB_DIR/c2.oc.log" ||
	td_fail "bob was not told his session expired: $(tail -n 3 "$LAB_DIR/c2.oc.log")"
[ $((t_end - t_bob0)) -ge 29 ] && [ $((t_end - t_bob1)) -le 35 ] ||
	td_fail "bob's session ended $((t_end - t_bob0)) s after he started, want 30 from the login"
td_log_wait "session-end id=[0-9]+ user=bob .*reason=\"Session expired \(session.max-lifetime\)\" .* rx_pkts=[0-9]+ " 5 ||
	td_fail "no end line with counters for bob"
td_pass "max-lifetime: bob ended $((t_end - t_bob0)) s after he started, busy and reconnected"

# carol: the waiting session idled out; the cookie is refused.
td_log_wait "session-end id=[0-9]+ user=carol .*reason=\"idle timeout \(session.idle-timeout\)\"" \
	$((15 + 10 - ($(now) - t_carol) > 1 ? 15 + 10 - ($(now) - t_carol) : 1)) ||
	td_fail "carol's waiting session did not end"
rc=0
lab_cli c3 timeout 20 openconnect --cookie-on-stdin --non-inter --servercert "$LAB_PIN" \
	-i tun-c3 --script true "$LAB_URL" <<<"$cookie" >"$LAB_DIR/c3.oc.log" 2>&1 || rc=$?
[ $rc != 0 ] && [ $rc != 124 ] || td_fail "carol's expired cookie: openconnect exit $rc"
grep -qi 'cookie' "$LAB_DIR/c3.oc.log" || td_fail "carol: no cookie refusal: $(tail -n 3 "$LAB_DIR/c3.oc.log")"
td_log_wait "CONNECT from .* refused: unknown or expired cookie" 5 || td_fail "the server did not refuse the cookie"
td_pass "carol's waiting session ended by idle-timeout; her cookie is refused"
td_stop || td_fail "unclean stop"
