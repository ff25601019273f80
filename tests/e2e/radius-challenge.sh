#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Two-factor logins through RADIUS Access-Challenge (issue 20): Debian's
# FreeRADIUS (tests/e2e/lib/radius.sh) checks the password of a user with
# a code, answers with an Access-Challenge (Reply-Message "Enter your
# code", a State it keeps its session-state under), and takes the code in
# the next Access-Request, which must carry that State back; a user with a
# PIN too is challenged twice.  tunneld shows each challenge as a form and
# keeps the State in its auth process.  And group choice with a RADIUS
# user's Class values (auth.group-select).
#
#   c1 erin (XML, code)   c2 erin (wrong code)   c3 frank (--no-xmlpost, code)
#   c4 gina (types code, then PIN)   c5 hank (Class staff, eng: --authgroup)
#   c6 hank (--authgroup ops)   c7 frank (NetworkManager's two steps)
#                               --+-- tunneld --- 198.18.1.2 FreeRADIUS
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
. "$(dirname "$0")/lib/radius.sh"
. "$(dirname "$0")/lib/dialog.sh"
lab_init radchal
lab_need expect
lab_need jq
lab_make_cert
for c in c1 c2 c3 c4 c5 c6 c7; do lab_add_client "$c"; done

# Users with a code hold it in Tmp-String-0 (and a PIN in Tmp-String-1):
# their first request is checked against the password, then challenged;
# the round a login is in lives in FreeRADIUS's session-state, which it
# finds again only through the State it sent.
# shellcheck disable=SC2089 # unlang's quotes, for FreeRADIUS
RAD_AUTHORIZE='		auth_log
		files
		if (&control:Tmp-String-0) {
			if (!&request:State) {
				if (&request:User-Password != &control:Cleartext-Password) {
					reject
				}
				update session-state {
					&Tmp-Integer-0 := 1
				}
				update reply {
					&Reply-Message := "Enter your code"
				}
				update control {
					&Response-Packet-Type := Access-Challenge
				}
				handled
			}
			elsif (&session-state:Tmp-Integer-0 == 1 && &request:User-Password == &control:Tmp-String-0) {
				if (&control:Tmp-String-1) {
					update session-state {
						&Tmp-Integer-0 := 2
					}
					update reply {
						&Reply-Message := "Code accepted."
						&Reply-Message += "Enter your PIN"
					}
					update control {
						&Response-Packet-Type := Access-Challenge
					}
					handled
				}
				update control {
					&Auth-Type := Accept
				}
			}
			elsif (&session-state:Tmp-Integer-0 == 2 && &request:User-Password == &control:Tmp-String-1) {
				update control {
					&Auth-Type := Accept
				}
			}
			else {
				update reply {
					&Reply-Message := "Wrong code, access denied"
				}
				reject
			}
		}
		else {
			pap
		}'
# The return codes unlang has no keyword for: instances of "always".
RAD_MODULES='	always reject {
		rcode = reject
	}
	always handled {
		rcode = handled
	}'
# shellcheck disable=SC2090
export RAD_AUTHORIZE RAD_MODULES
rad_start 'erin Cleartext-Password := "erin-pass", Tmp-String-0 := "424242"
	Framed-IP-Address = 198.18.100.71,
	Class = "OU=staff"
frank Cleartext-Password := "frank-pass", Tmp-String-0 := "135790"
gina Cleartext-Password := "gina-pass", Tmp-String-0 := "111222", Tmp-String-1 := "9876"
hank Cleartext-Password := "hank-pass"
	Class = "staff",
	Class = "eng"'
TD_AUTH='ban-failures = 0;' TD_EXTRA=$(rad_td_extra) td_config
td_start || td_fail "tunneld did not start"
CTL=${TD_CTL:-$TD_TOP/tunnelctl}
session_of() { "$CTL" -s "$LAB_DIR/control.sock" --json list | jq -c --arg u "$1" '.sessions[] | select(.user == $u)'; }
requests_of() { rad_auth_attr "$1" Acct-Session-Id | wc -l; }

