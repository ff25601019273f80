#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Revocation (finding #6).  Locking, deleting or changing the password of a
# user and reloading ends their sessions: a live tunnel gets a DISCONNECT
# the client does not retry, and a saved cookie gets 401 (a client whose
# line dropped cannot come back with it).  tunnelctl disconnect USER does
# the same at once, without a reload.  Other users are not touched.
#
#   c1 openconnect (alice, locked later) --------------+
#   c2 hostile: saved cookies of alice, carol, dave, bob --+-- tunneld
#   c3 openconnect (bob, disconnected later) ----------+
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init revk
lab_add_client c1
lab_add_client c2
lab_add_client c3
hl_users alice:alice-pass bob:bob-pass carol:carol-pass dave:dave-pass
TD_WORKERS=1 TD_LOG_LEVEL=info td_config
td_start
lab_start_client c1 alice alice-pass
lab_start_client c3 bob bob-pass
lab_wait_client c1 20 || td_fail "alice did not connect"
lab_wait_client c3 20 || td_fail "bob did not connect"
for u in alice carol dave bob; do
	hl c2 -u $u -p $u-pass login --expect ok --cookie-out "$LAB_DIR/$u.cookie" >/dev/null ||
		td_fail "$u could not log in"
done

users_listed() { hl_ctl --json list | jq -r '[.sessions[].user] | unique | join(",")'; }
wait_users() { # the users with sessions become exactly $1 (within 5 s)
	local deadline=$(($(lab__now_ms) + 5000))
	until [ "$(users_listed)" = "$1" ]; do
		[ "$(lab__now_ms)" -lt $deadline ] || td_fail "sessions of '$(users_listed)', want '$1'"
		sleep 0.1
	done
}
wait_users alice,bob,carol,dave

# 1. alice locked, carol's password changed, dave deleted: a reload.
"$TD_PASSWD" -f "$LAB_DIR/passwd" -l alice >/dev/null
printf 'carol-new\n' | "$TD_PASSWD" -m sha512 -f "$LAB_DIR/passwd" carol >/dev/null
"$TD_PASSWD" -f "$LAB_DIR/passwd" -d dave >/dev/null
kill -HUP "$TD_PID"
td_log_wait "reloaded " 5 || td_fail "no reload"
lab_client_exited c1 15 >/dev/null || td_fail "alice's openconnect still runs after the reload"
[ "$(lab_event_count c1 reconnect)" = 0 ] || td_fail "alice's client reconnected"
for u in alice carol dave; do
	hl c2 connect --cookie-file "$LAB_DIR/$u.cookie" --expect 401 >/dev/null ||
		td_fail "$u's saved cookie still works after the reload"
done
wait_users bob
td_log_wait "reloaded .* \(sessions of removed, locked or changed users ended\)" 1 ||
	td_fail "the reload's line does not say it ended sessions"
td_log_wait "session [0-9]+ of user 'alice' ends: the user was locked" 1 || td_fail "no log line for alice"
td_log_wait "session [0-9]+ of user 'carol' ends: the user's password changed" 1 ||
	td_fail "no log line for carol"
td_log_wait "session [0-9]+ of user 'dave' ends: the user was removed" 1 || td_fail "no log line for dave"
hl c2 -u alice -p alice-pass login --expect refused >/dev/null || td_fail "locked alice logged in"
hl c2 -u carol -p carol-new login --expect ok >/dev/null || td_fail "carol's new password was refused"
lab_ping_ok c3 198.18.1.2 3 || td_fail "bob lost his tunnel"
td_pass "lock, new password, delete + reload: alice's client told to go (no reconnect), the three saved cookies get 401, only bob and carol's new session are left"

# 2. tunnelctl disconnect bob: his tunnel and his saved session, at once.
out=$(hl_ctl disconnect bob) || td_fail "tunnelctl disconnect bob failed"
[ "$out" = "disconnected 2 session(s)" ] || td_fail "tunnelctl disconnect bob: '$out'"
hl c2 connect --cookie-file "$LAB_DIR/bob.cookie" --expect 401 >/dev/null ||
	td_fail "bob's saved cookie still works after tunnelctl disconnect"
lab_client_exited c3 15 >/dev/null || td_fail "bob's openconnect still runs after the disconnect"
[ "$(lab_event_count c3 reconnect)" = 0 ] || td_fail "bob's client reconnected"
wait_users carol
hl c2 -u bob -p bob-pass login --expect ok >/dev/null || td_fail "bob cannot log in again"
td_stop || td_fail "unclean stop"
td_pass "tunnelctl disconnect bob: his client told to go, his saved cookie 401 at once, he may log in again ($(hl_elapsed) s)"
