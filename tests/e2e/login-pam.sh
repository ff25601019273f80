#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# PAM (auth.pam-service) with a multi-prompt conversation: a test service
# of pam_pwdfile (the password, from the first form) and pam_oath (a TOTP
# code, its own form step), run in the auth processes.  The stock client
# answers both forms: XML, the legacy form login, and NetworkManager's two
# steps; a wrong password and a wrong code are refused.  The service file
# is in /etc/pam.d for this test only, under a unique name.
#
#   c1 alice (XML), c2 bob (--no-xmlpost), c3 carol (two steps),
#   c4 wrong password, c5 wrong code  --+-- tunneld (PAM) --- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
. "$(dirname "$0")/lib/dialog.sh"
lab_init pam
lab_need oathtool
for m in pam_pwdfile.so pam_oath.so; do
	[ -e "/lib/x86_64-linux-gnu/security/$m" ] || [ -e "/usr/lib/x86_64-linux-gnu/security/$m" ] ||
		{ echo "SKIP: $m not installed (tools/deps/auth.list)"; exit 77; }
done
lab_make_cert
for c in c1 c2 c3 c4 c5; do lab_add_client "$c"; done

# The PAM users: passwords in a pam_pwdfile file (crypt hashes, written
# here with our own tool), TOTP secrets in pam_oath's users file.
SERVICE="tunneld-test-$LAB_P"
PAMFILE="/etc/pam.d/$SERVICE"
lab_on_cleanup "rm -f '$PAMFILE'"
for u in alice bob carol dave; do
	printf '%s-pass\n' "$u" | "$TD_PASSWD" -f "$LAB_DIR/pam.pw" "$u" >/dev/null
	hex=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
	echo "$hex" >"$LAB_DIR/$u.hex"
	echo "HOTP/T30 $u - $hex" >>"$LAB_DIR/users.oath"
done
chmod 600 "$LAB_DIR/users.oath"
cat >"$PAMFILE" <<PAM
# tunneld tests/e2e/login-pam.sh (removed when the test ends)
auth     requisite pam_pwdfile.so pwdfile=$LAB_DIR/pam.pw
auth     required  pam_oath.so usersfile=$LAB_DIR/users.oath window=1 digits=6
account  required  pam_permit.so
password required  pam_deny.so
session  required  pam_permit.so
PAM
code() { oathtool --totp "$(cat "$LAB_DIR/$1.hex")"; }

# The password file is not asked with PAM (one user, whom PAM does not
# know, shows it).
td_users nobody-here:unused-pass
TD_EXTRA="auth = { password-file = \"$LAB_DIR/passwd\"; pam-service = \"$SERVICE\"; ban-failures = 0; };" td_config
sed -i '0,/^auth = { password-file/{/^auth = { password-file = "[^;]*"; };$/d}' "$LAB_DIR/tunneld.conf"
td_start
td_log_wait "hashing processes for password checks, PAM service $SERVICE" 5 ||
	td_fail "the auth processes do not run PAM"

# Two form steps: user and password (pam_pwdfile), then the code
# (pam_oath's prompt, its own form), then the tunnel.
lab_start_client c1 alice alice-pass --form-entry "challenge:answer=$(code alice)" --dump-http-traffic
lab_wait_client c1 30 || td_fail "alice (PAM, XML): no tunnel"
lab_ping_ok c1 198.18.1.2 || td_fail "alice: no ping"
grep -q 'label="One-time password (OATH) for' "$LAB_DIR/c1.oc.log" ||
	td_fail "pam_oath's prompt was not the second form's label"
[ "$(grep -c '^< <form method="post"' "$LAB_DIR/c1.oc.log")" = 2 ] ||
	td_fail "not two form steps: $(grep -c '^< <form method' "$LAB_DIR/c1.oc.log")"
td_log_wait "session [0-9]+: user 'alice' logged in from 198\.18\.0\.10:[0-9]+ \(worker 0, PAM\)" 5 ||
	td_fail "no PAM login line"
td_pass "PAM: password then pam_oath's code, two form steps, tunnel, ping"

