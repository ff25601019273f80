#!/bin/bash
# CONNECT without a valid cookie gets 401 and no tunnel: no cookie, a
# malformed one, a forged one, a real one with one character changed, the
# cookie of a session that logged out, and the cookie of a session whose
# session.reconnect-timeout (10 s) has passed.  The real cookie works, so
# the refusals are not the tool's fault.  A connected client is undisturbed.
#
#   c1 hostile --+-- tunneld (session.reconnect-timeout = 10)
#   c2 openconnect (alice) --+
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init cookie
lab_add_client c1
lab_add_client c2
hl_users alice:alice-pass
TD_RECONNECT_TIMEOUT=10 td_config
td_start
lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "openconnect did not connect"

hl c1 connect --no-cookie --expect 401 || td_fail "CONNECT without a cookie"
td_log_wait 'CONNECT from 198\.18\.0\.10:[0-9]+ refused: no cookie' 3 || td_fail "no log line (no cookie)"
hl c1 connect --cookie 'not-a-cookie' --expect 401 || td_fail "CONNECT with a malformed cookie"
td_log_wait 'CONNECT from 198\.18\.0\.10:[0-9]+ refused: malformed cookie' 3 ||
	td_fail "no log line (malformed cookie)"
hl c1 connect --forged --expect 401 || td_fail "CONNECT with a forged cookie"
hl c1 login --expect ok --cookie-out "$LAB_DIR/cookie" || td_fail "login"
hl c1 connect --tampered "$LAB_DIR/cookie" --expect 401 || td_fail "CONNECT with a tampered cookie"
[ "$(td_log_count 'CONNECT from 198\.18\.0\.10:[0-9]+ refused: unknown or expired cookie')" -ge 2 ] ||
	td_fail "no log lines for the forged and the tampered cookie"
hl c1 connect --cookie-file "$LAB_DIR/cookie" --expect 200 || td_fail "the real cookie was refused"
td_pass "no, malformed, forged, tampered cookie: 401, no tunnel; the real one: 200"

hl c1 expired bye || td_fail "the cookie of a session that logged out"
td_pass "after logging out, the cookie gets 401"

t0=$(lab__now_ms)
hl c1 -w 20000 expired wait 13 || td_fail "the cookie after session.reconnect-timeout"
td_log_wait 'session-end id=[0-9]+ user=[^ ]+ peer=[^ ]+ reason="reconnect timeout"' 3 || td_fail "no log line for the expired session"
td_pass "within the timeout a reconnect works, after it the cookie gets 401 ($((($(lab__now_ms) - t0) / 1000)) s)"

# Only alice's own session is left: nothing above made a tunnel or kept
# a session.
ls=$(hl_ctl --json list)
[ "$(jq '.sessions | length' <<<"$ls")" = 1 ] || td_fail "sessions left: $ls"
case $(jq -r '.sessions[0].peer' <<<"$ls") in 198.18.0.11:*) ;; *) td_fail "the session left is not alice's: $ls" ;; esac
lab_ping_ok c2 198.18.1.2 3 || td_fail "alice lost her tunnel"
[ "$(lab_event_count c2 reconnect)" = 0 ] || td_fail "alice reconnected"
td_stop || td_fail "unclean stop"
td_pass "alice undisturbed, clean stop ($(hl_elapsed) s)"
