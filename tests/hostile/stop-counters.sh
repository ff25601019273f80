#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A stop loses no tunnel's counters.  120 tunnels (RADIUS logins through
# Debian's FreeRADIUS) each send one packet and tunneld stops at once
# (SIGTERM), before the worker's periodic report: each tunnel's count is
# only in the report of its close.  With the control socket shrunk to a
# few messages (test builds: TUNNELD_TEST_IPCBUF) most of those reports
# wait in the worker's queue; the worker sends them before it exits, and
# the master takes those it had not read when it reaps the worker.  Every
# session-end line and every accounting Stop then counts its packet.
# Once, the reports not read before the reap were dropped (a Stop that
# counted none of the last pings, seen in CI), and a worker's queue was
# lost when it exited.
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
. "$(dirname "$0")/../e2e/lib/radius.sh"
hl_init stopctr
lab_add_client c1
grep -q '^#define TEST_HOOKS 1' "$TD_TOP/config.h" 2>/dev/null || {
	echo "SKIP: needs --enable-test-hooks"
	exit 77
}
N=120
rad_start 'alice Cleartext-Password := "alice-pass"'
TD_WORKERS=1 TD_LOG_LEVEL=info TD_AUTH='' \
	TD_EXTRA="$(rad_td_extra) limits = { max-sessions-per-user = 0; };" td_config
TUNNELD_TEST_IPCBUF=4096 td_start
t0=$(lab__now_ms)
hl_bg c1 "$LAB_DIR/hold.log" -t 90 hold $N --ping 198.18.1.2
hold=$LAB_BG_PID
deadline=$(($(lab__now_ms) + 90000))
until grep -q '^hold: holding' "$LAB_DIR/hold.log"; do
	kill -0 "$hold" 2>/dev/null || { cat "$LAB_DIR/hold.log"; td_fail "hold ended early"; }
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "the $N tunnels did not come up in 90 s"
	sleep 0.1
done
[ "$(grep -c 'connect=200$' "$LAB_DIR/hold.log")" = $N ] || {
	cat "$LAB_DIR/hold.log"
	td_fail "not every tunnel connected"
}
td_stop || td_fail "unclean stop"
kill "$hold" 2>/dev/null || true
wait "$hold" 2>/dev/null || true
ends=$(grep -c 'session-end id=' "$TD_LOG" || true)
[ "$ends" = $N ] || td_fail "$ends session-end lines for $N sessions"
none=$(grep 'session-end id=' "$TD_LOG" | grep -c ' rx_pkts=0 ' || true)
[ "$none" = 0 ] || td_fail "$none of $N sessions ended counting none of their packets"
stops=$(rad_records | grep -F '| Acct-Status-Type = Stop |')
[ "$(grep -c . <<<"$stops")" = $N ] || td_fail "$(grep -c . <<<"$stops") Stops for $N sessions"
none=$(grep -cF '| Acct-Input-Packets = 0 |' <<<"$stops" || true)
[ "$none" = 0 ] || td_fail "$none of $N Stops count none of the session's packets"
[ "$(td_log_count "not sent")" = 0 ] || td_fail "the worker exited with reports unsent"
td_pass "$N tunnels stopped at once through a 4 KiB control socket: each one's packet in its" \
	"session-end and its Stop ($(($(lab__now_ms) - t0)) ms from the first login)"
