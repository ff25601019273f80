#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Group choice (auth.group-select, auth.group-list): the first login form
# lists the groups; a user in two groups (here from his certificate's OU,
# with cert-mode "password") picks each one with --authgroup, over XML,
# with --no-xmlpost and in NetworkManager's two steps, and his session
# gets that group; a listed group he is not in is refused with a message;
# typed at the prompts (expect) the list is shown and the group typed is
# the session's.
#
#   c1 (--authgroup eng), c2 (--no-xmlpost --authgroup staff),
#   c3 (--authgroup ops: refused), c4 (NetworkManager, staff),  --+-- tunneld --- lan
#   c5 (types the group)
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
. "$(dirname "$0")/lib/dialog.sh"
lab_init group
lab_need certtool
lab_need expect
lab_make_cert
for c in c1 c2 c3 c4 c5; do lab_add_client "$c"; done
. "$(dirname "$0")/lib/pki.sh"
pki_ca ca
pki_client alice ca staff eng
td_users alice:alice-pass
TD_EXTRA="auth = { password-file = \"$LAB_DIR/passwd\"; ca = \"$PKI_DIR/ca.pem\";
  cert-mode = \"password\"; cert-user-field = \"CN\"; cert-group-field = \"OU\";
  group-select = true; group-list = \"staff,eng,ops\"; ban-failures = 0; };" td_config
# td_config's own auth line is replaced by the one above.
sed -i '0,/^auth = { password-file/{/^auth = { password-file = "[^;]*"; };$/d}' "$LAB_DIR/tunneld.conf"
td_start
logged_in() { # PEER-IP GROUP
	td_log_wait "user 'alice' logged in from ${1//./\\.}:[0-9]+ \(worker 0, certificate and password, groups 'staff,eng', group '$2' chosen\)" 5
}

# shellcheck disable=SC2046
lab_start_client c1 alice alice-pass $(pki_cert alice) --authgroup eng --dump-http-traffic
lab_wait_client c1 20 || td_fail "--authgroup eng: no tunnel"
grep -q '<select name="group_list" label="GROUP:">' "$LAB_DIR/c1.oc.log" ||
	td_fail "the form has no group list"
grep -q '<group-select>eng</group-select>' "$LAB_DIR/c1.oc.log" ||
	td_fail "the client did not send its group"
logged_in 198.18.0.10 eng || td_fail "no login line with group 'eng'"
lab_ping_ok c1 198.18.1.2 || td_fail "--authgroup eng: no ping"
td_pass "the form lists the groups; --authgroup eng: the session's group is eng"

# shellcheck disable=SC2046
lab_start_client c2 alice alice-pass $(pki_cert alice) --authgroup staff --no-xmlpost
lab_wait_client c2 20 || td_fail "--no-xmlpost --authgroup staff: no tunnel"
logged_in 198.18.0.11 staff || td_fail "no login line with group 'staff' (--no-xmlpost)"
td_pass "--no-xmlpost --authgroup staff: the session's group is staff"

# shellcheck disable=SC2046
lab_start_client c3 alice alice-pass $(pki_cert alice) --authgroup ops
rc=$(lab_client_exited c3 20) || td_fail "--authgroup ops: the client still runs"
[ "$rc" != 0 ] || td_fail "a group the user is not in logged in"
grep -q 'You are not a member of group ops.' "$LAB_DIR/c3.oc.log" ||
	td_fail "the client was not told: $(tail -3 "$LAB_DIR/c3.oc.log")"
[ "$(td_log_count "group 'ops' chosen")" = 0 ] || td_fail "a session in group ops"
td_log_wait "login for user 'alice' from 198\.18\.0\.12:[0-9]+ refused: not in group 'ops'" 5 ||
	td_fail "no log line for the refused group"
td_pass "a listed group the user is not in: refused with the message"

# shellcheck disable=SC2046
dlg_nm_auth c4 alice alice-pass $(pki_cert alice) --authgroup staff ||
	td_fail "--authenticate --authgroup staff failed"
dlg_nm_connect c4
lab_wait_client c4 20 || td_fail "--cookie-on-stdin after a group choice: no tunnel"
logged_in 198.18.0.13 staff || td_fail "no login line with group 'staff' (NetworkManager)"
td_pass "NetworkManager's two steps with --authgroup staff"

# shellcheck disable=SC2046
dlg_expect c5 '
expect -re {GROUP: \[staff\|eng\|ops\]} { send "eng\r" }
expect "Password:" { send "alice-pass\r" }
expect "Connected as"' $(pki_cert alice)
lab_wait_client c5 30 || td_fail "typed group: no tunnel"
logged_in 198.18.0.14 eng || td_fail "no login line with the typed group 'eng'"
td_pass "typed at the prompt: the list shown, the group typed is the session's"

td_stop || td_fail "unclean stop"