# 1. XML: password, the challenge's form (its Reply-Message the prompt),
# the code; the tunnel has what the Accept granted.
lab_start_client c1 erin erin-pass --form-entry "challenge:answer=424242" --dump-http-traffic
lab_wait_client c1 30 || td_fail "erin (challenge, XML): no tunnel: $(tail -3 "$LAB_DIR/c1.oc.log")"
lab_ping_ok c1 198.18.1.2 || td_fail "erin: no ping"
grep -q '<auth id="challenge">' "$LAB_DIR/c1.oc.log" || td_fail "no challenge form"
grep -q 'label="Enter your code"' "$LAB_DIR/c1.oc.log" || td_fail "the Reply-Message was not the prompt"
[ "$(lab_client_state c1 ip4)" = 198.18.100.71 ] || td_fail "erin: not the Accept's Framed-IP-Address"
# Two Access-Requests, the second with the State and the first's session.
[ "$(requests_of erin)" = 2 ] || td_fail "erin: $(requests_of erin) Access-Requests, want 2"
[ "$(rad_auth_attr erin Acct-Session-Id | sort -u | wc -l)" = 1 ] || td_fail "erin: the answer named another session"
[ "$(rad_auth_attr erin NAS-Port | sort -u | wc -l)" = 1 ] || td_fail "erin: the answer had another NAS-Port"
[ "$(rad_auth_attr erin State | wc -l)" = 1 ] || td_fail "erin: not one request with a State"
sid=$(rad_sid_of erin)
td_log_wait "user 'erin' logged in .*RADIUS Acct-Session-Id $sid, groups 'staff'" 5 ||
	td_fail "no login line with the Access-Request's Acct-Session-Id $sid"
[ "$(session_of erin | jq -r .groups)" = staff ] || td_fail "erin: tunnelctl groups"
td_pass "Access-Challenge over XML: two form steps, State sent back, session $sid, ping"

# 2. A wrong code: FreeRADIUS rejects; its Reply-Message is the error the
# client prints; no tunnel.
lab_start_client c2 erin erin-pass --form-entry "challenge:answer=000000"
rc=$(lab_client_exited c2 30) || td_fail "erin (wrong code) still runs"
[ "$rc" != 0 ] || td_fail "a wrong code logged in"
[ "$(lab_event_count c2 connect)" = 0 ] || td_fail "a tunnel with a wrong code"
grep -q 'Wrong code, access denied' "$LAB_DIR/c2.oc.log" ||
	td_fail "the client did not print the server's message: $(tail -5 "$LAB_DIR/c2.oc.log")"
td_log_wait "login failed for user 'erin' from 198\.18\.0\.11:[0-9]+: bad password, RADIUS: Access-Reject after 1 challenge" 5 ||
	td_fail "no log line for the rejected code"
td_pass "a wrong code: Access-Reject, the server's Reply-Message printed, no tunnel"

# 3. The legacy form login: the challenge as a form too.
lab_start_client c3 frank frank-pass --no-xmlpost --form-entry "challenge:answer=135790" --dump-http-traffic
lab_wait_client c3 30 || td_fail "frank (--no-xmlpost): no tunnel: $(tail -3 "$LAB_DIR/c3.oc.log")"
grep -q '^> username=frank&password=' "$LAB_DIR/c3.oc.log" || td_fail "--no-xmlpost: no urlencoded first answer"
grep -q '^> answer=135790' "$LAB_DIR/c3.oc.log" || td_fail "--no-xmlpost: no urlencoded code"
lab_ping_ok c3 198.18.1.2 || td_fail "frank: no ping"
td_pass "Access-Challenge with --no-xmlpost: urlencoded answers, tunnel, ping"

dlg_nm_auth c7 frank frank-pass --form-entry "challenge:answer=135790" ||
	td_fail "frank --authenticate failed: $(tail -3 "$LAB_DIR/c7.auth.log")"
