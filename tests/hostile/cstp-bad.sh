#!/bin/bash
# Bad CSTP frames inside a tunnel (after a real login and CONNECT): wrong
# magic, a length beyond the MTU, an unknown type, COMPRESSED (never
# negotiated), a non-zero reserved byte.  The server closes that tunnel and
# logs why; its worker and every other client carry on.
#
#   c1 hostile: login, CONNECT, DPD answered, then one bad frame --+
#   c2 openconnect (alice, pinging the lan throughout) ------------+-- tunneld
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init cstpbad
lab_add_client c1
lab_add_client c2
hl_users alice:alice-pass
# Each bad frame ends a tunnel but keeps its session for a reconnect: six
# sessions of alice by the end.
TD_EXTRA="limits = { max-sessions-per-user = 0; };" td_config
td_start
lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "openconnect did not connect"
pids0=$(hl_ctl --json status | jq -c '[.workers[].pid]')
lab_bg c2 "$LAB_DIR/ping.log" ping -n -i 0.1 -c 40 -W 2 198.18.1.2 >/dev/null
ping_pid=$LAB_BG_PID

for kind in magic length type compressed reserved; do
	hl c1 cstp $kind || td_fail "a frame with a bad $kind did not close the tunnel"
done
bad() { td_log_count "session [0-9]+: bad CSTP frame from 198\.18\.0\.10:[0-9]+: $1"; }
[ "$(bad 'bad CSTP magic')" -ge 1 ] || td_fail "no log line for the bad magic"
[ "$(bad 'CSTP frame too long')" -ge 1 ] || td_fail "no log line for the long frame"
[ "$(bad 'unknown CSTP packet type')" -ge 3 ] ||
	td_fail "no log lines for the unknown type, COMPRESSED and the reserved byte"
td_pass "5 kinds of bad frame: each tunnel closed, each logged"

wait "$ping_pid" || true
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$LAB_DIR/ping.log")
[ "$received" = 40 ] || td_fail "alice's pings meanwhile: '$received' of 40 answered"
[ "$(lab_event_count c2 reconnect)" = 0 ] || td_fail "alice reconnected"
[ "$(hl_ctl --json status | jq -c '[.workers[].pid]')" = "$pids0" ] || td_fail "a worker was replaced"
hl c1 cycles 3 -j 1 || td_fail "a new client could not log in afterwards"
td_stop || td_fail "unclean stop"
td_pass "alice undisturbed (40/40 pings), same worker, new logins work ($(hl_elapsed) s)"
