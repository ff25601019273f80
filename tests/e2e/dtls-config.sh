#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The dtls group of the config, and DTLS advertised only over UDP sockets
# that are really there:
#   dtls.port = 4500          DTLS on another port than TLS
#   dtls.enable = false       no X-DTLS-* header: the client stays on TLS
#   the UDP port taken        tunneld warns, offers TLS only, serves on
#
#   client c1 --TCP 4443, UDP 4443|4500--> [server: tunneld]
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need socat
lab_init dtlscf
lab_make_cert
lab_add_client c1
td_users alice:alice-pass

# Start tunneld with EXTRA in its config, connect c1, check, stop both.
# $1: what to check (dtls|tls), $2: the port the client must use for DTLS.
round() {
	local want=$1 port=$2 log=$LAB_DIR/c1.oc.log
	TD_EXTRA=$EXTRA td_config
	td_start
	lab_start_client c1 alice alice-pass --dump-http-traffic
	lab_wait_client c1 20 || td_fail "client did not connect ($EXTRA)"
	lab_ping_ok c1 198.18.1.2 3 || td_fail "no traffic ($EXTRA)"
	if [ "$want" = dtls ]; then
		grep -q "^X-DTLS-Port: $port" "$log" || td_fail "X-DTLS-Port is not $port"
		td_log_wait "session [0-9]+: DTLS up" 10 || td_fail "no DTLS on port $port"
		grep -q "Established DTLS connection" "$log" || td_fail "client: no DTLS"
	else
		grep -q "^X-DTLS" "$log" && td_fail "DTLS advertised ($EXTRA)"
		[ "$(td_log_count "DTLS up")" = 0 ] || td_fail "DTLS up ($EXTRA)"
	fi
	lab_client_signal c1 INT
	lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
	td_stop || td_fail "unclean stop"
	mv "$TD_LOG" "$TD_LOG.$want.$port"
}

EXTRA='dtls = { port = 4500; };'
round dtls 4500
td_pass "dtls.port = 4500: DTLS on 4500 while TLS is on 4443"

EXTRA='dtls = { enable = false; };'
round tls 0
td_pass "dtls.enable = false: no X-DTLS headers, the client is on TLS"

# Someone else holds the UDP port (without SO_REUSEPORT): the server says
# so, advertises no DTLS, and serves over TLS.
lab_bg srv "$LAB_DIR/squat.log" socat -u UDP-RECV:$LAB_PORT,bind=$LAB_SRV_IP /dev/null >/dev/null
lab_wait_listen srv "$LAB_PORT" 10 udp || td_fail "the squatter did not bind"
EXTRA=''
round tls 0
grep -q "DTLS is off: clients will use TLS only" "$TD_LOG.tls.0" || td_fail "no warning"
td_pass "UDP port taken: warned, no DTLS advertised, TLS serves"
