#!/bin/bash
# Socket activation: started by systemd-socket-activate (as systemd would
# with a .socket unit), tunneld serves on the passed listening socket, and
# DTLS comes up on the UDP sockets it opens itself (ocserv loses DTLS under
# socket activation).
#
#   c1 --br0-- [systemd-socket-activate -l 198.18.0.1:4443 -> tunneld]
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_need systemd-socket-activate
lab_init sockact
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_WORKERS=2 td_config
TD_LOG=$LAB_DIR/tunneld.log
TD_PID=$(lab_bg srv "$TD_LOG" systemd-socket-activate -l "$LAB_SRV_IP:$LAB_PORT" \
	"$TD_BIN" -f -c "$LAB_DIR/tunneld.conf")
lab_wait_listen srv "$LAB_PORT" 10 || td_fail "no listener"
# systemd-socket-activate starts the service at the first connection.
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect through the activated socket"
td_log_wait "using 1 listening sockets from socket activation" 2 || td_fail "socket not inherited"
lab_ping_ok c1 198.18.1.2 || td_fail "no traffic"
td_log_wait "session [0-9]+: DTLS up" 10 || td_fail "no DTLS under socket activation"
grep -q "Established DTLS connection" "$LAB_DIR/c1.oc.log" || td_fail "the client has no DTLS"
td_pass "socket-activated tunneld serves openconnect, DTLS included"
# The server is the activator itself (it execs the service) or its child:
# only processes this test started, never a look over the whole machine.
if [ "$(readlink "/proc/$TD_PID/exe")" != "$(readlink -f "$TD_BIN")" ]; then
	TD_PID=$(pgrep -P "$TD_PID" | head -1)
fi
[ "$(readlink "/proc/$TD_PID/exe")" = "$(readlink -f "$TD_BIN")" ] || td_fail "no tunneld under the activator"
td_stop || td_fail "unclean stop"