dlg_nm_connect c7
lab_wait_client c7 20 || td_fail "frank --cookie-on-stdin: no tunnel"
lab_ping_ok c7 198.18.1.2 || td_fail "frank (NetworkManager): no ping"
td_pass "Access-Challenge in NetworkManager's two steps (--authenticate, --cookie-on-stdin)"

# 4. Two rounds, typed at the prompts: the code, then the PIN (the second
# challenge has two Reply-Messages: the first shown, the last the prompt).
dlg_expect c4 '
expect "Username:" { send "gina\r" }
expect "Password:" { send "gina-pass\r" }
expect "Enter your code" { send "111222\r" }
expect "Code accepted."
expect "Enter your PIN" { send "9876\r" }
expect "Connected as"'
lab_wait_client c4 30 || td_fail "gina (two challenges): no tunnel: $(tail -5 "$LAB_DIR/c4.oc.log")"
lab_ping_ok c4 198.18.1.2 || td_fail "gina: no ping"
[ "$(requests_of gina)" = 3 ] || td_fail "gina: $(requests_of gina) Access-Requests, want 3"
[ "$(rad_auth_attr gina State | sort -u | wc -l)" = 2 ] || td_fail "gina: not two States sent back"
[ "$(rad_auth_attr gina Acct-Session-Id | sort -u | wc -l)" = 1 ] || td_fail "gina: more than one session id"
td_pass "two challenges typed at the prompts (code, PIN): three Access-Requests, tunnel, ping"

# 5. Group choice (turned on by a reload): hank's Class values are his
# groups; --authgroup picks one, a listed group he is not in is refused.
sed -i 's/^auth = { ban-failures = 0; };$/auth = { ban-failures = 0; group-select = true; group-list = "staff,eng,ops"; };/' \
	"$LAB_DIR/tunneld.conf"
grep -q 'group-select = true' "$LAB_DIR/tunneld.conf" || td_fail "the config was not changed"
kill -HUP "$TD_PID"
td_log_wait "reloaded .*tunneld\.conf" 10 || td_fail "no reload"
lab_start_client c5 hank hank-pass --authgroup eng --dump-http-traffic
lab_wait_client c5 30 || td_fail "hank --authgroup eng: no tunnel: $(tail -3 "$LAB_DIR/c5.oc.log")"
grep -q '<select name="group_list" label="GROUP:">' "$LAB_DIR/c5.oc.log" || td_fail "the form has no group list"
td_log_wait "user 'hank' logged in .*RADIUS Acct-Session-Id [0-9a-f]{16}, groups 'staff,eng', group 'eng'" 5 ||
	td_fail "no login line with group 'eng'"
[ "$(session_of hank | jq -r .group)" = eng ] || td_fail "tunnelctl: hank's group '$(session_of hank | jq -r .group)'"
id=$(session_of hank | jq -r .id)
[ "$("$CTL" -s "$LAB_DIR/control.sock" --json show "$id" | jq -r .session.group)" = eng ] ||
	td_fail "tunnelctl --json show: not group eng"
lab_ping_ok c5 198.18.1.2 || td_fail "hank: no ping"
lab_start_client c6 hank hank-pass --authgroup ops
rc=$(lab_client_exited c6 30) || td_fail "hank --authgroup ops still runs"
[ "$rc" != 0 ] || td_fail "a group hank is not in logged in"
grep -q 'You are not a member of group ops.' "$LAB_DIR/c6.oc.log" ||
	td_fail "hank was not told: $(tail -3 "$LAB_DIR/c6.oc.log")"
td_log_wait "login for user 'hank' from 198\.18\.0\.15:[0-9]+ refused: not in group 'ops'" 5 ||
	td_fail "no log line for the refused group"
td_pass "RADIUS Class values as groups: --authgroup eng is the session's group, ops refused"

td_stop || td_fail "unclean stop"
