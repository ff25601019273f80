#!/bin/bash
# TLS 1.2 and TLS 1.3, with an ECDSA, an RSA and an Ed25519 certificate: a
# raw gnutls-cli gets the login form over each, and the stock client logs
# in and passes traffic with each.  The key process (daemon/keyserv.c)
# makes every signature the way the client asked for it: with RSA both
# PKCS#1 v1.5 and PSS over TLS 1.2.  The key exchange is X25519 where the
# client can (the default tls.priorities), P-256 where it cannot, and a
# client that lists X25519 without a share for it is asked again.
#
#   c1 (gnutls-cli, openconnect) --br0-- tunneld
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need gnutls-cli openssl
lab_init tlsv
lab_add_client c1
td_users alice:alice-pass

probe() { # probe PRIORITY -> prints the negotiated version, signature and
	# key exchange, one a line; fails without the form
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
	# The key exchange, e.g. ECDHE-X25519, on a third.
	sed -n 's/^- Description: ([^)]*)-(\([^)]*\)).*/\1/p' <<<"$out" | head -1
}
# hellos GROUPS: OpenSSL's s_client offering GROUPS (a key share for the
# first only): "ClientHellos sent, the server's key exchange".
hellos() {
	local out
	out=$(echo Q | lab_cli c1 timeout 10 openssl s_client -connect "$LAB_SRV_IP:$LAB_PORT" \
		-tls1_3 -groups "$1" -msg 2>&1) || true
	echo "$(grep -c '>>> .*ClientHello' <<<"$out") $(sed -n 's/^Server Temp Key: \([^,]*\),.*/\1/p' <<<"$out")"
}

for kt in ecdsa rsa ed25519; do
	LAB_KEY_TYPE=$kt lab_make_cert
	td_config
	td_start
	v=$(probe "NORMAL:-VERS-ALL:+VERS-TLS1.2") || td_fail "$kt: no login form over TLS 1.2"
	[ "$(head -1 <<<"$v")" = TLS1.2 ] || td_fail "$kt: negotiated '$v', wanted TLS1.2"
	v=$(probe "NORMAL:-VERS-ALL:+VERS-TLS1.3") || td_fail "$kt: no login form over TLS 1.3"
	[ "$(head -1 <<<"$v")" = TLS1.3 ] || td_fail "$kt: negotiated '$v', wanted TLS1.3"
	[ "$(sed -n 3p <<<"$v")" = ECDHE-X25519 ] || td_fail "$kt: key exchange '$v', wanted X25519"
	if [ $kt = ecdsa ]; then
		v=$(probe "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP256R1") ||
			td_fail "no login form for a client without X25519"
		[ "$(sed -n 3p <<<"$v")" = ECDHE-SECP256R1 ] || td_fail "without X25519: '$v'"
		h=$(hellos X25519:P-256)
		[ "$h" = "1 X25519" ] || td_fail "OpenSSL, X25519 first: '$h', wanted 1 hello, X25519"
		h=$(hellos P-256:X25519)
		[ "$h" = "2 X25519" ] || td_fail "OpenSSL, P-256 share only: '$h', wanted a retry, X25519"
		h=$(hellos P-256)
		[ "$h" = "1 ECDH" ] || td_fail "OpenSSL, P-256 only: '$h', wanted 1 hello, P-256"
		td_pass "key exchange: X25519 when offered (a retry when not shared), else P-256"
	fi
	if [ $kt = rsa ]; then
		for sig in RSA-SHA256 RSA-PSS-RSAE-SHA256; do
			v=$(probe "NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:+SIGN-$sig") ||
				td_fail "rsa: no login form over TLS 1.2 with $sig"
			[ "$(sed -n 2p <<<"$v")" = "$sig" ] || td_fail "rsa: signed with '$v', wanted $sig"
		done
		td_pass "rsa certificate: PKCS#1 v1.5 and PSS signatures over TLS 1.2"
	fi
	td_pass "$kt certificate: TLS 1.2 and TLS 1.3 handshakes, login form served"
	lab_start_client c1 alice alice-pass
	lab_wait_client c1 20 || td_fail "$kt: openconnect did not connect"
	lab_ping_ok c1 198.18.1.2 || td_fail "$kt: no traffic"
	grep -q "(TLS1.3)-(ECDHE-X25519)" "$LAB_DIR/c1.oc.log" ||
		td_fail "$kt: openconnect did not use X25519: $(grep -m1 ciphersuite "$LAB_DIR/c1.oc.log")"
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
	td_pass "$kt certificate: openconnect logs in, traffic flows"
	td_stop || td_fail "unclean stop"
	# The daemon removes what it created: the TUN device is gone.
	lab_srv ip link show vpns0 >/dev/null 2>&1 && td_fail "vpns0 left behind"
	rm -f "$LAB_DIR/tunneld.conf"
done
td_pass "TUN device removed on stop"
