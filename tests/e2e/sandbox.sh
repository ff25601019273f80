#!/bin/bash
# Workers and the key process are confined: not root, chrooted into an empty directory,
# no_new_privs, Landlock where the kernel has it, seccomp filter mode, fds
# 0-2 on /dev/null.  In test builds SIGUSR2 makes a worker try what a
# taken-over one would (worker/testhook.c); each try kills it, the master
# logs it and respawns the worker in the same slot:
#   - open a file (the worker holding the client: it comes back with its
#     address);
#   - make a page executable, or map one (seccomp: no PROT_EXEC);
#   - SIGSTOP the sibling worker (seccomp: tgkill only to itself);
#   - write a forged line to stderr (seccomp: no I/O on fds 0-2).
#
#   c1 ==tunnel== tunneld (master root; workers nobody:nogroup, seccomp) --- lan
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init sandbox
grep -q '^#define TEST_HOOKS 1' "$TD_TOP/config.h" 2>/dev/null || {
	echo "SKIP: the forbidden-syscall triggers need --enable-test-hooks"
	exit 77
}
lab_make_cert
lab_add_client c1
td_users alice:alice-pass
TD_WORKERS=2 td_config
td_start
lab_start_client c1 alice alice-pass
lab_wait_client c1 20 || td_fail "client did not connect"
ip4=$(lab_client_state c1 ip4)

workers=$(pgrep -x -P "$TD_PID" tunneld || true) # not the hashing processes
[ "$(echo "$workers" | wc -w)" = 2 ] || td_fail "expected 2 workers, found: $workers"
keyp=$(pgrep -x -P "$TD_PID" tunneld-key || true)
[ "$(echo "$keyp" | wc -w)" = 1 ] || td_fail "expected 1 key process, found: $keyp"
nobody=$(id -u nobody)
for w in $workers $keyp; do
	st=/proc/$w/status
	uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$st")
	[ "$uids" = "$nobody $nobody $nobody $nobody" ] || td_fail "worker $w uids: $uids"
	[ "$(awk '/^Gid:/ {print $2}' "$st")" != 0 ] || td_fail "worker $w gid 0"
	[ "$(awk '/^Seccomp:/ {print $2}' "$st")" = 2 ] || td_fail "worker $w not in seccomp filter mode"
	[ "$(awk '/^NoNewPrivs:/ {print $2}' "$st")" = 1 ] || td_fail "worker $w lacks no_new_privs"
	root=$(readlink "/proc/$w/root")
	case $root in */tunneld/empty) ;; *) td_fail "worker $w root is '$root'" ;; esac
	[ -z "$(ls -A "$root")" ] || td_fail "chroot $root is not empty"
	fds="0 1 2"
	# a --enable-seccomp-trap build keeps the key process's stderr for the
	# name of a forbidden syscall (it has no log socket to report through)
	[ "$w" = "$keyp" ] && grep -q '^#define SECCOMP_TRAP 1' "$TD_TOP/config.h" && fds="0 1"
	for fd in $fds; do
		[ "$(readlink "/proc/$w/fd/$fd")" = /dev/null ] ||
			td_fail "worker $w: fd $fd is $(readlink "/proc/$w/fd/$fd"), not /dev/null"
	done
done
[ "$(awk '/^Uid:/ {print $2}' "/proc/$TD_PID/status")" = 0 ] || td_fail "master is not root"
n=$(td_log_count 'worker [01]: debug: Landlock: (no file system access \(ABI [0-9]+\)|not available)')
[ "$n" = 2 ] || td_fail "$n workers logged whether Landlock applies, not 2"
td_pass "workers and the key process: uid $nobody, seccomp filter, no_new_privs, root $root (empty), fds 0-2 /dev/null;" \
	"$(sed -n 's/.*worker 0: debug: \(Landlock.*\)/\1/p' "$TD_LOG")"

# Every try below; a --enable-seccomp-trap build names the syscall and
# exits with status 70 instead of dying of SIGSYS.
TD_SECCOMP_EXPECTED='openat|mprotect|mmap|tgkill|write'

