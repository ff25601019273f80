#!/bin/bash
# Fault injection: what an operator's bad day looks like, and that tunneld
# comes through it.
#   1. The password file vanishes, then a reload: the reload fails cleanly,
#      the old users still log in.
#   2. The log destination fails (writes to /dev/full, as on a full disk):
#      logins, tunnels and log forwarding go on; once the log works again it
#      says how many lines were lost.
#   3. kill -9 of the master: the workers exit promptly, nothing holds the
#      port or the tunnel device, and a restart works at once.
#   4. The tunnel device is deleted under the running daemon: a clear error
#      and a clean exit with status 1.
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init faults
lab_make_cert
lab_add_client c1
lab_add_client c2
td_users alice:alice-pass
TD_WORKERS=2 TD_LOG_LEVEL=info td_config

children() { # of the master $1 named $2: tunneld (workers), tunneld-hash (hashing)
	local p
	for p in /proc/[0-9]*; do
		[ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$1" ] &&
			[ "$(cat "$p/comm" 2>/dev/null)" = "$2" ] && echo "${p#/proc/}"
	done
	return 0
}
worker_pids() { children "$1" tunneld; }

# 1. The password file vanishes during a reload.
td_start
mv "$LAB_DIR/passwd" "$LAB_DIR/passwd.away"
kill -HUP "$TD_PID"
td_log_wait "reload failed.*passwd" 5 || td_fail "a reload without the password file was not refused"
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "alice could not log in after the failed reload"
lab_ping_ok c1 198.18.1.2 || td_fail "no traffic after the failed reload"
mv "$LAB_DIR/passwd.away" "$LAB_DIR/passwd"
td_pass "password file gone: reload refused, old users still log in"

# 2. The log destination fails: /dev/full takes no line.
sed -i "s|^log = .*|log = { level = \"info\"; destination = \"/dev/full\"; };|" "$LAB_DIR/tunneld.conf"
kill -HUP "$TD_PID"
sleep 1 # the reload's own lines go to /dev/full
lab_client_signal c1 INT
lab_client_exited c1 10 >/dev/null || td_fail "c1 did not exit"
for i in 1 2 3; do # logins and logouts: each writes log lines that fail
	lab_start_client c2 alice alice-pass
	lab_wait_client c2 20 || td_fail "login $i failed while the log destination failed"
	lab_ping_ok c2 198.18.1.2 2 || td_fail "no traffic while the log destination failed"
	lab_client_signal c2 INT
	lab_client_exited c2 10 >/dev/null || td_fail "c2 did not exit"
done
sed -i "s|destination = \"/dev/full\"|destination = \"$LAB_DIR/after.log\"|" "$LAB_DIR/tunneld.conf"
kill -HUP "$TD_PID"
TD_LOG=$LAB_DIR/after.log
td_log_wait "log line\(s\) lost: the log destination failed" 5 ||
	td_fail "no count of the lost log lines"
lost=$(grep -oE "[0-9]+ log line\(s\) lost" "$LAB_DIR/after.log" | head -1 | cut -d' ' -f1)
[ "$lost" -ge 6 ] || td_fail "only $lost lost lines counted for 3 logins and logouts"
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "login failed after the log came back"
td_log_wait "logged in" 5 || td_fail "no login line once the log works again"
TD_LOG=$LAB_DIR/tunneld.log
td_pass "log destination failing: service and forwarding went on, $lost lost lines reported"

# 3. kill -9 of the master.
master=$TD_PID
# Its children: 2 workers and the key process; all die with it.
workers=$(worker_pids "$master")
[ "$(echo "$workers" | wc -w)" = 2 ] || td_fail "expected 2 workers, found: $workers"
hashers=$(children "$master" tunneld-hash)
[ -n "$hashers" ] || td_fail "no hashing process found"
keyp=$(children "$master" tunneld-key)
[ "$(echo "$keyp" | wc -w)" = 1 ] || td_fail "expected 1 key process, found: $keyp"
kill -9 "$master"
deadline=$(($(lab__now_ms) + 3000))
for w in $workers $hashers $keyp; do
	while lab_alive "$w"; do
		[ "$(lab__now_ms)" -lt $deadline ] || td_fail "process $w still runs 3 s after the master died"
		sleep 0.05
	done
done
lab_srv ss -Hltn "sport = :$LAB_PORT" | grep -q . && td_fail "the port is still held"
lab_srv ip link show vpns0 >/dev/null 2>&1 && td_fail "the tunnel device is still there"
lab_client_signal c1 KILL # its server state is gone
TD_PID=""
sed -i "s|^log = .*|log = { level = \"info\"; };|" "$LAB_DIR/tunneld.conf"
mv "$LAB_DIR/tunneld.log" "$LAB_DIR/tunneld.log.1"
# Started as our child (not via td_start's $(...)), so its status can be read.
lab_bg srv "$TD_LOG" "$TD_BIN" -f -c "$LAB_DIR/tunneld.conf" >/dev/null
TD_PID=$LAB_BG_PID
td_log_wait 'master: info: ready:' 10 || td_fail "restart after kill -9 failed"
lab_start_client c2 alice alice-pass
lab_wait_client c2 20 || td_fail "no login after the restart"
lab_ping_ok c2 198.18.1.2 || td_fail "no traffic after the restart"
td_pass "kill -9 of the master: workers and hashing processes gone at once, port and device free, restart works"

# 4. The tunnel device is deleted under the daemon.
master=$TD_PID
workers=$(worker_pids "$master")
lab_srv ip link del vpns0
deadline=$(($(lab__now_ms) + 5000))
while lab_alive "$master"; do
	[ "$(lab__now_ms)" -lt $deadline ] || td_fail "still running 5 s after the device was deleted"
	sleep 0.05
done
wait "$master" 2>/dev/null && rc=0 || rc=$?
[ "$rc" = 1 ] || td_fail "exit status $rc, expected 1"
grep -q "the tunnel device vpns0 is gone" "$TD_LOG" || td_fail "no clear error in the log"
grep -q "master: info: stopped" "$TD_LOG" || td_fail "no orderly stop"
for w in $workers; do lab_alive "$w" && td_fail "worker $w outlived the master"; done
[ "$(td_log_count respawning)" = 0 ] || td_fail "workers were respawned onto a dead device"
TD_PID=""
td_pass "tunnel device deleted: clear error, orderly stop, exit status 1"
