#!/bin/bash
# Workers and the key process are confined: not root, chrooted into an
# empty directory, no_new_privs, seccomp filter mode.  In test builds a worker told to open
# a file is killed by the filter; the master logs it and respawns the
# worker in the same slot, and the client comes back with its address.
#
#   c1 ==tunnel== tunneld (master root; workers nobody:nogroup, seccomp) --- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init sandbox
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_WORKERS=2 td_config
td_start
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
ip4=$(lab_client_state c1 ip4)

# The master's children: 2 workers and the key process.
workers=$(pgrep -P "$TD_PID" || true)
[ "$(echo "$workers" | wc -w)" = 3 ] ||
	td_fail "expected 2 workers and the key process, found: $(echo $workers)"
nobody=$(id -u nobody)
for w in $workers; do
	st=/proc/$w/status
	uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$st")
	[ "$uids" = "$nobody $nobody $nobody $nobody" ] || td_fail "worker $w uids: $uids"
	[ "$(awk '/^Gid:/ {print $2}' "$st")" != 0 ] || td_fail "worker $w gid 0"
	[ "$(awk '/^Seccomp:/ {print $2}' "$st")" = 2 ] || td_fail "worker $w not in seccomp filter mode"
	[ "$(awk '/^NoNewPrivs:/ {print $2}' "$st")" = 1 ] || td_fail "worker $w lacks no_new_privs"
	root=$(readlink "/proc/$w/root")
	case $root in */tunneld/empty) ;; *) td_fail "worker $w root is '$root'" ;; esac
	[ -z "$(ls -A "$root")" ] || td_fail "chroot $root is not empty"
done
[ "$(awk '/^Uid:/ {print $2}' "/proc/$TD_PID/status")" = 0 ] || td_fail "master is not root"
td_pass "workers and key process: uid $nobody, seccomp filter, no_new_privs, root $root (empty)"

if ! "$TD_BIN" --version | grep -q "test hooks"; then
	echo "SKIP: the forbidden-syscall trigger needs --enable-test-hooks"
	td_stop || td_fail "unclean stop"
	exit 0
fi
# Kill the worker that holds the tunnel through the filter.
slot=$(sed -n 's/.*tunnel up for .alice. .* on worker \([0-9]\).*/\1/p' "$TD_LOG" | tail -1)
victim=$(sed -n "s/.*worker $slot started as pid \([0-9]*\).*/\1/p" "$TD_LOG" | tail -1)
TD_SECCOMP_EXPECTED=openat # the trap build logs the provoked one
kill -USR2 "$victim"
# Killed by SIGSYS; a --enable-seccomp-trap build names the syscall and
# exits with status 70 instead.
td_log_wait "worker $slot \(pid $victim\) (killed by signal 31 \(Bad system call\)|exited with status 70)" 5 ||
	td_fail "no log of the seccomp kill"
if grep -q "pid $victim) exited with status 70" "$TD_LOG"; then
	grep -q "seccomp: forbidden syscall openat" "$TD_LOG" || td_fail "the trap did not name openat"
fi
td_log_wait "worker $slot: respawning" 5 || td_fail "worker not respawned"
lab_wait_event c1 reconnect 1 30 || td_fail "client did not reconnect"
lab_wait_client c1 20 || td_fail "client not up after the respawn"
[ "$(lab_client_state c1 ip4)" = "$ip4" ] || td_fail "address changed after the respawn"
lab_ping_ok c1 198.18.1.2 || td_fail "no traffic after the respawn"
[ "$(pgrep -P "$TD_PID" | wc -l)" = 3 ] || td_fail "not two workers and the key process after the respawn"
td_pass "forbidden openat killed worker $slot; respawned; client back on $ip4"
td_stop || td_fail "unclean stop"
