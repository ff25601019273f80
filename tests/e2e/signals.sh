#!/bin/bash
# Signals an operator uses: SIGUSR1 reopens a log file after rotation;
# SIGQUIT drains (no new connections, tunnels run on for
# session.drain-wait, then are ended so that their clients reconnect to
# another node; the daemon exits when they are gone, or when
# session.drain-timeout runs out, telling the clients that remain).
#
#   c1, c2 (connected) and c3 (late login) -- tunneld (log to a file) -- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init signals
lab_make_cert
lab_add_client c1
lab_add_client c2
lab_add_client c3
td_users alice:alice-pass

start() { # DRAIN_TIMEOUT [DRAIN_WAIT]
	TD_EXTRA="log = { level = \"info\"; destination = \"$LAB_DIR/file.log\"; };" td_config
	sed -i "s/^log = { level = \"info\"; };$//; s/keepalive = 20;/keepalive = 20; drain-timeout = $1; drain-wait = ${2:-10};/" \
		"$LAB_DIR/tunneld.conf"
	TD_LOG=$LAB_DIR/file.log
	TD_PID=$(lab_bg srv "$LAB_DIR/stderr.log" "$TD_BIN" -f -c "$LAB_DIR/tunneld.conf")
	td_log_wait 'master: info: ready:' 10 || td_fail "not ready: $(cat "$LAB_DIR/stderr.log")"
}
TD_LOG_LEVEL=info
start 60 50
grep -q "^[0-9T:+-]* tunneld\[$TD_PID\]: master: info: ready" "$LAB_DIR/file.log" ||
	td_fail "file lines lack time and pid: $(head -2 "$LAB_DIR/file.log")"
[ ! -s "$LAB_DIR/stderr.log" ] || td_fail "log lines went to stderr too"

# Rotation: move the file away, SIGUSR1, new lines land in a new file.
mv "$LAB_DIR/file.log" "$LAB_DIR/file.log.1"
kill -USR1 "$TD_PID"
td_log_wait "log file reopened" 5 || td_fail "no new log file after SIGUSR1"
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "c1 did not connect"
td_log_wait "logged in" 5 || td_fail "login not in the new file"
grep -q "logged in" "$LAB_DIR/file.log.1" && td_fail "the rotated file still gets lines"
td_pass "SIGUSR1: log file reopened after rotation"

# Drain: c1 keeps its tunnel (drain-wait 50 s), a new connection is
# refused; when c1 ends its session the daemon exits by itself.
kill -QUIT "$TD_PID"
td_log_wait "draining: no new connections" 5 || td_fail "SIGQUIT not logged"
sleep 0.5
lab_start_client c3 alice alice-pass
rc=$(lab_client_exited c3 20) || td_fail "a new client was left hanging during the drain"
[ "$rc" != 0 ] || td_fail "a login succeeded during the drain"
lab_ping_ok c1 198.18.1.2 5 || td_fail "c1 lost traffic during the drain"
lab_alive "$TD_PID" || td_fail "daemon gone before its tunnels ended"
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "c1 did not exit"
td_log_wait "stopping \(all tunnels ended\)" 5 || td_fail "did not stop when the last tunnel ended"
td_stop || td_fail "unclean exit after the drain"
td_pass "SIGQUIT: no new connections, tunnel kept until it ended, then a clean stop"

# Drain timeout before drain-wait (10 s): a client that stays is told to
# go when time is up.
rm -f "$LAB_DIR/file.log"
start 2
lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "c2 did not connect"
kill -QUIT "$TD_PID"
td_log_wait "stopping \(drain timeout\)" 6 || td_fail "drain timeout did not stop the server"
rc=$(lab_client_exited c2 10) || td_fail "c2 was not told to go"
grep -q "Server shutting down" "$LAB_DIR/c2.oc.log" || td_fail "c2 got no DISCONNECT"
td_stop || td_fail "unclean exit after the drain timeout"
td_pass "drain timeout: remaining client disconnected, clean stop"

# Drain-wait (2 s) before drain-timeout: the tunnel is ended without a
# DISCONNECT, so the client tries to reconnect (elsewhere, behind a load
# balancer; here nobody listens any more) instead of quitting.
rm -f "$LAB_DIR/file.log"
start 30 2
lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "c2 did not connect"
kill -QUIT "$TD_PID"
td_log_wait "draining: ending 1 tunnel\(s\)" 6 || td_fail "the tunnel was not ended after drain-wait"
td_log_wait "stopping \(all tunnels ended\)" 5 || td_fail "did not stop once the tunnel was ended"
lab_wait_event c2 attempt-reconnect 1 15 || td_fail "c2 did not try to reconnect"
grep -q "Server shutting down" "$LAB_DIR/c2.oc.log" && td_fail "c2 was told to quit"
lab_client_signal c2 INT
td_stop || td_fail "unclean exit after the drain"
td_pass "drain-wait: the tunnel ended without a DISCONNECT, the client reconnects, clean stop"
