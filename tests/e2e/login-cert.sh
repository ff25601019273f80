#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Client certificates (auth.ca, auth.crl, auth.cert-mode): openconnect
# -c/-k logs in with its certificate alone (the user from CN, the groups
# from OU), also with --no-xmlpost and in NetworkManager's two steps; a
# client without a certificate and one whose certificate another CA
# signed are refused; a certificate revoked after a CRL reload is refused;
# with cert-mode "password" the certificate names the user and the
# password must be right too.
#
#   c1 alice (cert), c2 mallory (other CA), c3 carol (revoked later),
#   c4 no certificate, c5 bob (cert + password)  --+-- tunneld --- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
. "$(dirname "$0")/lib/dialog.sh"
lab_init cert
lab_need certtool
lab_make_cert
for c in c1 c2 c3 c4 c5; do lab_add_client "$c"; done

# Two CAs: ours, and one the server does not know.
. "$(dirname "$0")/lib/pki.sh"
D=$PKI_DIR
pki_ca ca
pki_ca otherca
pki_client alice ca staff eng
pki_client carol ca
pki_client bob ca
pki_client mallory otherca
pki_crl
td_users bob:bob-pass
conf() { # MODE
	TD_EXTRA="auth = { password-file = \"$LAB_DIR/passwd\"; ca = \"$D/ca.pem\"; crl = \"$D/crl.pem\";
  cert-mode = \"$1\"; cert-user-field = \"CN\"; cert-group-field = \"OU\"; ban-failures = 0; };" td_config
	sed -i '0,/^auth = { password-file/{/^auth = { password-file = "[^;]*"; };$/d}' "$LAB_DIR/tunneld.conf"
}
conf required
td_start
# lab_start_client always passes -u and the password on stdin: with a
# certificate alone nothing asks for them.
cert() { echo "-c $D/$1.pem -k $D/$1.key"; }

# shellcheck disable=SC2046
lab_start_client c1 alice unused $(cert alice)
lab_wait_client c1 20 || td_fail "alice's certificate: no tunnel"
lab_ping_ok c1 198.18.1.2 || td_fail "alice: no ping"
td_log_wait "user 'alice' logged in from 198\.18\.0\.10:[0-9]+ \(worker 0, certificate, groups 'staff,eng'\)" 5 ||
	td_fail "no certificate login line with the groups"
td_pass "certificate alone: tunnel, ping, the user from CN, the groups from OU"

# shellcheck disable=SC2046
lab_start_client c2 mallory unused $(cert mallory)
rc=$(lab_client_exited c2 20) || td_fail "mallory (other CA) still runs"
[ "$rc" != 0 ] || td_fail "a certificate of another CA logged in"
td_log_wait "client certificate from 198\.18\.0\.11:[0-9]+ not taken: it does not verify" 5 ||
	td_fail "no log line for the other CA's certificate"
lab_start_client c4 nobody unused
rc=$(lab_client_exited c4 20) || td_fail "the client without a certificate still runs"
[ "$rc" != 0 ] || td_fail "no certificate, yet logged in"
grep -q 'A valid client certificate is required.' "$LAB_DIR/c4.oc.log" ||
	td_fail "the client was not told: $(tail -3 "$LAB_DIR/c4.oc.log")"
td_pass "wrong CA refused, no certificate refused (Cisco's certificate request, then the error)"

# shellcheck disable=SC2046
lab_start_client c3 carol unused $(cert carol) --no-xmlpost
lab_wait_client c3 20 || td_fail "carol (--no-xmlpost): no tunnel"
lab_client_signal c3 INT
lab_client_exited c3 10 >/dev/null || td_fail "carol's client did not exit"
pki_crl "$D/carol.pem"
kill -HUP "$TD_PID"
td_log_wait "reloaded .*tunneld\.conf" 10 || td_fail "no reload"
# shellcheck disable=SC2046
lab_start_client c3 carol unused $(cert carol)
rc=$(lab_client_exited c3 20) || td_fail "revoked carol still runs"
[ "$rc" != 0 ] || td_fail "a revoked certificate logged in after the CRL reload"
td_log_wait "client certificate from 198\.18\.0\.12:[0-9]+ not taken: it does not verify" 5 ||
	td_fail "no log line for the revoked certificate"
[ "$(td_log_count "user 'carol' logged in")" = 1 ] || td_fail "carol logged in after revocation"
td_pass "--no-xmlpost with a certificate; revoked after a CRL reload: refused"

# NetworkManager: --authenticate with the certificate, then the cookie.
# shellcheck disable=SC2046
dlg_nm_auth c4 alice unused $(cert alice) || td_fail "--authenticate with a certificate failed"
dlg_nm_connect c4
lab_wait_client c4 20 || td_fail "--cookie-on-stdin after a certificate login: no tunnel"
td_pass "NetworkManager's two steps with a certificate"

# Certificate and password: the certificate names bob, the password
# proves it; the right password gets a tunnel, a wrong one does not.
conf password
kill -HUP "$TD_PID"
td_log_wait "reload: auth.cert-mode changed" 10 || td_fail "no reload to cert-mode password"
# shellcheck disable=SC2046
lab_start_client c5 bob wrong-pass $(cert bob)
rc=$(lab_client_exited c5 20) || td_fail "bob with a wrong password still runs"
[ "$rc" != 0 ] || td_fail "certificate + wrong password logged in"
td_log_wait "login failed for user 'bob' from 198\.18\.0\.14:[0-9]+: bad password" 5 ||
	td_fail "no log line for bob's wrong password"
# shellcheck disable=SC2046
lab_start_client c5 somebody-else bob-pass $(cert bob)
lab_wait_client c5 20 || td_fail "certificate + password: no tunnel"
td_log_wait "user 'bob' logged in from 198\.18\.0\.14:[0-9]+ \(worker 0, certificate and password\)" 5 ||
	td_fail "no certificate-and-password login line (the user must come from the certificate)"
lab_ping_ok c5 198.18.1.2 || td_fail "bob: no ping"
td_pass "certificate + password: wrong password refused, right one in, user from the certificate"

td_stop || td_fail "unclean stop"
