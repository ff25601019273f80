#!/bin/bash
# Answers from the master to a worker are never lost: with the control
# socket shrunk to a few messages (test builds: TUNNELD_TEST_IPCBUF), 32
# clients logging in at once overflow it, the answers wait in the master's
# backlog, and every login still completes.  Reloads with a new
# certificate during that flood reach the worker too: IPC_TLS waits in
# the backlog's order like the rest, and the groups' policy pushed by the
# same reload (IPC_POLICY) has its own place (it once replaced the
# waiting certificate, which was then lost).  Each reload's certificate
# is loaded by the worker before the next reload, as the worker reports
# in `tunnelctl status` (its certificate generation); afterwards a client
# pinned to the newest certificate connects.
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init ipcbl
lab_need jq
lab_add_client c1
hl_users alice:alice-pass
grep -q '^#define TEST_HOOKS 1' "$TD_TOP/config.h" 2>/dev/null || {
	echo "SKIP: needs --enable-test-hooks"
	exit 77
}
# 32 clients of one user at once.
TD_WORKERS=1 TD_LOG_LEVEL=info TD_EXTRA="limits = { max-sessions-per-user = 0; };" td_config
TUNNELD_TEST_IPCBUF=4096 td_start
# The logins go on until the four reloads are done (at least 400).
touch "$LAB_DIR/flooding"
hl_bg c1 "$LAB_DIR/cycles.log" -w 20000 cycles 400 -j 32 --limit 120 --while-file "$LAB_DIR/flooding"
cycles=$LAB_BG_PID
# A new certificate and key, reloaded, four times while the logins run.
for i in 1 2 3 4; do
	sleep 0.5
	lab_make_cert
	kill -HUP "$TD_PID"
	deadline=$(($(lab__now_ms) + 10000))
	until [ "$(td_log_count "master: info: reloaded ")" -ge $i ]; do
		[ "$(lab__now_ms)" -lt $deadline ] || td_fail "reload $i did not happen"
		sleep 0.1
	done
	# The worker serves the generation the reload loaded.
	until st=$("$TD_TOP/tunnelctl" -s "$LAB_DIR/control.sock" --json status) &&
		[ "$(jq '.tls_generation > 0 and .workers[0].tls_generation == .tls_generation' <<<"$st")" = true ]; do
		[ "$(lab__now_ms)" -lt $deadline ] ||
			td_fail "the certificate of reload $i never reached the worker: $(jq -c '{tls_generation, workers}' <<<"$st")"
		sleep 0.1
	done
	[ "$(jq .tls_generation <<<"$st")" != "${gen:-}" ] || td_fail "reload $i loaded no new generation"
	gen=$(jq .tls_generation <<<"$st")
done
kill -0 "$cycles" 2>/dev/null || td_fail "the logins ended before the reloads: the test proves nothing"
rm -f "$LAB_DIR/flooding"
wait "$cycles" || { cat "$LAB_DIR/cycles.log"; td_fail "cycles failed with a tiny control socket"; }
cat "$LAB_DIR/cycles.log"
n=$(td_log_count "user 'alice' logged in from")
[ "$n" -ge 400 ] || td_fail "only $n logins in the log"
[ "$(td_log_count "control message .* lost")" = 0 ] || td_fail "control messages were lost"
[ "$(td_log_count "new certificate not delivered")" = 0 ] || td_fail "a certificate was not delivered"
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 >/dev/null || td_fail "the worker does not serve the newest certificate"
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "client did not exit"
td_stop || td_fail "unclean stop"
waited=$(sed -n 's/.*: \([0-9]*\) control messages waited for room.*/\1/p' "$TD_LOG")
[ "${waited:-0}" -gt 0 ] || td_fail "the backlog was never used: the test proves nothing"
td_pass "400 logins, 32 at a time, and 4 certificate reloads through a 4 KiB control socket:" \
	"$waited messages waited, none lost; the newest certificate served"
