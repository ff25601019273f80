#!/bin/bash
# Login brute force: after auth.ban-failures failed logins from one address
# within auth.ban-window, that address is refused for auth.ban-time, even
# with the right password, and told so ("banned").  tunnelctl shows the ban
# and lifts it; a ban also ends by itself.  Other addresses are not touched.
#
#   c1 hostile: wrong passwords, then the right one --+
#   c2 hostile: the right password (another address) -+-- tunneld
#   c3 openconnect (alice, connected throughout) -----+   ban-failures 5, window 60 s, time 6 s
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init ban
lab_add_client c1
lab_add_client c2
lab_add_client c3
hl_users alice:alice-pass bob:bob-pass
FAILS=5
BAN_TIME=6
hl_config auth.ban-failures=$FAILS auth.ban-window=60 auth.ban-time=$BAN_TIME
td_start
lab_start_client c3 alice alice-pass
lab_wait_client c3 20 || td_fail "openconnect did not connect"
A=198.18.0.10

brute() {
	local i
	for ((i = 1; i <= $1; i++)); do
		hl c1 -u bob -p "wrong-$i" login --expect refused >/dev/null ||
			td_fail "wrong password $i was not refused"
	done
}

# FAILS - 1 failures: not banned yet.
brute $((FAILS - 1))
[ "$(hl_ctl --json bans | jq '.bans | length')" = 0 ] || td_fail "banned before $FAILS failures"
brute 1
td_log_wait "$A banned for $BAN_TIME s after $FAILS failed logins" 3 || td_fail "no log line for the ban"
hl c1 -u bob -p bob-pass login --expect refused --text banned ||
	td_fail "a banned address logged in with the right password"
hl c2 -u bob -p bob-pass login --expect ok || td_fail "another address was refused"
td_pass "$FAILS failures: $A banned (the right password refused, told 'banned'), others not"

line=$(hl_ctl bans) || td_fail "tunnelctl bans failed"
echo "tunnelctl bans: $line"
[[ $line =~ ^$A\ failures=$FAILS\ expires_in=([0-9]+)s$ ]] || td_fail "tunnelctl bans: '$line'"
left=${BASH_REMATCH[1]}
[ "$left" -ge 1 ] && [ "$left" -le $BAN_TIME ] || td_fail "expires_in=$left, ban-time $BAN_TIME"
js=$(hl_ctl --json bans)
[ "$(jq -c '[.bans[] | {address, failures}]' <<<"$js")" = "[{\"address\":\"$A\",\"failures\":$FAILS}]" ] ||
	td_fail "tunnelctl --json bans: $js"
td_pass "tunnelctl bans: $line"

# The ban ends by itself after ban-time.
deadline=$(($(lab__now_ms) + (BAN_TIME + 3) * 1000))
until hl c1 -u bob -p bob-pass login --expect ok >/dev/null; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "still banned $((BAN_TIME + 3)) s later"
	sleep 0.5
done
[ "$(hl_ctl --json bans | jq '.bans | length')" = 0 ] || td_fail "the ban is still listed"
td_pass "the ban expired by itself"

# Banned again, then lifted by the administrator.
brute $FAILS
hl c1 -u bob -p bob-pass login --expect refused --text banned || td_fail "not banned again"
out=$(hl_ctl unban $A) || td_fail "tunnelctl unban failed: $out"
[ "$out" = "unbanned $A" ] || td_fail "tunnelctl unban said '$out'"
td_log_wait "ban on $A lifted \(tunnelctl\)" 3 || td_fail "no log line for the unban"
hl c1 -u bob -p bob-pass login --expect ok || td_fail "still refused after the unban"
rc=0
out=$(hl_ctl unban $A 2>&1) || rc=$?
[ $rc = 1 ] || td_fail "unban of an address without a ban: exit $rc, want 1"
[[ $out == *"no ban"* ]] || td_fail "unban of an address without a ban said '$out'"
td_pass "tunnelctl unban lifts it ('$(hl_ctl bans | wc -l)' bans left); a second unban: exit 1"

lab_ping_ok c3 198.18.1.2 3 || td_fail "alice lost her tunnel"
[ "$(lab_event_count c3 reconnect)" = 0 ] || td_fail "alice reconnected"
td_stop || td_fail "unclean stop"
td_pass "alice undisturbed, clean stop ($(hl_elapsed) s)"