# The pid of worker $1 once it is ready, other than $2 (bounded wait).
worker_pid() {
	local slot=$1 old=${2:-} pid deadline
	deadline=$(($(lab__now_ms) + 15000))
	while [ "$(lab__now_ms)" -lt $deadline ]; do
		pid=$(sed -n "s/.*worker $slot started as pid \([0-9]*\).*/\1/p" "$TD_LOG" | tail -1)
		if [ -n "$pid" ] && [ "$pid" != "$old" ] &&
			grep -q "worker $slot ready (pid $pid)" "$TD_LOG"; then
			echo "$pid"
			return 0
		fi
		sleep 0.1
	done
	echo "worker_pid: no ready worker $slot (other than ${old:-none}) after 15 s" >&2
	return 1
}

# try SLOT VALUE SYSCALL WHAT: SIGUSR2 with VALUE to worker SLOT, which must
# die of SYSCALL and be respawned.
try() {
	local slot=$1 value=$2 sc=$3 what=$4 pid
	pid=$(worker_pid "$slot") || td_fail "worker $slot not ready"
	/bin/kill -s USR2 -q "$value" "$pid"
	td_log_wait "worker $slot \(pid $pid\) (killed by signal 31 \(Bad system call\)|exited with status 70)" 5 ||
		td_fail "$what did not kill worker $slot"
	if grep -q "pid $pid) exited with status 70" "$TD_LOG"; then
		grep -q "seccomp: forbidden syscall $sc " "$TD_LOG" || td_fail "the trap did not name $sc"
	fi
	worker_pid "$slot" "$pid" >/dev/null || td_fail "worker $slot not respawned"
	td_pass "$what killed worker $slot (pid $pid); respawned"
}

# Kill the worker that holds the tunnel through the filter.
slot=$(sed -n 's/.*tunnel up for .alice. .* on worker \([0-9]\).*/\1/p' "$TD_LOG" | tail -1)
try "$slot" 0 openat "a forbidden openat"
lab_wait_event c1 reconnect 1 30 || td_fail "client did not reconnect"
lab_wait_client c1 20 || td_fail "client not up after the respawn"
[ "$(lab_client_state c1 ip4)" = "$ip4" ] || td_fail "address changed after the respawn"
lab_ping_ok c1 198.18.1.2 || td_fail "no traffic after the respawn"
[ "$(pgrep -x -P "$TD_PID" tunneld | wc -l)" = 2 ] || td_fail "not two workers after the respawn"
td_pass "worker $slot respawned; client back on $ip4"

# The other worker (no client) tries the rest, one respawn after another.
slot=$(sed -n 's/.*tunnel up for .alice. .* on worker \([0-9]\).*/\1/p' "$TD_LOG" | tail -1)
other=$((1 - slot))
holder=$(worker_pid "$slot") || td_fail "worker $slot not ready"
try "$other" 2 mprotect "mprotect(PROT_EXEC)"
try "$other" 3 mmap "mmap(PROT_EXEC)"
try "$other" $((holder * 256 + 4)) tgkill "tgkill(worker $slot, SIGSTOP)"
state=$(awk '{print $3}' "/proc/$holder/stat")
[ "$state" != T ] || td_fail "worker $slot (pid $holder) was stopped by its sibling"
try "$other" 5 write "write(2)"
! grep -q "forged emergency" "$TD_LOG" || td_fail "a worker wrote to the master's stderr"
! grep -E 'test hook: [a-z]+\([^)]*\): ' "$TD_LOG" || td_fail "a try returned instead of killing"
lab_ping_ok c1 198.18.1.2 || td_fail "client c1 lost its traffic"
[ "$(lab_event_count c1 reconnect)" = 1 ] || td_fail "c1 reconnected again"
td_pass "worker $other respawned after each try; c1 ($ip4, worker $slot) kept its traffic"
td_stop || td_fail "unclean stop"

# With a log file, no worker holds it (a taken-over one could append lines
# of its own, past the master's levels and rate limit).
TD_LOG_FILE=$LAB_DIR/file.log TD_WORKERS=2 td_config
TD_LOG_FILE=$LAB_DIR/file.log td_start
grep -q "master: info: ready" "$LAB_DIR/file.log" || td_fail "the log file is not in use"
for w in $(pgrep -x -P "$TD_PID" tunneld); do
	for f in "/proc/$w/fd/"*; do
		[ "$(readlink "$f")" != "$LAB_DIR/file.log" ] ||
			td_fail "worker $w holds the log file as fd ${f##*/}"
	done
done
td_pass "log.destination is a file: no worker holds it"
td_stop || td_fail "unclean stop"
