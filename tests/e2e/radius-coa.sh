#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Disconnect-Request and CoA-Request (RFC 5176), sent with FreeRADIUS's
# radclient from the lan to tunneld's radius.coa-listen, each effect checked
# in FreeRADIUS's accounting records (tests/e2e/lib/radius.sh).
#
#   c1 alice, c2 bob, c3 carol    tunneld          lan: FreeRADIUS, radclient
#   c4 erin (a cookie only)     ==========  198.18.1.1:3799 <-- 198.18.1.2
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
. "$(dirname "$0")/lib/radius.sh"
lab_init radcoa
lab_make_cert
for c in c1 c2 c3 c4; do lab_add_client "$c"; done
rad_start 'alice Cleartext-Password := "alice-pass"
bob Cleartext-Password := "bob-pass"
carol Cleartext-Password := "carol-pass"
	Framed-IP-Address = 198.18.100.33
erin Cleartext-Password := "erin-pass"'
TD_AUTH='' TD_EXTRA=$(rad_td_extra) td_config
td_start || td_fail "tunneld did not start"
lab_start_client c1 alice alice-pass
lab_start_client c2 bob bob-pass
lab_start_client c3 carol carol-pass
for c in c1 c2 c3; do lab_wait_client "$c" 20 || td_fail "$c did not connect"; done
sa=$(rad_sid_of alice)
sb=$(rad_sid_of bob)
sc=$(rad_sid_of carol)
for s in "$sa" "$sb" "$sc"; do rad_wait_acct Start "$s" 1 10 || td_fail "no Start for $s"; done

# 1. The wrong secret: no answer at all, and nothing happens.
out=$(rad_client disconnect "Acct-Session-Id = \"$sa\"" not-the-secret) &&
	td_fail "a request with the wrong secret was answered: $out"
td_log_wait "coa-listen: a datagram from 198.18.1.2 dropped: wrong authenticator" 5 ||
	td_fail "no log line for the wrong secret"
lab_ping_ok c1 198.18.1.2 || td_fail "alice lost her tunnel to a forged Disconnect"
td_pass "wrong secret: dropped unanswered, alice still up"

# 2. A session nobody here holds: NAK, Session-Context-Not-Found.
out=$(rad_client disconnect 'Acct-Session-Id = "0123456789abcdef"') || true
grep -q "Received Disconnect-NAK" <<<"$out" && grep -q "Error-Cause = Session-Context-Not-Found" <<<"$out" ||
	td_fail "unknown session: $out"
td_pass "unknown Acct-Session-Id: Disconnect-NAK, Session-Context-Not-Found"

# 3. Disconnect by Acct-Session-Id: ACK, the client is gone for good, Stop
# with Admin-Reset.
out=$(rad_client disconnect "Acct-Session-Id = \"$sa\"") || td_fail "Disconnect: $out"
grep -q "Received Disconnect-ACK" <<<"$out" || td_fail "Disconnect of alice: $out"
rc=$(lab_client_exited c1 10) || td_fail "alice's client is still there"
rad_wait_acct Stop "$sa" 1 10 || td_fail "alice: no Stop"
[ "$(rad_acct_attr Stop "$sa" Acct-Terminate-Cause)" = Admin-Reset ] ||
	td_fail "alice: Acct-Terminate-Cause $(rad_acct_attr Stop "$sa" Acct-Terminate-Cause)"
td_pass "Disconnect by Acct-Session-Id: ACK, client exit $rc, Stop Admin-Reset"

# 4. A session without a tunnel (login only): Disconnect by User-Name, and
# its cookie is refused from then on.
cookie=$(lab_cli c4 bash -c "echo erin-pass | timeout 20 openconnect --authenticate --non-inter \
	--passwd-on-stdin -u erin --servercert '$LAB_PIN' '$LAB_URL'" 2>/dev/null |
	sed -n "s/^COOKIE='\(.*\)'$/\1/p")
[ -n "$cookie" ] || td_fail "erin got no cookie"
out=$(rad_client disconnect 'User-Name = "erin"') || td_fail "Disconnect erin: $out"
grep -q "Received Disconnect-ACK" <<<"$out" || td_fail "Disconnect of erin: $out"
lab_cli c4 bash -c "echo '$cookie' | timeout 20 openconnect --non-inter --cookie-on-stdin \
	--servercert '$LAB_PIN' --script /bin/true '$LAB_URL'" >"$LAB_DIR/c4.log" 2>&1 &&
	td_fail "erin's cookie still works"
td_log_wait "CONNECT from .* refused: unknown or expired cookie" 5 || td_fail "erin's cookie: no refusal logged"
td_pass "Disconnect by User-Name of a login without a tunnel: its cookie is refused"

