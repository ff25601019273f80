#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fd budget.  (1) Under `ulimit -n 200` the default limits (a worker
# table of 10000 + 1024 connections) do not fit: tunneld refuses to start
# and names both numbers and the keys to lower.  (2) With limits that fit
# it starts; then the worker's limit is cut under it (prlimit) and 250 idle
# TCP connections come: accept4() fails with EMFILE, and the worker must
# neither spin on its readable listener nor log a line per turn.  (3) Once
# they are gone a real client logs in.
#
#   c1 --- 250 x TCP connect, nothing sent --+
#   c2 openconnect (alice), afterwards ------+-- tunneld, 1 worker, ulimit -n 200
set -euo pipefail
. "$(dirname "$0")/hostile-lib.sh"
hl_init fdlim
lab_need prlimit setpriv
lab_add_client c1
lab_add_client c2
hl_users alice:alice-pass
# tunneld under `ulimit -n 200` (hard and soft).
cat >"$LAB_DIR/tunneld-200" <<EOF
#!/bin/sh
ulimit -n 200 || exit 99
exec "$TD_BIN" "\$@"
EOF
chmod +x "$LAB_DIR/tunneld-200"

# (1) Defaults: refused, with a reason.
TD_WORKERS=1 hl_config
rc=0
lab_srv timeout 20 "$LAB_DIR/tunneld-200" -f -c "$LAB_DIR/tunneld.conf" >"$LAB_DIR/refused.log" 2>&1 ||
	rc=$?
if [ $rc = 0 ] || [ $rc = 124 ] || [ $rc = 99 ]; then
	tail -n 20 "$LAB_DIR/refused.log" >&2
	td_fail "tunneld started under ulimit -n 200 with a table of 11024 connections (status $rc)"
fi
grep -E "each worker may hold [0-9]+ open files .*RLIMIT_NOFILE is 200 \(hard limit 200\): lower limits.max-clients or limits.max-handshakes" \
	"$LAB_DIR/refused.log" >/dev/null || {
	cat "$LAB_DIR/refused.log" >&2
	td_fail "no message naming the numbers and the keys"
}
td_pass "refused to start: $(grep -o 'each worker may hold.*hard limit 200)' "$LAB_DIR/refused.log")"

# (2) Limits that fit; then fds run out anyway.
TD_WORKERS=1 TD_LOG_LEVEL=info hl_config limits.max-clients=100 limits.max-handshakes=40 \
	limits.max-handshakes-per-address=1000 limits.handshake-timeout=30
TD_BIN=$LAB_DIR/tunneld-200 td_start
worker=$(pgrep -x -P "$TD_PID" tunneld) # not the hashing or key processes
[ "$(echo "$worker" | wc -w)" = 1 ] || td_fail "expected one worker: $worker"
grep -q "Max open files *200 *200" "/proc/$worker/limits" || td_fail "worker limit: $(grep 'open files' "/proc/$worker/limits")"
# As the worker's own user: root may lack CAP_SYS_RESOURCE (containers).
setpriv --reuid=nobody --regid=nogroup --clear-groups prlimit --pid "$worker" --nofile=40:200 ||
	td_fail "cannot cut the worker's limit"
grep -q "Max open files *40 *200" "/proc/$worker/limits" || td_fail "the worker's limit was not cut"
hl_bg c1 "$LAB_DIR/loris.log" -t 12 loris tcp 250 --rate 1000
loris=$LAB_BG_PID
td_log_wait "accept: Too many open files" 5 || td_fail "the worker never ran out of fds: the test proves nothing"
sleep 1
cpu() { awk '{ print $14 + $15 }' "/proc/$worker/stat"; }
lines() { td_log_count "accept: "; }
cpu0=$(cpu)
l0=$(lines)
t0=$(lab__now_ms)
sleep 4
cpu1=$(cpu)
l1=$(lines)
ms=$(($(lab__now_ms) - t0))
lab_alive "$loris" || td_fail "the idle connections ended early: $(tail -n 3 "$LAB_DIR/loris.log")"
tck=$(getconf CLK_TCK)
used_ms=$(((cpu1 - cpu0) * 1000 / tck))
# A spinning worker uses the whole 4 s; one that rests 100 ms between tries
# uses a few milliseconds.
[ "$used_ms" -le $((ms / 10)) ] || td_fail "the worker used ${used_ms} ms of CPU in ${ms} ms at EMFILE"
[ $((l1 - l0)) -le $((ms / 1000 + 1)) ] || td_fail "$((l1 - l0)) accept lines in ${ms} ms: a flood"
td_pass "at EMFILE: ${used_ms} ms of CPU and $((l1 - l0)) log line(s) in ${ms} ms;" \
	"$(grep -m1 -o 'accept: Too many open files.*' "$TD_LOG")"

# (3) The flood gone (its connections closed), the worker takes
# connections again, under the same cut limit.
wait "$loris" || true
lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "alice did not connect after the flood"
lab_ping_ok c2 198.18.1.2 || td_fail "no traffic for alice"
td_pass "after the flood alice connected and has traffic"
td_stop || td_fail "unclean stop"
