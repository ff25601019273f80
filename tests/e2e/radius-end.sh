#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The ways a RADIUS session ends, each with exactly one Stop carrying its
# Acct-Terminate-Cause, checked in FreeRADIUS's detail
# (tests/e2e/lib/radius.sh):
#
#   c1 alice  logs out (openconnect's SIGINT: BYE)        User-Request
#   c2 bob    Idle-Timeout 15: busy 25 s, then quiet     Idle-Timeout
#   c3 carol  tunnelctl disconnect                       Admin-Reset
#   c4 dave   killed (-9), no reconnect within 10 s      Lost-Carrier
#   c5 erin   CoA with a Class: new groups, echoed in    Admin-Reboot
#             her Stop when tunneld stops (SIGTERM)
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
. "$(dirname "$0")/lib/radius.sh"
lab_init radend
lab_make_cert
for c in c1 c2 c3 c4 c5; do lab_add_client "$c"; done
rad_start 'alice Cleartext-Password := "alice-pass"
bob Cleartext-Password := "bob-pass"
	Idle-Timeout = 15
carol Cleartext-Password := "carol-pass"
dave Cleartext-Password := "dave-pass"
erin Cleartext-Password := "erin-pass"
	Class = "OU=staff"'
TD_RECONNECT_TIMEOUT=10 TD_AUTH='' TD_EXTRA=$(rad_td_extra) td_config
td_start || td_fail "tunneld did not start"
CTL=${TD_CTL:-$TD_TOP/tunnelctl}
[ -x "$CTL" ] || td_fail "$CTL not built"
now() { date +%s; }
stop_cause() {
	rad_wait_acct Stop "$1" 1 "${2:-10}" || td_fail "no Stop for $1"
	rad_acct_attr Stop "$1" Acct-Terminate-Cause
}

users=(alice bob carol dave erin)
for i in 0 1 2 3 4; do lab_start_client "c$((i + 1))" "${users[i]}" "${users[i]}-pass"; done
# bob's traffic, from his tunnel's start: a ping every 0.5 s for 25 s,
# longer than his Idle-Timeout.
lab_wait_client c2 30 || td_fail "c2 did not connect"
ping_pid=$(lab_bg c2 "$LAB_DIR/bob-ping.log" ping -n -q -c 50 -i 0.5 -W 2 198.18.1.2)
for c in c1 c3 c4 c5; do lab_wait_client "$c" 30 || td_fail "$c did not connect"; done
for u in "${users[@]}"; do
	sid=$(rad_sid_of "$u")
	[[ $sid =~ ^[0-9a-f]{16}$ ]] || td_fail "$u: Acct-Session-Id '$sid'"
	rad_wait_acct Start "$sid" 1 10 || td_fail "$u: no Start"
	declare "sid_$u=$sid"
done

# 1. A logout: the client says goodbye.
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "alice's client did not exit"
cause=$(stop_cause "$sid_alice")
[ "$cause" = User-Request ] || td_fail "alice: Acct-Terminate-Cause '$cause'"
td_pass "logout: Stop User-Request"

# 2. tunnelctl disconnect: the operator ends carol's session.
out=$("$CTL" -s "$LAB_DIR/control.sock" disconnect carol) || td_fail "tunnelctl disconnect: $out"
[ "$out" = "disconnected 1 session(s)" ] || td_fail "tunnelctl disconnect carol: $out"
lab_client_exited c3 10 >/dev/null || td_fail "carol's client is still there"
cause=$(stop_cause "$sid_carol")
[ "$cause" = Admin-Reset ] || td_fail "carol: Acct-Terminate-Cause '$cause'"
td_pass "tunnelctl disconnect: Stop Admin-Reset"

# 3. A client that vanishes (kill -9) and does not come back within
# session.reconnect-timeout (10 s): Lost-Carrier, once the wait is over.
t0=$(now)
lab_client_signal c4 KILL
cause=$(stop_cause "$sid_dave" 30)
took=$(($(now) - t0))
[ "$cause" = Lost-Carrier ] || td_fail "dave: Acct-Terminate-Cause '$cause'"
[ "$took" -ge 9 ] || td_fail "dave's Stop ${took}s after he vanished, before the reconnect-timeout"
td_pass "killed client: Stop Lost-Carrier after ${took}s (reconnect-timeout 10 s)"

# 4. CoA with a Class: erin's groups change, and her records echo the
# new Class ("OU=ops;dev").
out=$(rad_client coa "Acct-Session-Id = \"$sid_erin\"
Class = \"OU=ops;dev\"") || td_fail "CoA: $out"
grep -q "Received CoA-ACK" <<<"$out" || td_fail "CoA of erin: $out"
td_log_wait "session [0-9]+ \($sid_erin\) of 'erin': CoA applied: .* groups 'ops,dev'" 5 ||
	td_fail "the CoA's Class did not become erin's groups"
td_pass "CoA Class: erin's groups 'staff' -> 'ops,dev'"

# 5. bob: busy past his Idle-Timeout, so still up; then quiet, so his
# session ends 15 s after his last packet (+ up to 10 s until the worker's
# traffic report that carried it).
while lab_alive "$ping_pid"; do sleep 0.2; done
t_quiet=$(now)
got=$(sed -n 's/.* transmitted, \([0-9]*\) received.*/\1/p' "$LAB_DIR/bob-ping.log")
[ "${got:-0}" -ge 40 ] || td_fail "bob's ping: $(tail -n 2 "$LAB_DIR/bob-ping.log")"
[ ! -s "$LAB_DIR/c2.rc" ] || td_fail "bob's busy session ended"
[ "$(rad_acct_count Stop "$sid_bob")" = 0 ] || td_fail "bob's busy session got a Stop"
lab_client_exited c2 40 >/dev/null || td_fail "bob's quiet session did not end"
took=$(($(now) - t_quiet))
[ "$took" -ge 14 ] && [ "$took" -le 32 ] ||
	td_fail "bob's session ended ${took}s after his last packet (Idle-Timeout 15)"
cause=$(stop_cause "$sid_bob")
[ "$cause" = Idle-Timeout ] || td_fail "bob: Acct-Terminate-Cause '$cause'"
td_log_wait "session [0-9]+ of user 'bob' ends: Idle-Timeout \(RADIUS\)" 5 || td_fail "bob: no log line"
td_pass "Idle-Timeout 15: busy 25 s and kept, ended ${took}s after going quiet, Stop Idle-Timeout"

# 6. SIGTERM: erin's Stop (Admin-Reboot) echoes the Class of the CoA.
td_stop || td_fail "unclean stop"
cause=$(stop_cause "$sid_erin")
[ "$cause" = Admin-Reboot ] || td_fail "erin: Acct-Terminate-Cause '$cause'"
[ "$(rad_acct_attr Start "$sid_erin" Class)" = 0x4f553d7374616666 ] ||
	td_fail "erin's Start: Class $(rad_acct_attr Start "$sid_erin" Class)"
[ "$(rad_acct_attr Stop "$sid_erin" Class)" = 0x4f553d6f70733b646576 ] ||
	td_fail "erin's Stop: Class $(rad_acct_attr Stop "$sid_erin" Class)"
td_pass "SIGTERM: erin's Stop Admin-Reboot with the CoA's Class"

for u in "${users[@]}"; do
	s=sid_$u
	[ "$(rad_acct_count Start "${!s}")" = 1 ] && [ "$(rad_acct_count Stop "${!s}")" = 1 ] ||
		td_fail "$u: $(rad_acct_count Start "${!s}") Starts, $(rad_acct_count Stop "${!s}") Stops"
done
td_pass "one Start and one Stop for each session"
