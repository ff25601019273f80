#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The login dialogue with the stock client and the password file: the
# legacy form login (--no-xmlpost), a wrong password then the right one
# typed at the prompts (one tunnel, the server's error printed), only
# wrong answers (auth.max-tries, then the connection ends, and the
# failures ban the address), the banners, and NetworkManager's two steps.
#
#   c1 (--no-xmlpost)           --+
#   c2 (types: wrong, right)    --+-- tunneld (max-tries 3, ban after 3) --- lan
#   c3 (types: wrong x3, banned) -+
#   c4 (--authenticate, then --cookie-on-stdin)
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
. "$(dirname "$0")/lib/dialog.sh"
lab_init dialog
lab_need expect
lab_make_cert
for c in c1 c2 c3 c4; do lab_add_client "$c"; done
td_users alice:alice-pass bob:bob-pass
export LAB_SCRIPT_ENVDUMP=1
TD_EXTRA='pre-login-banner = "Authorized users only.\nAll use is logged.";
banner = "Welcome to the lab network.";
auth = { password-file = "'"$LAB_DIR"'/passwd"; max-tries = 3; ban-failures = 3; failure-message = "Wrong password, try again."; };' td_config
# td_config's own auth line is replaced by the one above.
sed -i '0,/^auth = { password-file/{/^auth = { password-file = "[^;]*"; };$/d}' "$LAB_DIR/tunneld.conf"
td_start

# 1. The legacy form login: GET /, then a form-urlencoded POST.
lab_start_client c1 alice alice-pass --no-xmlpost --dump-http-traffic
lab_wait_client c1 20 || td_fail "--no-xmlpost: no tunnel"
grep -q '^> GET / HTTP/1.1' "$LAB_DIR/c1.oc.log" || td_fail "--no-xmlpost: the client sent no GET"
grep -q '^> username=alice&password=' "$LAB_DIR/c1.oc.log" ||
	td_fail "--no-xmlpost: no form-urlencoded answer"
lab_ping_ok c1 198.18.1.2 || td_fail "--no-xmlpost: no ping through the tunnel"
td_pass "legacy form login (--no-xmlpost): GET, urlencoded POST, tunnel, ping"

# 2. Banners: the pre-login one with the first form, the other in the
# script's environment.
grep -q 'Authorized users only.' "$LAB_DIR/c1.oc.log" || td_fail "no pre-login banner shown"
grep -q 'All use is logged.' "$LAB_DIR/c1.oc.log" || td_fail "the banner's second line is lost"
env=$(ls "$LAB_DIR"/c1.env.*.connect | head -1)
grep -qx 'CISCO_BANNER=Welcome to the lab network.' "$env" ||
	td_fail "CISCO_BANNER not in the script's environment: $(grep BANNER "$env" || true)"
td_pass "pre-login banner shown by the client, banner in CISCO_BANNER"

# 3. Typed at the prompts: a wrong password, then the right one.
dlg_expect c2 '
expect "Username:" { send "bob\r" }
expect "Password:" { send "nope\r" }
expect "Wrong password, try again."
expect "Username:" { send "bob\r" }
expect "Password:" { send "bob-pass\r" }
expect "Connected as"'
lab_wait_client c2 30 || td_fail "wrong then right: no tunnel"
[ "$(lab_event_count c2 connect)" = 1 ] || td_fail "wrong then right: more than one tunnel"
grep -q 'Wrong password, try again.' "$LAB_DIR/c2.oc.log" || td_fail "the client did not print the error"
lab_ping_ok c2 198.18.1.2 || td_fail "wrong then right: no ping"
td_log_wait "login failed for user 'bob' from 198\.18\.0\.11:[0-9]+: bad password" 5 ||
	td_fail "no log line for bob's wrong password"
[ "$(td_log_count "user 'bob' logged in from 198\.18\.0\.11")" = 1 ] || td_fail "bob: not one login"
td_pass "wrong then right password in one run: the error printed, one tunnel"

# 4. Only wrong answers: three tries on one connection, then it ends; the
# three failures ban the address.
dlg_expect c3 '
for {set i 0} {$i < 3} {incr i} {
	expect "Username:" { send "alice\r" }
	expect "Password:" { send "wrong-$i\r" }
}'
rc=$(lab_client_exited c3 30) || td_fail "after max-tries the client still runs"
[ "$rc" != 0 ] || td_fail "after max-tries the client exited 0"
[ "$(grep -c 'Wrong password, try again.' "$LAB_DIR/c3.oc.log")" -ge 3 ] ||
	td_fail "the client did not show the error after each try"
grep -q 'Password:' "$LAB_DIR/c3.oc.log" || td_fail "no password prompt"
[ "$(grep -c 'Password:' "$LAB_DIR/c3.oc.log")" = 3 ] ||
	td_fail "not three password prompts: $(grep -c 'Password:' "$LAB_DIR/c3.oc.log")"
[ "$(td_log_count "login failed for user 'alice' from 198\.18\.0\.12")" = 3 ] ||
	td_fail "not three failures logged"
td_log_wait "198\.18\.0\.12 banned for" 5 || td_fail "three failures did not ban the address"
[ "$(lab_event_count c3 connect)" = 0 ] || td_fail "a tunnel after wrong answers only"
td_pass "only wrong answers: 3 tries, the connection ended (exit $rc), the address banned"

# The banned address is refused even with the right password.
printf 'alice-pass\n' | ip netns exec "$(lab_ns c3)" timeout 30 openconnect --authenticate \
	--non-inter --passwd-on-stdin -u alice --servercert "$LAB_PIN" "$LAB_URL" \
	>"$LAB_DIR/c3.ban.log" 2>&1 && td_fail "a banned address logged in"
grep -q 'banned' "$LAB_DIR/c3.ban.log" || td_fail "the client did not show the ban: $(tail -3 "$LAB_DIR/c3.ban.log")"
td_pass "the banned address is refused with a message"

# 5. NetworkManager: --authenticate prints the cookie, a second run
# connects with it (--cookie-on-stdin), with no login.
dlg_nm_auth c4 alice alice-pass || td_fail "--authenticate failed: $(tail -3 "$LAB_DIR/c4.auth.log")"
[ -n "$DLG_COOKIE" ] && [ -n "$DLG_FINGERPRINT" ] || td_fail "--authenticate printed no cookie"
logins=$(td_log_count "user 'alice' logged in")
dlg_nm_connect c4
lab_wait_client c4 20 || td_fail "--cookie-on-stdin: no tunnel"
lab_ping_ok c4 198.18.1.2 || td_fail "--cookie-on-stdin: no ping"
[ "$(td_log_count "user 'alice' logged in")" = "$logins" ] || td_fail "the second step logged in again"
td_pass "NetworkManager's two steps: --authenticate, then --cookie-on-stdin"

td_stop || td_fail "unclean stop"
