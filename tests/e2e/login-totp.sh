#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TOTP (RFC 6238) for password-file users: tunneld-passwd --totp gives a
# user a secret (and prints the otpauth URI); the login then asks for a
# code in a second form.  Codes are made with oathtool from the secret:
# the right code gets a tunnel, a wrong one does not, and a code used
# once is refused a second time, whichever worker sees it.  The second
# form also works in the legacy form login and in NetworkManager's two
# steps.
#
#   c1 carol (XML), c2 replays carol's code, c3 dave (--no-xmlpost),
#   c4 erin (--authenticate, --cookie-on-stdin), c5 frank (wrong code)
#        --+-- tunneld (2 workers) --- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
. "$(dirname "$0")/lib/dialog.sh"
lab_init totp
lab_need oathtool
lab_make_cert
for c in c1 c2 c3 c4 c5; do lab_add_client "$c"; done
td_users alice:alice-pass carol:carol-pass dave:dave-pass erin:erin-pass frank:frank-pass
for u in carol dave erin frank; do
	"$TD_PASSWD" -f "$LAB_DIR/passwd" --totp "$u" >"$LAB_DIR/$u.uri"
	grep -q "^otpauth://totp/tunneld:$u?secret=[A-Z2-7]*&issuer=tunneld" "$LAB_DIR/$u.uri" ||
		td_fail "--totp $u printed no otpauth URI: $(head -1 "$LAB_DIR/$u.uri")"
done
[ "$(stat -c %a "$LAB_DIR/passwd.totp")" = 600 ] || td_fail "the secrets file is not mode 600"
secret() { sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$LAB_DIR/$1.uri"; }
code() { oathtool --totp -b "$(secret "$1")"; }
td_pass "tunneld-passwd --totp: 4 users, otpauth URIs, the secrets file 0600"

TD_WORKERS=2 td_config
td_start
td_log_wait "passwd\.totp: TOTP codes for 4 users" 5 || td_fail "the secrets were not loaded"

# A user without a secret is not asked for a code.
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "alice (no TOTP): no tunnel"
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "alice's client did not exit"

# The right code: the second form (auth id "challenge"), then the tunnel.
c=$(code carol)
lab_start_client c1 carol carol-pass --form-entry "challenge:secondary_password=$c"
lab_wait_client c1 30 || td_fail "carol with the right code: no tunnel"
lab_ping_ok c1 198.18.1.2 || td_fail "carol: no ping"
grep -q 'Enter the code of your authenticator app' "$LAB_DIR/c1.oc.log" ||
	td_fail "the second form's message was not shown"
td_pass "right code in: the second form, then the tunnel"

# The same code again, from another client: refused, and logged so.
lab_start_client c2 carol carol-pass --form-entry "challenge:secondary_password=$c"
rc=$(lab_client_exited c2 30) || td_fail "the replayed code's client still runs"
[ "$rc" != 0 ] || td_fail "a replayed code logged in"
td_log_wait "login failed for user 'carol' from 198\.18\.0\.11:[0-9]+: bad password, one-time code used before" 5 ||
	td_fail "no log line for the replayed code"
[ "$(lab_event_count c2 connect)" = 0 ] || td_fail "a tunnel with a replayed code"
td_pass "a replayed code out"

# A wrong code: refused.
good=$(code frank)
bad=$(printf '%06d' $(((10#$good + 500000) % 1000000)))
lab_start_client c5 frank frank-pass --form-entry "challenge:secondary_password=$bad"
rc=$(lab_client_exited c5 30) || td_fail "the wrong code's client still runs"
[ "$rc" != 0 ] || td_fail "a wrong code logged in"
td_log_wait "login failed for user 'frank' from 198\.18\.0\.14:[0-9]+: bad password, wrong one-time code" 5 ||
	td_fail "no log line for the wrong code"
td_pass "wrong code out"

# The legacy form login asks for the code the same way.
lab_start_client c3 dave dave-pass --no-xmlpost --form-entry "challenge:secondary_password=$(code dave)"
lab_wait_client c3 30 || td_fail "dave (--no-xmlpost) with the right code: no tunnel"
lab_ping_ok c3 198.18.1.2 || td_fail "dave: no ping"
td_pass "--no-xmlpost: the code in a second form, then the tunnel"

# NetworkManager: the first step answers both forms, the second needs none.
dlg_nm_auth c4 erin erin-pass --form-entry "challenge:secondary_password=$(code erin)" ||
	td_fail "--authenticate with a code failed: $(tail -3 "$LAB_DIR/c4.auth.log")"
dlg_nm_connect c4
lab_wait_client c4 20 || td_fail "erin --cookie-on-stdin: no tunnel"
lab_ping_ok c4 198.18.1.2 || td_fail "erin: no ping"
td_pass "NetworkManager's two steps with a code"

td_stop || td_fail "unclean stop"
