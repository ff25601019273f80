#!/bin/bash
# Answers from the master to a worker are never lost: with the control
# socket shrunk to a few messages (test builds: TUNNELD_TEST_IPCBUF), 32
# clients logging in at once overflow it, the answers wait in the master's
# backlog, and every login still completes.
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init ipcbl
lab_add_client c1
hl_users alice:alice-pass
grep -q '^#define TEST_HOOKS 1' "$TD_TOP/config.h" 2>/dev/null || {
	echo "SKIP: needs --enable-test-hooks"
	exit 77
}
# 32 clients of one user at once.
TD_WORKERS=1 TD_LOG_LEVEL=info TD_EXTRA="limits = { max-sessions-per-user = 0; };" td_config
TUNNELD_TEST_IPCBUF=4096 td_start
hl c1 -w 20000 cycles 400 -j 32 --limit 120 || td_fail "cycles failed with a tiny control socket"
n=$(td_log_count "user 'alice' logged in from")
[ "$n" -ge 400 ] || td_fail "only $n logins in the log"
[ "$(td_log_count "control message .* lost")" = 0 ] || td_fail "control messages were lost"
td_stop || td_fail "unclean stop"
waited=$(sed -n 's/.*: \([0-9]*\) control messages waited for room.*/\1/p' "$TD_LOG")
[ "${waited:-0}" -gt 0 ] || td_fail "the backlog was never used: the test proves nothing"
td_pass "400 logins, 32 at a time, through a 4 KiB control socket: $waited answers waited, none lost"
