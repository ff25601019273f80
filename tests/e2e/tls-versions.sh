#!/bin/bash
# TLS 1.2 and TLS 1.3, with an ECDSA, an RSA and an Ed25519 certificate: a
# raw gnutls-cli gets the login form over each, and the stock client logs
# in and passes traffic with each.  The key process (daemon/keyserv.c)
# makes every signature the way the client asked for it: with RSA both
# PKCS#1 v1.5 and PSS over TLS 1.2.
#
#   c1 (gnutls-cli, openconnect) --br0-- tunneld
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need gnutls-cli
lab_init tlsv
lab_add_client c1
td_users alice:alice-pass

probe() { # probe PRIORITY -> prints the negotiated version, fails without the form
	local out
	# gnutls-cli quits at the end of its input: keep it open until the
	# server has answered and closed.
	out=$( (printf 'POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' \
		"$LAB_SRV_IP"; sleep 3) | lab_cli c1 timeout 10 gnutls-cli --insecure --priority "$1" \
		-p "$LAB_PORT" "$LAB_SRV_IP" 2>&1) || true
	grep -q "<auth id=.main.>" <<<"$out" || { echo "$out" | tail -n 25 >&2; return 1; }
	sed -n 's/^- Description: (\(TLS1\.[0-9]\)-.*/\1/p' <<<"$out" | head -1
	# The signature algorithm, e.g. RSA-SHA256, on a second line.
	sed -n 's/^- Description: ([^)]*)-([^)]*)-(\([^)]*\)).*/\1/p' <<<"$out" | head -1
}

for kt in ecdsa rsa ed25519; do
	LAB_KEY_TYPE=$kt lab_make_cert
	td_config
	td_start
	v=$(probe "NORMAL:-VERS-ALL:+VERS-TLS1.2") || td_fail "$kt: no login form over TLS 1.2"
	[ "$(head -1 <<<"$v")" = TLS1.2 ] || td_fail "$kt: negotiated '$v', wanted TLS1.2"
	v=$(probe "NORMAL:-VERS-ALL:+VERS-TLS1.3") || td_fail "$kt: no login form over TLS 1.3"
	[ "$(head -1 <<<"$v")" = TLS1.3 ] || td_fail "$kt: negotiated '$v', wanted TLS1.3"
	if [ $kt = rsa ]; then
		for sig in RSA-SHA256 RSA-PSS-RSAE-SHA256; do
			v=$(probe "NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:+SIGN-$sig") ||
				td_fail "rsa: no login form over TLS 1.2 with $sig"
			[ "$(tail -1 <<<"$v")" = "$sig" ] || td_fail "rsa: signed with '$v', wanted $sig"
		done
		td_pass "rsa certificate: PKCS#1 v1.5 and PSS signatures over TLS 1.2"
	fi
	td_pass "$kt certificate: TLS 1.2 and TLS 1.3 handshakes, login form served"
	lab_start_client c1 alice alice-pass
	lab_wait_client c1 20 || td_fail "$kt: openconnect did not connect"
	lab_ping_ok c1 198.18.1.2 || td_fail "$kt: no traffic"
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
	td_pass "$kt certificate: openconnect logs in, traffic flows"
	td_stop || td_fail "unclean stop"
	# The daemon removes what it created: the TUN device is gone.
	lab_srv ip link show vpns0 >/dev/null 2>&1 && td_fail "vpns0 left behind"
	rm -f "$LAB_DIR/tunneld.conf"
done
td_pass "TUN device removed on stop"