lab_start_client c2 bob bob-pass --no-xmlpost --form-entry "challenge:answer=$(code bob)"
lab_wait_client c2 30 || td_fail "bob (PAM, --no-xmlpost): no tunnel"
lab_ping_ok c2 198.18.1.2 || td_fail "bob: no ping"
td_pass "PAM with --no-xmlpost: two form steps, tunnel, ping"

dlg_nm_auth c3 carol carol-pass --form-entry "challenge:answer=$(code carol)" ||
	td_fail "carol --authenticate failed: $(tail -3 "$LAB_DIR/c3.auth.log")"
dlg_nm_connect c3
lab_wait_client c3 20 || td_fail "carol --cookie-on-stdin: no tunnel"
td_pass "PAM with NetworkManager's two steps"

lab_start_client c4 dave wrong-pass --form-entry "challenge:answer=$(code dave)"
rc=$(lab_client_exited c4 30) || td_fail "dave (wrong password) still runs"
[ "$rc" != 0 ] || td_fail "a wrong PAM password logged in"
td_log_wait "login failed for user 'dave' from 198\.18\.0\.13:[0-9]+: bad password, PAM: " 5 ||
	td_fail "no log line for the wrong PAM password"
grep -q 'One-time password' "$LAB_DIR/c4.oc.log" && td_fail "a wrong password was asked for the code"
good=$(code dave)
lab_start_client c5 dave dave-pass --form-entry "challenge:answer=$(printf '%06d' $(((10#$good + 500000) % 1000000)))"
rc=$(lab_client_exited c5 30) || td_fail "dave (wrong code) still runs"
[ "$rc" != 0 ] || td_fail "a wrong pam_oath code logged in"
[ "$(lab_event_count c5 connect)" = 0 ] || td_fail "a tunnel with a wrong code"
td_pass "PAM: wrong password and wrong code refused"

# An account whose password expired (a test module, tests/e2e/lib/
# pam_expire.c, built here): after the old password the new one is asked
# twice, each in a form; the next login takes the new one, not the old.
cc -shared -fPIC -o "$LAB_DIR/pam_tdexpire.so" "$(dirname "$0")/lib/pam_expire.c" -lpam ||
	td_fail "cannot build the test PAM module"
mkdir -m 700 "$LAB_DIR/expire"
echo old-pass >"$LAB_DIR/expire/eve"
touch "$LAB_DIR/expire/eve.expired"
cat >"$PAMFILE" <<PAM
# tunneld tests/e2e/login-pam.sh (removed when the test ends)
auth     required $LAB_DIR/pam_tdexpire.so dir=$LAB_DIR/expire
account  required $LAB_DIR/pam_tdexpire.so dir=$LAB_DIR/expire
password required $LAB_DIR/pam_tdexpire.so dir=$LAB_DIR/expire
PAM
kill -HUP "$TD_PID"
td_log_wait "reloaded .*tunneld\.conf" 10 || td_fail "no reload"
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "alice's client did not exit"
lab_start_client c1 eve old-pass --form-entry "challenge:answer=new-pass" --dump-http-traffic
lab_wait_client c1 30 || td_fail "eve (expired password): no tunnel"
grep -q 'Your password has expired: choose a new one.' "$LAB_DIR/c1.oc.log" ||
	td_fail "the client was not told the password expired"
grep -q 'label="New password:' "$LAB_DIR/c1.oc.log" || td_fail "no form for the new password"
grep -q 'label="Retype new password:' "$LAB_DIR/c1.oc.log" || td_fail "no form to retype it"
[ "$(cat "$LAB_DIR/expire/eve")" = new-pass ] || td_fail "the new password was not stored"
[ ! -e "$LAB_DIR/expire/eve.expired" ] || td_fail "the account is still expired"
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "eve's client did not exit"
lab_start_client c4 eve old-pass
rc=$(lab_client_exited c4 30) || td_fail "eve with the old password still runs"
[ "$rc" != 0 ] || td_fail "the old password still works"
lab_start_client c1 eve new-pass
lab_wait_client c1 30 || td_fail "eve with the new password: no tunnel"
td_pass "PAM password change on expiry: new password asked twice in forms, then the tunnel"

td_stop || td_fail "unclean stop"