# 5. CoA: Session-Timeout 3 s from now ends bob's session then.
t0=$(date +%s)
out=$(rad_client coa "User-Name = \"bob\"
Session-Timeout = 3") || td_fail "CoA: $out"
grep -q "Received CoA-ACK" <<<"$out" || td_fail "CoA of bob: $out"
rc=$(lab_client_exited c2 15) || td_fail "bob still connected after the CoA's Session-Timeout"
took=$(($(date +%s) - t0))
[ "$took" -ge 2 ] && [ "$took" -le 8 ] || td_fail "bob's session ended ${took}s after a CoA of 3 s"
rad_wait_acct Stop "$sb" 1 10 || td_fail "bob: no Stop"
[ "$(rad_acct_attr Stop "$sb" Acct-Terminate-Cause)" = Session-Timeout ] ||
	td_fail "bob: Acct-Terminate-Cause $(rad_acct_attr Stop "$sb" Acct-Terminate-Cause)"
td_pass "CoA Session-Timeout 3: bob's session ended after ${took}s, Stop Session-Timeout"

# 6. What tunneld cannot do is refused: an attribute it does not apply.
out=$(rad_client coa "User-Name = \"carol\"
Filter-Id = \"no-such-filter\"") || true
grep -q "Received CoA-NAK" <<<"$out" && grep -q "Error-Cause = Unsupported-Attribute" <<<"$out" ||
	td_fail "CoA with Filter-Id: $out"
td_pass "CoA with an attribute tunneld does not apply: CoA-NAK, Unsupported-Attribute"

# 7. With a Message-Authenticator (checked, and answered with one), and
# narrowed by Framed-IP-Address: the wrong address names nobody.
out=$(rad_client disconnect 'User-Name = "carol"
Framed-IP-Address = 198.18.100.34
Message-Authenticator = 0x00') || true
grep -q "Error-Cause = Session-Context-Not-Found" <<<"$out" || td_fail "carol at the wrong address: $out"
out=$(rad_client disconnect 'User-Name = "carol"
Framed-IP-Address = 198.18.100.33
Message-Authenticator = 0x00') || td_fail "Disconnect carol: $out"
grep -q "Received Disconnect-ACK" <<<"$out" || td_fail "Disconnect of carol: $out"
lab_client_exited c3 10 >/dev/null || td_fail "carol's client is still there"
rad_wait_acct Stop "$sc" 1 10 || td_fail "carol: no Stop"
td_pass "Message-Authenticator and Framed-IP-Address: the right session ends"

# 8. A reload cannot move logins away from RADIUS (its keys need a
# restart); the config is refused whole.
cp "$LAB_DIR/tunneld.conf" "$LAB_DIR/radius.conf"
(unset TD_AUTH TD_EXTRA && td_users alice:alice-pass && td_config)
kill -HUP "$TD_PID"
td_log_wait "reload failed, nothing changed: .*logins move away from RADIUS" 10 ||
	td_fail "a reload moved logins away from RADIUS"
cp "$LAB_DIR/radius.conf" "$LAB_DIR/tunneld.conf"
td_pass "a reload that would drop RADIUS is refused"

# 9. Drain (SIGQUIT): a tunnel that outlives session.drain-timeout gets
# its Stop when the server stops.
sed -i 's/^session = { /session = { drain-timeout = 2; /' "$LAB_DIR/tunneld.conf"
kill -HUP "$TD_PID"
td_log_wait "reload: session.drain-timeout changed" 10 || td_fail "drain-timeout not reloaded"
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "alice did not connect again"
sd=$(rad_sid_of alice)
[ "$sd" != "$sa" ] || td_fail "a new login reused the Acct-Session-Id $sa"
rad_wait_acct Start "$sd" 1 10 || td_fail "no Start for alice's new session"
kill -QUIT "$TD_PID"
deadline=$(($(lab__now_ms) + 20000))
while lab_alive "$TD_PID"; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "tunneld did not stop after the drain"
	sleep 0.1
done
grep -q 'master: info: stopped' "$TD_LOG" || td_fail "no clean stop after the drain"
! grep "seccomp: forbidden syscall" "$TD_LOG" || td_fail "a syscall outside the allow-list"
TD_PID=""
[ "$(rad_acct_count Stop "$sd")" = 1 ] || td_fail "drain: $(rad_acct_count Stop "$sd") Stops for alice"
[ "$(rad_acct_attr Stop "$sd" Acct-Terminate-Cause)" = Admin-Reboot ] ||
	td_fail "drain: Acct-Terminate-Cause $(rad_acct_attr Stop "$sd" Acct-Terminate-Cause)"
td_pass "drain: the remaining tunnel's Stop (Admin-Reboot) went out before the exit"

for s in "$sa" "$sb" "$sc"; do
	[ "$(rad_acct_count Start "$s")" = 1 ] && [ "$(rad_acct_count Stop "$s")" = 1 ] ||
		td_fail "session $s: $(rad_acct_count Start "$s") Starts, $(rad_acct_count Stop "$s") Stops"
done
td_pass "one Start and one Stop for each session"
