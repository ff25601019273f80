#!/bin/bash
# limits.max-sessions-per-user and limits.max-clients: reaching either
# gives that client a clear refusal and writes a log line; the clients
# already in keep working, a reconnect of a held session is not a new
# session, and the slot is free again once a session ends.
#
#   c1 hostile: bob holds 2 tunnels, then tries a 3rd login; carol fills
#               the server, then one more CONNECT gets 503  --+
#   c2 openconnect (bob, 3rd session: refused) ---------------+-- tunneld
#   c3 openconnect (alice, connected throughout) -------------+   max-sessions-per-user 2,
#                                                                 max-clients 4
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init limits
lab_add_client c1
lab_add_client c2
lab_add_client c3
hl_users alice:alice-pass bob:bob-pass carol:carol-pass
TD_WORKERS=1 hl_config limits.max-sessions-per-user=2 limits.max-clients=4
td_start
lab_start_client c3 alice alice-pass
lab_wait_client c3 20 || td_fail "alice did not connect"

wait_line() {
	local deadline=$(($(lab__now_ms) + 15000))
	until grep -q "$1" "$2"; do
		[ "$(lab__now_ms)" -lt $deadline ] || { cat "$2"; td_fail "no '$1' from the tool"; }
		sleep 0.1
	done
}

# 1. bob holds two sessions (tunnels); the first one's line drops and it
# reconnects with its cookie, which must not count as a third.
hl_bg c1 "$LAB_DIR/bob.log" -u bob -p bob-pass -t 12 hold 2 --reconnect \
	--expect connect=200,connect=200
bob_pid=$LAB_BG_PID
wait_line '^hold: holding' "$LAB_DIR/bob.log"
grep -q '^hold: reconnect of tunnel 1: connect=200' "$LAB_DIR/bob.log" ||
	{ cat "$LAB_DIR/bob.log"; td_fail "bob's reconnect was refused"; }
hl c1 -u bob -p bob-pass login --expect refused --text 'limits.max-sessions-per-user' ||
	td_fail "bob's third login was not refused with a message naming the limit"
td_log_wait "login for user 'bob' from 198\.18\.0\.10:[0-9]+ refused: .*limits\.max-sessions-per-user" 3 ||
	td_fail "no log line for bob's third login"
lab_start_client c2 bob bob-pass
rc=$(lab_client_exited c2 15) || td_fail "openconnect for bob's third session did not give up"
[ "$rc" != 0 ] || td_fail "openconnect for bob's third session exited 0"
grep -q 'max-sessions-per-user' "$LAB_DIR/c2.oc.log" ||
	td_fail "openconnect did not show the reason: $(tail -5 "$LAB_DIR/c2.oc.log")"
hl c1 -u carol -p carol-pass cycles 1 || td_fail "another user was refused"
td_pass "bob's third session refused (tool and openconnect told why), a reconnect is not a new one"

# 2. alice + bob's 2 = 3 clients; carol takes the 4th, and a 5th CONNECT
# is refused with 503 and a reason.
hl c1 -u carol -p carol-pass -t 1 hold 2 --expect connect=200,connect=503 ||
	td_fail "the CONNECT beyond limits.max-clients was not refused with 503"
grep -q 'CONNECT status=503 .* x_reason="[^"]' "$LAB_DIR/hostile.log" ||
	td_fail "the 503 carries no X-Reason"
td_log_wait 'CONNECT from 198\.18\.0\.10:[0-9]+ refused: .*limits\.max-clients' 3 ||
	td_fail "no log line for the CONNECT refused at limits.max-clients"
td_pass "the CONNECT beyond max-clients: 503 with a reason, logged"

# 3. Once bob's sessions end, the slots are free again.
wait "$bob_pid" || { cat "$LAB_DIR/bob.log"; td_fail "bob's tunnels were not held (see above)"; }
deadline=$(($(lab__now_ms) + 10000))
until [ "$(hl_ctl --json list | jq '[.sessions[] | select(.user == "bob")] | length')" = 0 ]; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "sessions left: $(hl_ctl --json list)"
	sleep 0.2
done
hl c1 -u bob -p bob-pass -t 0 hold 2 --expect connect=200,connect=200 ||
	td_fail "bob cannot log in twice after his sessions ended"
lab_ping_ok c3 198.18.1.2 3 || td_fail "alice lost her tunnel"
[ "$(lab_event_count c3 reconnect)" = 0 ] || td_fail "alice reconnected"
td_stop || td_fail "unclean stop"
td_pass "slots free again after logout; alice undisturbed ($(hl_elapsed) s)"
